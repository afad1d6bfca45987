"""Slack retries an event it thinks was missed (X-Slack-Retry-Num): one already handled is acked, not redone;
so is the same event delivered again without the header (see tests/test_replays.py for interactions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import cast

import pytest
from aiohttp import ClientResponse
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.signing import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    event_body,
    signed_headers,
    slash_command_body,
)
from handlers.event_dedupe import Replays
from handlers.services import Services
from store import Store
from store.clock import utcnow
from store.errors import StoreUnavailable
from tests.support.installs import Http
from tests.support.slackdriver import ADMIN, SIGNING_SECRET, TEAM
from tests.support.spied_app import spied_app

HOME = {"type": "app_home_opened", "user": ADMIN, "tab": "home", "channel": "D0HOME"}


class App:
    """The real app plus a spy middleware (after ours) noting which event ids reach the listeners."""

    def __init__(self, http: Http, dispatched: list[str]) -> None:
        self.http = http
        self.dispatched = dispatched

    async def deliver(
        self, body: str, retry: int | None = None, content_type: str = JSON_CONTENT_TYPE
    ) -> ClientResponse:
        headers = signed_headers(SIGNING_SECRET, body, content_type=content_type)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await self.http.post("/slack/events", data=body.encode(), headers=headers)
        await response.read()
        return response


async def start_app(services: Services) -> AsyncIterator[App]:
    async for http, dispatched in spied_app(services, lambda body: str(body.get("event_id", ""))):
        yield App(http, dispatched)


@pytest.fixture
async def app(services: Services) -> AsyncIterator[App]:
    async for started in start_app(services):
        yield started


@pytest.mark.usefixtures("demo")
async def test_a_retried_event_is_acknowledged_and_not_handled_again(app: App, fake_slack: FakeSlack) -> None:
    body = event_body(HOME, team_id=TEAM, event_id="Ev0FIRST")
    assert (await app.deliver(body)).status == 200
    await fake_slack.wait_for("views.publish")

    for retry in (1, 2, 3):
        retried = await app.deliver(body, retry=retry)
        assert (retried.status, await retried.text()) == (200, "")

    await app.deliver(event_body(HOME | {"user": "U0OTHER"}, team_id=TEAM, event_id="Ev0SECOND"))
    await fake_slack.wait_for("views.publish", where=lambda c: c.params["user_id"] == "U0OTHER")
    assert app.dispatched == ["Ev0FIRST", "Ev0SECOND"]
    assert [c.params["user_id"] for c in fake_slack.calls_to("views.publish")] == [ADMIN, "U0OTHER"]


@pytest.mark.usefixtures("demo")
async def test_an_event_delivered_again_without_retry_headers_is_handled_once(
    app: App, fake_slack: FakeSlack
) -> None:
    """Whatever the headers say: the event id decides, checked before the event is dispatched."""
    body = event_body(HOME, team_id=TEAM, event_id="Ev0THRICE")
    answers = [await app.deliver(body) for _ in range(3)]

    assert [(a.status, await a.text()) for a in answers] == [(200, "")] * 3
    await fake_slack.wait_for("views.publish")
    await app.deliver(event_body(HOME | {"user": "U0LATER"}, team_id=TEAM, event_id="Ev0LATER"))
    await fake_slack.wait_for("views.publish", where=lambda c: c.params["user_id"] == "U0LATER")
    assert app.dispatched == ["Ev0THRICE", "Ev0LATER"]
    assert len(fake_slack.calls_to("views.publish")) == 2


@pytest.mark.usefixtures("demo")
async def test_events_handled_by_another_process_are_recognised(
    app: App, services: Services, fake_slack: FakeSlack
) -> None:
    body = event_body(HOME, team_id=TEAM, event_id="Ev0SHARED")
    assert (await app.deliver(body)).status == 200
    await fake_slack.wait_for("views.publish")

    async for restarted in start_app(Services.build(services.settings, services.store)):
        assert (await restarted.deliver(body, retry=1)).status == 200
        assert restarted.dispatched == []


async def test_requests_without_an_event_id_are_always_dispatched(app: App, fake_slack: FakeSlack) -> None:
    for _ in range(2):
        url = fake_slack.new_response_url()
        body = slash_command_body("/plan", "help", team_id=TEAM, user_id=ADMIN, response_url=url)
        assert (await app.deliver(body, content_type=FORM_CONTENT_TYPE)).status == 200
    assert app.dispatched == ["", ""]


async def test_handled_events_are_forgotten_after_a_day(store: Store) -> None:
    long_ago = utcnow() - timedelta(days=2)
    assert await store.handled_events.first_delivery("Ev0OLD", TEAM, now=long_ago)
    assert await store.handled_events.first_delivery("Ev0NEW", TEAM, now=utcnow())

    assert await store.handled_events.forget_before(utcnow() - timedelta(days=1)) == 1

    assert await store.handled_events.first_delivery("Ev0OLD", TEAM, now=utcnow())
    assert not await store.handled_events.first_delivery("Ev0NEW", TEAM, now=utcnow())


async def test_without_the_database_an_event_is_handled_rather_than_dropped() -> None:
    class Unavailable:
        async def first_delivery(self, *args: object, **kwargs: object) -> bool:
            raise StoreUnavailable("down")

    class DownStore:
        handled_events = Unavailable()

    middleware = Replays(cast(Store, DownStore()))
    went_on: list[bool] = []

    async def next() -> None:
        went_on.append(True)

    body = {"type": "event_callback", "event_id": "Ev0X", "team_id": TEAM, "event": HOME}
    request = AsyncBoltRequest(body=event_body(HOME, team_id=TEAM, event_id="Ev0X"), headers={})
    assert await middleware(body, request, request.context, next) is None
    assert went_on == [True]
