"""The App Home: published on open (Home tab only) and on tab clicks; the last tab is remembered."""

from __future__ import annotations

import pytest

from bot.devtools.fake_slack import FakeSlack
from handlers.home import HomeTab
from tests.support.slackdriver import ADMIN, SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")


def home_opened(user: str = ADMIN, tab: str = "home") -> dict[str, object]:
    return {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, "event_ts": "1.2"}


async def test_opening_the_home_tab_publishes_plan_monitoring(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.event(home_opened())).status == 200
    published = await fake_slack.wait_for("views.publish")
    assert published.params["user_id"] == ADMIN
    text = all_text(published.params)
    assert "Plan Monitoring" in text
    assert "BUSINESS" in text


async def test_the_messages_tab_publishes_nothing(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert (await slack.event(home_opened(tab="messages"))).status == 200
    # A Home-tab open afterwards is the first publish: the messages-tab event published nothing.
    await slack.event(home_opened(user="U0OTHER"))
    first = await fake_slack.wait_for("views.publish")
    assert first.params["user_id"] == "U0OTHER"
    assert len(fake_slack.calls_to("views.publish")) == 1


async def test_tab_clicks_publish_that_tab_and_it_is_remembered(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.click_tab(HomeTab.COMPANY)).status == 200
    clicked = await fake_slack.wait_for("views.publish")
    buttons = clicked.params["view"]["blocks"][1]["elements"]
    assert [b.get("style") for b in buttons] == [None, "primary", None]

    await slack.event(home_opened())
    reopened = await fake_slack.wait_for("views.publish", count=2)
    assert reopened.params["view"]["blocks"][1]["elements"][1].get("style") == "primary"


async def test_an_unlinked_workspace_home_explains_linking(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event(home_opened(), team="T0NOTLINKED")
    assert "isn't linked" in all_text((await fake_slack.wait_for("views.publish")).params)


async def test_web_api_calls_reuse_kept_alive_connections(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    """One Home open after another: both views.publish calls travel over one connection (no handshake each)."""
    for opened in (1, 2):
        assert (await slack.event(home_opened())).status == 200
        await fake_slack.wait_for("views.publish", count=opened)
    first, second = fake_slack.calls_to("views.publish")
    assert first.peer is not None
    assert first.peer == second.peer
