"""`/plan` end to end: signed requests into the real app, replies read from the fake Slack."""

from __future__ import annotations

import logging
import time

import pytest

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.signing import slash_command_body
from store import Store
from tests.support.slackdriver import STAFF, SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")


async def test_plan_replies_with_the_subscription_summary(slack: SlackDriver) -> None:
    reply = await slack.command("")
    assert reply.status == 200

    message = (await slack.reply_to(reply)).params
    text = all_text(message)
    assert message["response_type"] == "ephemeral"
    assert "BUSINESS" in text
    assert "USD 1,299.00" in text
    assert "3,960 of 5,000 min" in text  # voice minutes, just under 80%
    assert "640 of 2,000 min" in text
    assert "37.5 of 100 GB" in text
    assert "42 of 50 assigned" in text
    assert "invoice is authoritative" in text
    assert "<!date^" in text  # dates in each reader's own time zone


async def test_staff_see_the_summary_too(slack: SlackDriver) -> None:
    assert "BUSINESS" in all_text(await slack.run("", user=STAFF))


async def test_help_lists_the_subcommands(slack: SlackDriver) -> None:
    text = all_text(await slack.run("help"))
    assert "/plan help" in text
    assert "`/plan`" in text


async def test_unknown_subcommand_gets_help(slack: SlackDriver) -> None:
    text = all_text(await slack.run("frobnicate now"))
    assert "I don't know `/plan frobnicate`" in text
    assert "/plan help" in text


async def test_unlinked_workspace_is_told_how_to_link(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    text = all_text(await slack.run("", team="T0NOTLINKED"))
    assert "isn't linked" in text
    assert "/plan link CODE" in text
    assert not [r for r in caplog.records if r.exc_info], "no traceback for an expected situation"


@pytest.mark.parametrize(
    ("secret", "age"),
    [("wrong-secret", 0), (None, 0), ("right", 6 * 60)],
    ids=["wrong-signature", "unsigned", "stale-timestamp"],
)
async def test_bad_signatures_are_refused_without_calling_slack(
    slack: SlackDriver, fake_slack: FakeSlack, secret: str | None, age: int
) -> None:
    body = slash_command_body(
        "/plan", "", team_id="T0DEMO", user_id="U1", response_url=fake_slack.new_response_url()
    )
    if secret is None:
        response = await slack.http.post(
            "/slack/events", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    elif secret == "right":
        response = await slack.post(body, timestamp=int(time.time()) - age)
    else:
        from bot.devtools.signing import signed_headers

        response = await slack.http.post("/slack/events", data=body, headers=signed_headers(secret, body))
    assert response.status == 401
    assert fake_slack.calls == []


async def test_each_workspace_sees_only_its_own_account(slack: SlackDriver, store: Store) -> None:
    from bot.demo import demo_document
    from tests.support.clock import DEMO_NOW

    other = demo_document(DEMO_NOW).model_copy(update={"company_name": "Other Co", "plan_name": "Essentials"})
    await store.accounts.upsert("other", other)
    await store.workspaces.link("T0OTHER", "other")

    assert "Essentials" in all_text(await slack.run("", team="T0OTHER"))
    assert "BUSINESS" in all_text(await slack.run("", team="T0DEMO"))
