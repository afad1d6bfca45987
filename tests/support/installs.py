"""Installing the app into a workspace through the real OAuth flow (`/slack/install`, `/slack/oauth_redirect`),
with the fake Slack answering `oauth.v2.access` and `auth.test`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.signing import APP_ID, BOT_USER_ID

STATE_COOKIE = "slack-app-oauth-state"

Http: TypeAlias = TestClient[web.Request, web.Application]
"""The aiohttp test client of the app's web server."""


@dataclass(frozen=True)
class InstallPage:
    status: int
    html: str
    state: str


async def install_page(http: Http) -> InstallPage:
    response = await http.get("/slack/install")
    html = await response.text()
    return InstallPage(response.status, html, response.cookies[STATE_COOKIE].value)


async def oauth_redirect(
    http: Http,
    *,
    state: str | None,
    cookie: str | None,
    code: str = "the-code",
    **query: str,
) -> ClientResponse:
    """Slack sending the installer's browser back, with the state cookie that browser holds (if any)."""
    http.session.cookie_jar.clear()
    params = {"code": code, **query} if code else dict(query)
    if state is not None:
        params["state"] = state
    headers = {"Cookie": f"{STATE_COOKIE}={cookie}"} if cookie is not None else {}
    response = await http.get("/slack/oauth_redirect", params=params, headers=headers)
    await response.read()
    return response


def oauth_answer(
    team_id: str, token: str, *, refresh_token: str | None = None, expires_in: int | None = None
) -> dict[str, Any]:
    """What Slack's oauth.v2.access answers for a bot install (with token rotation when refresh_token is set)."""
    answer: dict[str, Any] = {
        "app_id": APP_ID,
        "authed_user": {"id": "U0INSTALLER"},
        "scope": "commands,chat:write,im:write,users:read,files:write",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": BOT_USER_ID,
        "team": {"id": team_id, "name": f"Team {team_id}"},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if refresh_token is not None:
        answer.update(refresh_token=refresh_token, expires_in=expires_in or 43200)
    return answer


async def install(
    http: Http,
    fake: FakeSlack,
    team_id: str,
    *,
    refresh_token: str | None = None,
    expires_in: int | None = None,
) -> str:
    """Install the app into `team_id` as a browser would; returns the workspace's bot token."""
    token = f"xoxb-{team_id}-installed"
    fake.oauth_response = oauth_answer(team_id, token, refresh_token=refresh_token, expires_in=expires_in)
    page = await install_page(http)
    assert page.status == 200, page.html
    done = await oauth_redirect(http, state=page.state, cookie=page.state)
    assert done.status == 200, await done.text()
    return token


async def install_all(http: Http, fake: FakeSlack, *team_ids: str) -> dict[str, str]:
    """Install the app into each workspace in turn; their bot tokens by team id. The installers' welcome
    messages are forgotten, so a test's calls start from nothing."""
    tokens = {team_id: await install(http, fake, team_id) for team_id in team_ids}
    fake.clear()
    return tokens
