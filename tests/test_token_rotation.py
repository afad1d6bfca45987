"""Rotating tokens: refreshed shortly before they expire, once per workspace even when many need it at once,
for incoming requests and for the notifier (which posts outside any Slack request)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, cast

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from bot.devtools.fake_slack import TOKEN_LIFETIME_SECONDS, FakeSlack, RecordedCall
from bot.settings import Settings
from handlers.services import Services
from handlers.slack_calls import client_with_token
from handlers.slack_clients import Installations
from store import Store
from tests.conftest import CLIENT_ID, CLIENT_SECRET
from tests.support.installs import Http, install
from tests.support.slackdriver import ADMIN, TEAM, SlackDriver

pytestmark = [pytest.mark.oauth, pytest.mark.usefixtures("demo")]


def refreshes(fake: FakeSlack) -> list[RecordedCall]:
    return [c for c in fake.calls_to("oauth.v2.access") if c.params.get("grant_type") == "refresh_token"]


async def installed_about_to_expire(http: Http, fake: FakeSlack) -> str:
    """Installed with token rotation on; the token expires in a minute, well inside the refresh window."""
    return await install(http, fake, TEAM, refresh_token="xoxe-1-first", expires_in=60)


async def test_a_fresh_token_is_not_refreshed(http: Http, slack: SlackDriver, fake_slack: FakeSlack) -> None:
    token = await install(
        http, fake_slack, TEAM, refresh_token="xoxe-1-first", expires_in=TOKEN_LIFETIME_SECONDS
    )

    await slack.event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})

    assert (await fake_slack.wait_for("views.publish")).token == token
    assert refreshes(fake_slack) == []


async def test_an_incoming_request_refreshes_an_expiring_token_first(
    http: Http, slack: SlackDriver, fake_slack: FakeSlack, services: Services
) -> None:
    old = await installed_about_to_expire(http, fake_slack)

    await slack.event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})

    published = await fake_slack.wait_for("views.publish")
    [refresh] = refreshes(fake_slack)
    assert (refresh.params["refresh_token"], refresh.params["client_id"]) == ("xoxe-1-first", CLIENT_ID)
    new = refresh.response["access_token"]
    assert published.token == new != old
    assert installations_of(services) is not None
    saved = await installations_of(services).find(TEAM)
    assert saved is not None
    assert (saved.bot_token, saved.bot_refresh_token) == (new, refresh.response["refresh_token"])
    assert saved.bot_token_expires_at == pytest.approx(time.time() + TOKEN_LIFETIME_SECONDS, abs=60)


async def test_many_requests_at_once_refresh_once(
    http: Http, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await installed_about_to_expire(http, fake_slack)
    users = [f"U0USER{n}" for n in range(6)]

    await asyncio.gather(
        *(slack.event({"type": "app_home_opened", "user": user, "tab": "home"}) for user in users)
    )

    published = [await fake_slack.wait_for("views.publish", where=for_user(user)) for user in users]
    [refresh] = refreshes(fake_slack)  # a second refresh would have spent the first's refresh token
    assert {call.token for call in published} == {refresh.response["access_token"]}


async def test_the_notifier_refreshes_the_token_before_it_posts(
    http: Http, fake_slack: FakeSlack, settings: Settings, store: Store
) -> None:
    old = await installed_about_to_expire(http, fake_slack)
    worker = Services.build(settings, store)  # the notifier's process

    clients = await asyncio.gather(*(worker.slack.client_for_team(TEAM) for _ in range(4)))
    assert all(client is not None for client in clients)
    client = clients[0]
    assert client is not None
    await client.chat_postMessage(channel="C0ALERTS", text="Voice minutes are running low")

    [refresh] = refreshes(fake_slack)
    post = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C0ALERTS")
    assert post.token == refresh.response["access_token"] != old
    assert refresh.at <= post.at
    assert {c.token for c in clients if c is not None} == {post.token}


async def test_a_token_another_process_refreshed_meanwhile_is_used(
    http: Http, fake_slack: FakeSlack, settings: Settings, store: Store, services: Services
) -> None:
    await installed_about_to_expire(http, fake_slack)
    web = installations_of(services)
    stale = await web.find(TEAM)
    worker = Services.build(settings, store)
    refreshed = await worker.slack.client_for_team(TEAM)  # the worker refreshed it: "xoxe-1-first" is spent
    assert refreshed is not None
    # The web process read the installation just before the worker saved its refresh.
    rotator = AsyncTokenRotator(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, client=client_with_token(settings, None)
    )
    lagging = Installations(cast(AsyncInstallationStore, StaleFirstReads(web.store, stale, reads=2)), rotator)

    installation = await lagging.with_fresh_token(TEAM)

    assert installation is not None
    assert installation.bot_token == refreshed.token
    assert [c.response.get("error") for c in refreshes(fake_slack)] == [None, "invalid_refresh_token"]


async def test_a_token_that_cannot_be_refreshed_gets_no_client(
    http: Http, fake_slack: FakeSlack, services: Services
) -> None:
    await installed_about_to_expire(http, fake_slack)
    fake_slack.refresh_tokens.clear()  # e.g. the app's token rotation was reset at Slack

    assert await services.slack.client_for_team(TEAM) is None
    assert [c.response.get("error") for c in refreshes(fake_slack)] == ["invalid_refresh_token"]


def for_user(user: str) -> Callable[[RecordedCall], bool]:
    return lambda call: call.params["user_id"] == user


def installations_of(services: Services) -> Installations:
    installations = services.slack.installations
    assert installations is not None
    return installations


class StaleFirstReads:
    """An installation store whose first reads return an old copy, as a read racing another process's save."""

    def __init__(self, store: Any, stale: Installation | None, *, reads: int) -> None:
        self._store = store
        self._stale = stale
        self._reads = reads

    async def async_find_installation(self, **kwargs: Any) -> Installation | None:
        if self._reads > 0:
            self._reads -= 1
            return Installation(**self._stale.to_dict_for_copying()) if self._stale is not None else None
        return await self._store.async_find_installation(**kwargs)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
