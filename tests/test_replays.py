"""A signed request that arrives again (replayed within its five signed minutes, or delivered twice) is
acknowledged with an empty 200 and never reaches a listener: one upgrade request and one Sales post per
submitted view, one change per click, one answer per command."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.demo import DEMO_ACCOUNT
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import (
    JSON_CONTENT_TYPE,
    block_actions_payload,
    block_suggestion_payload,
    event_body,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)
from handlers.company.ids import Action as CompanyAction
from handlers.event_dedupe import Replays, replay_key
from handlers.home import TAB_BUTTON, HomeTab, TabChoice
from handlers.services import Services
from handlers.upgrade.form import UpgradeModalMetadata
from handlers.upgrade.ids import Callback as UpgradeCallback
from store import Store
from tests.support.installs import Http
from tests.support.slackdriver import ADMIN, SIGNING_SECRET, TEAM, all_text
from tests.support.spied_app import spied_app
from tests.support.upgrade import upgrade_state

pytestmark = pytest.mark.usefixtures("demo")

SALES = "C0SALES"


class App:
    """The real app, with a spy middleware (after ours) noting each request that reaches the listeners."""

    def __init__(self, http: Http, dispatched: list[str]) -> None:
        self.http = http
        self.dispatched = dispatched

    async def send(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        response = await self.http.post("/slack/events", data=body.encode(), headers=headers)
        return response.status, await response.text()


async def start_app(services: Services) -> AsyncIterator[App]:
    async for http, dispatched in spied_app(
        services, lambda body: str(body.get("type") or body.get("command"))
    ):
        yield App(http, dispatched)


@pytest.fixture
async def app(services: Services) -> AsyncIterator[App]:
    async for started in start_app(services):
        yield started


def signed(
    body: str, *, seconds_ago: int = 0, content_type: str = "application/x-www-form-urlencoded"
) -> dict[str, str]:
    return signed_headers(
        SIGNING_SECRET, body, timestamp=int(time.time()) - seconds_ago, content_type=content_type
    )


def upgrade_submission(*, note: str = "Busy season", kind: str | None = "voice_minutes") -> dict[str, Any]:
    state = upgrade_state(kind=kind, quantity="500" if kind == "voice_minutes" else None, note=note)
    return view_submission_payload(
        team_id=TEAM,
        user_id=ADMIN,
        callback_id=UpgradeCallback.UPGRADE,
        state_values=state,
        private_metadata=UpgradeModalMetadata(account_id=DEMO_ACCOUNT).encode(),
        view_id="V0UPGRADE",
        hash="1712345678.AbCdEf",
    )


def to_sales(call: RecordedCall) -> bool:
    return call.params.get("channel") == SALES


def dm_to_admin(call: RecordedCall) -> bool:
    return call.params.get("channel") == ADMIN


# ------------------------------------------------------------------------------------ view submissions


async def test_a_submission_replayed_minutes_later_makes_one_request_and_one_sales_post(
    app: App, fake_slack: FakeSlack, store: Store
) -> None:
    """The same body with the same headers, as captured when it was signed two minutes ago."""
    body = interactive_body(upgrade_submission())
    headers = signed(body, seconds_ago=120)

    assert await app.send(body, headers) == (200, "")
    await fake_slack.wait_for("chat.postMessage", where=dm_to_admin)  # told it is with Sales
    assert await app.send(body, headers) == (200, "")  # the replay: acked, nothing else

    assert app.dispatched == ["view_submission"]
    assert len(await store.upgrades.recent(DEMO_ACCOUNT)) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)]) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if dm_to_admin(c)]) == 1


async def test_a_submission_signed_again_is_still_the_same_submission(
    app: App, fake_slack: FakeSlack, store: Store
) -> None:
    """Re-signing (a fresh timestamp) changes nothing: the view, not the signature, is the key."""
    body = interactive_body(upgrade_submission())
    assert await app.send(body, signed(body, seconds_ago=200)) == (200, "")
    assert await app.send(body, signed(body)) == (200, "")
    await fake_slack.wait_for("chat.postMessage", where=dm_to_admin)
    assert app.dispatched == ["view_submission"]
    assert len(await store.upgrades.recent(DEMO_ACCOUNT)) == 1


async def test_replays_arriving_together_are_applied_once(
    app: App, fake_slack: FakeSlack, store: Store
) -> None:
    body = interactive_body(upgrade_submission(note="all at once"))
    headers = signed(body)

    answers = await asyncio.gather(*(app.send(body, headers) for _ in range(5)))

    assert answers == [(200, "")] * 5
    assert app.dispatched == ["view_submission"]
    await fake_slack.wait_for("chat.postMessage", where=dm_to_admin)
    assert len(await store.upgrades.recent(DEMO_ACCOUNT)) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)]) == 1


async def test_a_submission_answered_with_field_errors_is_checked_again(app: App, store: Store) -> None:
    """The modal stays open with the same view id and hash: submitting it again is no replay."""
    body = interactive_body(upgrade_submission(kind=None))

    for _ in range(2):
        status, answer = await app.send(body, signed(body))
        assert status == 200
        assert '"response_action": "errors"' in answer or '"response_action":"errors"' in answer

    assert app.dispatched == ["view_submission", "view_submission"]
    assert await store.upgrades.recent(DEMO_ACCOUNT) == []


async def test_a_replay_is_recognised_by_another_process(
    app: App, services: Services, fake_slack: FakeSlack, store: Store
) -> None:
    body = interactive_body(upgrade_submission(note="once, across processes"))
    headers = signed(body)
    assert await app.send(body, headers) == (200, "")
    await fake_slack.wait_for("chat.postMessage", where=dm_to_admin)

    async for other in start_app(Services.build(services.settings, services.store)):
        assert await other.send(body, headers) == (200, "")
        assert other.dispatched == []
    assert len(await store.upgrades.recent(DEMO_ACCOUNT)) == 1


# ---------------------------------------------------------------------------------- clicks, commands


def tab_click(tab: HomeTab) -> dict[str, Any]:
    return block_actions_payload(
        team_id=TEAM,
        user_id=ADMIN,
        action_id=TAB_BUTTON.id(tab.value),
        value=TabChoice(tab=tab).encode(),
        view={"type": "home", "id": "V0HOME"},
    )


async def test_a_replayed_click_is_applied_once_and_a_new_click_again(
    app: App, fake_slack: FakeSlack, store: Store
) -> None:
    click = interactive_body(tab_click(HomeTab.COMPANY))
    headers = signed(click)
    assert await app.send(click, headers) == (200, "")
    await fake_slack.wait_for("views.publish")
    assert await store.home.last_tab(TEAM, ADMIN) == HomeTab.COMPANY.value

    await store.home.remember_tab(TEAM, ADMIN, HomeTab.PLAN.value)  # changed since, by another click
    assert await app.send(click, headers) == (200, "")  # the replay does not change it back
    assert await store.home.last_tab(TEAM, ADMIN) == HomeTab.PLAN.value

    again = interactive_body(tab_click(HomeTab.COMPANY))  # a new click: its own action_ts
    assert again != click
    assert await app.send(again, signed(again)) == (200, "")
    await fake_slack.wait_for("views.publish", count=2)
    assert app.dispatched == ["block_actions", "block_actions"]


async def test_a_replayed_command_is_answered_once(app: App, fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    body = slash_command_body(
        "/plan", "help", team_id=TEAM, user_id=ADMIN, response_url=url, trigger_id="1.2.3"
    )
    headers = signed(body)
    assert await app.send(body, headers) == (200, "")
    await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert await app.send(body, headers) == (200, "")

    other = fake_slack.new_response_url()
    second = slash_command_body(
        "/plan", "help", team_id=TEAM, user_id=ADMIN, response_url=other, trigger_id="4.5.6"
    )
    assert await app.send(second, signed(second)) == (200, "")
    await fake_slack.wait_for("response_url", where=lambda c: c.url == other)
    assert app.dispatched == ["/plan", "/plan"]
    assert len([c for c in fake_slack.calls_to("response_url") if c.url == url]) == 1
    assert "/plan" in all_text(fake_slack.calls_to("response_url")[0].params)


async def test_type_ahead_is_never_taken_for_a_replay(app: App) -> None:
    """Options requests change nothing and carry their answer in the ack: each is answered."""
    body = interactive_body(
        block_suggestion_payload(
            team_id=TEAM, user_id=ADMIN, action_id=CompanyAction.COMPANY_COUNTRY, value="Sing"
        )
    )
    headers = signed(body)
    first = await app.send(body, headers)
    assert first[0] == 200
    assert "Singapore" in first[1]
    assert await app.send(body, headers) == first
    assert app.dispatched == ["block_suggestion", "block_suggestion"]


# -------------------------------------------------------------------------------------------- keys


def test_replay_keys_name_the_view_the_action_and_the_command() -> None:
    submission = upgrade_submission()
    assert replay_key(submission) == replay_key(upgrade_submission())
    assert replay_key(submission) != replay_key(upgrade_submission(note="another note"))
    assert replay_key(submission) != replay_key(submission | {"view": submission["view"] | {"hash": "h2"}})
    assert replay_key(submission) != replay_key(submission | {"view": submission["view"] | {"id": "V0OTHER"}})

    click = tab_click(HomeTab.PLAN)
    assert replay_key(click) == replay_key(dict(click))
    later = click | {"actions": [click["actions"][0] | {"action_ts": "1700000001.000002"}]}
    assert replay_key(click) != replay_key(later)
    assert replay_key(click) != replay_key(click | {"user": click["user"] | {"id": "U0OTHER"}})

    command = {
        "command": "/plan",
        "team_id": TEAM,
        "user_id": ADMIN,
        "trigger_id": "1.2",
        "response_url": "u",
    }
    assert replay_key(command) != replay_key(command | {"trigger_id": "1.3"})

    assert replay_key({"type": "event_callback", "event_id": "Ev0ABC"}) == "Ev0ABC"
    assert replay_key({"type": "event_callback", "event_id": "Ev" + "X" * 100}) != "Ev" + "X" * 100
    assert replay_key({"type": "block_suggestion", "action_id": "a"}) is None
    assert all(
        len(key or "") <= 64 for key in (replay_key(submission), replay_key(click), replay_key(command))
    )


async def test_a_request_that_failed_gives_its_key_back(store: Store) -> None:
    """A 5xx (Slack retries events that failed) or field errors: the request was not applied."""
    replays = Replays(store)
    body = upgrade_submission()

    async def claim() -> tuple[bool, AsyncBoltRequest]:
        request = AsyncBoltRequest(
            body=interactive_body(body), headers={"content-type": "application/x-www-form-urlencoded"}
        )
        went_on: list[bool] = []

        async def next() -> None:
            went_on.append(True)

        await replays(request.body, request, request.context, next)
        return bool(went_on), request

    dispatched, request = await claim()
    assert dispatched
    await replays.settle(request, BoltResponse(status=500, body=""))
    dispatched, request = await claim()
    assert dispatched  # given back: handled again
    await replays.settle(
        request, BoltResponse(status=200, body='{"response_action": "errors", "errors": {}}')
    )
    dispatched, request = await claim()
    assert dispatched
    await replays.settle(request, BoltResponse(status=200, body=""))
    assert not (await claim())[0]  # applied: kept


async def test_an_event_is_keyed_by_its_id_whatever_its_headers(app: App) -> None:
    home = {"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME", "tab": "messages"}
    body = event_body(home, team_id=TEAM, event_id="Ev0ONCE")
    for retry in (None, None, "1"):
        headers = signed(body, content_type=JSON_CONTENT_TYPE)
        if retry:
            headers |= {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert await app.send(body, headers) == (200, "")
    assert app.dispatched == ["event_callback"]
