"""OAuth mode: the install flow end to end, installations in our database, authorization per workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select, update

from bot.devtools.fake_slack import FakeSlack
from handlers.services import Services
from handlers.slack_clients import BOT_SCOPES
from store import Store
from store.tables import SLACK_BOTS, SLACK_INSTALLATIONS, SLACK_OAUTH_STATES
from tests.conftest import CLIENT_ID
from tests.support.installs import Http, install, install_page, oauth_answer, oauth_redirect
from tests.support.slackdriver import ADMIN, TEAM, SlackDriver, all_text

pytestmark = pytest.mark.oauth


def naive_utc_now() -> datetime:
    """As slack_sdk stores times."""
    return datetime.now(UTC).replace(tzinfo=None)


async def rows(store: Store, table: object, team_id: str | None = None) -> int:
    query = select(func.count()).select_from(table)  # type: ignore[arg-type]
    if team_id is not None:
        query = query.where(table.c.team_id == team_id)  # type: ignore[attr-defined]
    async with store.db.session() as session:
        return int(await session.scalar(query) or 0)


async def test_the_install_page_issues_a_state_kept_in_the_database_and_a_cookie(
    http: Http, store: Store
) -> None:
    page = await install_page(http)

    assert page.status == 200
    authorize_url = next(
        part.split('"')[0] for part in page.html.split('href="')[1:] if "oauth/v2/authorize" in part
    )
    query = parse_qs(urlparse(authorize_url.replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["state"] == [page.state]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    async with store.db.session() as session:
        assert await session.scalar(select(SLACK_OAUTH_STATES.c.state)) == page.state


async def test_installing_stores_the_installation_in_our_database(
    http: Http, fake_slack: FakeSlack, services: Services, store: Store
) -> None:
    fake_slack.oauth_response = oauth_answer("T0ACME", "xoxb-acme-1")
    page = await install_page(http)

    done = await oauth_redirect(http, state=page.state, cookie=page.state, code="code-from-slack")

    assert done.status == 200
    assert "Thank you" in await done.text()
    exchange = fake_slack.calls_to("oauth.v2.access")[0]
    assert (exchange.params["code"], exchange.params["client_id"]) == ("code-from-slack", CLIENT_ID)
    installations = services.slack.installations
    assert installations is not None
    installation = await installations.find("T0ACME")
    assert installation is not None
    assert (installation.bot_token, installation.team_name, installation.user_id) == (
        "xoxb-acme-1",
        "Team T0ACME",
        "U0INSTALLER",
    )
    assert await rows(store, SLACK_INSTALLATIONS, "T0ACME") == 1
    assert await rows(store, SLACK_BOTS, "T0ACME") == 1
    assert await rows(store, SLACK_OAUTH_STATES) == 0  # the state was used up


async def test_a_reused_state_is_refused(http: Http, fake_slack: FakeSlack, store: Store) -> None:
    page = await install_page(http)
    assert (await oauth_redirect(http, state=page.state, cookie=page.state)).status == 200

    again = await oauth_redirect(http, state=page.state, cookie=page.state)

    assert again.status == 401
    assert len(fake_slack.calls_to("oauth.v2.access")) == 1
    assert await rows(store, SLACK_INSTALLATIONS) == 1


@pytest.mark.parametrize(
    ("state", "cookie", "status"),
    [
        ("forged", "forged", 401),  # never issued
        (None, None, 400),  # no state at all
        ("issued", None, 400),  # another browser: no cookie
        ("issued", "other", 400),  # the cookie does not match
    ],
)
async def test_a_bad_state_is_refused_and_nothing_is_installed(
    http: Http, fake_slack: FakeSlack, store: Store, state: str | None, cookie: str | None, status: int
) -> None:
    page = await install_page(http)
    state = page.state if state == "issued" else state

    refused = await oauth_redirect(http, state=state, cookie=cookie)

    assert refused.status == status
    assert fake_slack.calls_to("oauth.v2.access") == []
    assert await rows(store, SLACK_INSTALLATIONS) == 0


async def test_an_expired_state_is_refused(http: Http, fake_slack: FakeSlack, store: Store) -> None:
    page = await install_page(http)
    async with store.db.session() as session:
        await session.execute(
            update(SLACK_OAUTH_STATES).values(expire_at=naive_utc_now() - timedelta(seconds=1))
        )

    assert (await oauth_redirect(http, state=page.state, cookie=page.state)).status == 401
    assert fake_slack.calls_to("oauth.v2.access") == []


async def test_a_cancelled_install_stores_nothing(http: Http, fake_slack: FakeSlack, store: Store) -> None:
    page = await install_page(http)

    cancelled = await oauth_redirect(
        http, state=page.state, cookie=page.state, code="", error="access_denied"
    )

    assert "access_denied" in await cancelled.text()
    assert fake_slack.calls_to("oauth.v2.access") == []
    assert await rows(store, SLACK_INSTALLATIONS) == 0


@pytest.mark.usefixtures("demo")
async def test_requests_use_the_workspaces_token_and_auth_test_runs_once_per_token(
    http: Http, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    token = await install(http, fake_slack, TEAM)
    fake_slack.clear()

    for _ in range(5):
        assert "BUSINESS" in all_text(await slack.run(""))
    await slack.event({"type": "app_home_opened", "user": ADMIN, "tab": "home", "channel": "D0HOME"})

    published = await fake_slack.wait_for("views.publish")
    assert published.token == token
    assert [call.token for call in fake_slack.calls_to("auth.test")] == [token]


async def test_a_workspace_without_an_installation_is_asked_to_reinstall(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await slack.command("", team="T0NEVER")

    assert reply.status == 200
    answer = await slack.reply_to(reply)
    assert "reinstall" in answer.params["text"]
    assert fake_slack.calls_to("auth.test") == []


async def test_reinstalling_replaces_the_token(http: Http, fake_slack: FakeSlack, services: Services) -> None:
    await install(http, fake_slack, "T0ACME")
    fake_slack.oauth_response = oauth_answer("T0ACME", "xoxb-acme-second")
    page = await install_page(http)
    assert (await oauth_redirect(http, state=page.state, cookie=page.state)).status == 200

    client = await services.slack.client_for_team("T0ACME")

    assert client is not None
    assert client.token == "xoxb-acme-second"


async def test_the_installer_is_told_how_to_link_the_workspace(http: Http, fake_slack: FakeSlack) -> None:
    token = await install(http, fake_slack, "T0ACME")

    welcome = await fake_slack.wait_for("chat.postMessage")
    assert (welcome.params["channel"], welcome.token) == ("U0INSTALLER", token)
    assert "/plan link CODE" in all_text(welcome.params)


@pytest.mark.usefixtures("demo")
async def test_reinstalling_a_linked_workspace_says_it_is_still_linked(
    http: Http, fake_slack: FakeSlack
) -> None:
    await install(http, fake_slack, TEAM)

    welcome = await fake_slack.wait_for("chat.postMessage")
    assert "still linked" in all_text(welcome.params)


async def test_the_install_succeeds_even_if_the_welcome_cannot_be_sent(
    http: Http, fake_slack: FakeSlack, services: Services
) -> None:
    fake_slack.fail("chat.postMessage", error="cannot_dm_bot")

    await install(http, fake_slack, "T0ACME")  # checks the page says so

    assert services.slack.installations is not None
    assert await services.slack.installations.find("T0ACME") is not None


async def test_states_of_abandoned_installs_are_dropped(http: Http, store: Store) -> None:
    abandoned = await install_page(http)
    async with store.db.session() as session:
        await session.execute(
            update(SLACK_OAUTH_STATES)
            .where(SLACK_OAUTH_STATES.c.state == abandoned.state)
            .values(expire_at=naive_utc_now() - timedelta(seconds=1))
        )

    current = await install_page(http)

    async with store.db.session() as session:
        assert list(await session.scalars(select(SLACK_OAUTH_STATES.c.state))) == [current.state]
