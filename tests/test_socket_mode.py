"""Socket Mode: the same app over a WebSocket to (the fake) Slack, no public URL; /healthz tells whether the
socket is connected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.devtools.fake_slack import SOCKET_ACK, SOCKET_CONNECT, SOCKET_PING, FakeSlack
from bot.devtools.signing import slash_command_body
from bot.runner import build_web_app
from bot.settings import Settings
from tests.support.installs import Http
from tests.support.slackdriver import ADMIN, TEAM, all_text


@pytest.fixture
async def socket_app(settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Http]:
    """`myplan serve` with SLACK_APP_TOKEN (and no signing secret: it is not needed over the socket)."""
    fake_slack.socket_mode = True
    socket_settings = settings.model_copy(
        update={"slack_app_token": SecretStr("xapp-1-test"), "slack_signing_secret": None}
    )
    http = TestClient(TestServer(await build_web_app(socket_settings, socket_ping_seconds=0.2)))
    await http.start_server()
    yield http
    await http.close()


async def health(http: Http) -> tuple[int, dict[str, Any]]:
    response = await http.get("/healthz")
    return response.status, await response.json()


async def connected(fake: FakeSlack, times: int = 1) -> None:
    """The app has connected `times` times and pinged over its newest connection (so it counts itself up)."""
    newest = await fake.wait_for(SOCKET_CONNECT, count=times)
    await fake.wait_for(SOCKET_PING, where=lambda ping: ping.at >= newest.at)


@pytest.mark.usefixtures("demo")
async def test_commands_arrive_over_the_socket_and_health_reports_it(
    socket_app: Http, fake_slack: FakeSlack
) -> None:
    await connected(fake_slack)
    assert await health(socket_app) == (
        200,
        {"ok": True, "database": "ok", "alerts": {"failing_accounts": []}, "socket": "connected"},
    )
    assert (await socket_app.post("/slack/events", data=b"")).status in (404, 405)  # no public request URL

    response_url = fake_slack.new_response_url()
    body = slash_command_body("/plan", "", team_id=TEAM, user_id=ADMIN, response_url=response_url)
    envelope = await fake_slack.socket_send("slash_commands", dict(parse_qsl(body, keep_blank_values=True)))

    await fake_slack.wait_for(SOCKET_ACK, where=lambda c: c.params.get("envelope_id") == envelope)
    reply = await fake_slack.wait_for("response_url", where=lambda c: c.url == response_url)
    assert "BUSINESS" in all_text(reply.params)


async def test_health_is_503_while_the_socket_is_down_and_recovers(
    socket_app: Http, fake_slack: FakeSlack
) -> None:
    await connected(fake_slack)
    fake_slack.socket_mode = False  # Slack refuses new connections for a while

    await fake_slack.drop_sockets()
    await fake_slack.wait_for("apps.connections.open", where=lambda c: not c.ok)  # it tried to reconnect

    assert await health(socket_app) == (
        503,
        {"ok": False, "database": "ok", "alerts": {"failing_accounts": []}, "socket": "disconnected"},
    )

    fake_slack.socket_mode = True
    await connected(fake_slack, times=2)
    assert (await health(socket_app))[0] == 200


@pytest.mark.oauth
async def test_with_oauth_the_install_pages_are_served_next_to_the_socket(
    socket_app: Http, fake_slack: FakeSlack
) -> None:
    await connected(fake_slack)
    page = await socket_app.get("/slack/install")
    assert page.status == 200
    assert "oauth/v2/authorize" in await page.text()
