"""Distributed to many workspaces: each installs the app, links its own account, and sees only its own data."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.linking.codes import issue_link_code
from bot.settings import Settings
from handlers.services import Services
from store import Store
from tests.support.clock import DEMO_NOW
from tests.support.installs import Http, install
from tests.support.slackdriver import SlackDriver, all_text

pytestmark = pytest.mark.oauth

ACCOUNTS = {
    "T0ALPHA": ("alpha", "Alpha Telecom", "Essentials", "U0ALPHAADMIN"),
    "T0BETA": ("beta", "Beta Retail", "Enterprise", "U0BETAADMIN"),
}


@pytest.fixture
async def linked(
    http: Http,
    slack: SlackDriver,
    fake_slack: FakeSlack,
    store: Store,
) -> dict[str, str]:
    """Both workspaces installed the app and linked their account with a code; returns their bot tokens."""
    tokens = {}
    for team, (account, company, plan, admin) in ACCOUNTS.items():
        doc = demo_document(DEMO_NOW).model_copy(update={"company_name": company, "plan_name": plan})
        await store.accounts.upsert(account, doc, now=DEMO_NOW)
        tokens[team] = await install(http, fake_slack, team)
        fake_slack.users[admin] = {"is_admin": True, "team_id": team}
        issued = await issue_link_code(store, account, by="test")
        assert f"now linked to {company}" in all_text(
            await slack.run(f"link {issued.code}", team=team, user=admin)
        )
    return tokens


async def test_each_workspace_sees_only_its_own_account(slack: SlackDriver, linked: dict[str, str]) -> None:
    alpha = all_text(await slack.run("", team="T0ALPHA", user="U0SOMEONE"))
    beta = all_text(await slack.run("", team="T0BETA", user="U0SOMEONE"))

    assert "Essentials" in alpha
    assert "Enterprise" not in alpha
    assert "Enterprise" in beta
    assert "Essentials" not in beta


async def test_each_workspace_is_answered_with_its_own_token(
    slack: SlackDriver, fake_slack: FakeSlack, linked: dict[str, str]
) -> None:
    for team in ACCOUNTS:
        await slack.event({"type": "app_home_opened", "user": "U0SOMEONE", "tab": "home"}, team=team)
        published = await fake_slack.wait_for("views.publish", where=with_token(linked[team]))
        assert ACCOUNTS[team][2] in all_text(published.params)


def with_token(token: str) -> Callable[[RecordedCall], bool]:
    return lambda call: call.token == token


async def test_an_administrator_of_one_account_is_not_one_of_the_other(
    store: Store, linked: dict[str, str]
) -> None:
    assert await store.admins.list("alpha") == ["U0ALPHAADMIN"]
    assert await store.admins.list("beta") == ["U0BETAADMIN"]


async def test_the_notifier_gets_each_workspaces_own_client(
    settings: Settings, store: Store, linked: dict[str, str]
) -> None:
    worker = Services.build(settings, store)  # another process (the worker): same settings and database

    for team, token in linked.items():
        client = await worker.slack.client_for_team(team)
        assert client is not None
        assert client.token == token
    assert await worker.slack.client_for_team("T0NOTINSTALLED") is None
