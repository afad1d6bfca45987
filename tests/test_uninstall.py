"""Uninstalling the app (or revoking its bot token) removes that workspace's installation data only; the
account, its link and its history stay, and nothing is posted there until it is reinstalled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.devtools.fake_slack import FakeSlack
from handlers.services import Services
from handlers.slack_clients import Installations
from store import Store
from tests.support.installs import Http, install
from tests.support.slackdriver import TEAM, SlackDriver, all_text


def removals(installations: Installations) -> asyncio.Queue[str | None]:
    """Each finished removal's team id, so a test can wait for the work done after the event was acked."""
    done: asyncio.Queue[str | None] = asyncio.Queue()
    remove: Callable[..., Awaitable[None]] = installations.remove

    async def remove_and_tell(team_id: str | None, enterprise_id: str | None = None) -> None:
        await remove(team_id, enterprise_id)
        done.put_nowait(team_id)

    installations.remove = remove_and_tell  # type: ignore[method-assign]
    return done


@pytest.mark.oauth
@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"bot": ["U0MYPLANBOT"]}},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
async def test_uninstalling_removes_the_installation_and_keeps_the_account(
    http: Http,
    slack: SlackDriver,
    fake_slack: FakeSlack,
    services: Services,
    store: Store,
    event: dict[str, object],
) -> None:
    await install(http, fake_slack, TEAM)
    await install(http, fake_slack, "T0OTHER")
    installations = services.slack.installations
    assert installations is not None
    removed = removals(installations)

    assert (await slack.event(event)).status == 200

    assert await asyncio.wait_for(removed.get(), 5) == TEAM
    assert await installations.find(TEAM) is None
    assert await services.slack.client_for_team(TEAM) is None  # the notifier stops posting there
    assert await installations.find("T0OTHER") is not None  # other workspaces are untouched
    assert await store.workspaces.account_for_team(TEAM) == "demo"
    assert await store.admins.list("demo") == ["U0DEMOADMIN"]
    assert (await store.accounts.snapshot("demo")).subscription.plan_name == "BUSINESS"
    assert "reinstall" in all_text(await slack.run(""))

    # Reinstalled: the link is still there, so it works again at once.
    token = await install(http, fake_slack, TEAM)
    client = await services.slack.client_for_team(TEAM)
    assert client is not None
    assert client.token == token
    assert "BUSINESS" in all_text(await slack.run(""))


@pytest.mark.oauth
@pytest.mark.usefixtures("demo")
async def test_revoking_only_user_tokens_keeps_the_bot_installation(
    http: Http, slack: SlackDriver, fake_slack: FakeSlack, services: Services
) -> None:
    token = await install(http, fake_slack, TEAM)
    await install(http, fake_slack, "T0OTHER")
    installations = services.slack.installations
    assert installations is not None
    removed = removals(installations)

    assert (await slack.event({"type": "tokens_revoked", "tokens": {"oauth": ["U0INSTALLER"]}})).status == 200
    # A later event that does remove something: by the time it is done, the first one was handled.
    await slack.event({"type": "tokens_revoked", "tokens": {"bot": ["U0MYPLANBOT"]}}, team="T0OTHER")

    assert await asyncio.wait_for(removed.get(), 5) == "T0OTHER"
    assert removed.empty()
    client = await services.slack.client_for_team(TEAM)
    assert client is not None
    assert client.token == token
    assert "BUSINESS" in all_text(await slack.run(""))


@pytest.mark.usefixtures("demo")
async def test_single_workspace_mode_acknowledges_uninstall_events(
    slack: SlackDriver, store: Store, services: Services
) -> None:
    assert (await slack.event({"type": "app_uninstalled"})).status == 200
    assert (await slack.event({"type": "tokens_revoked", "tokens": {"bot": ["U0MYPLANBOT"]}})).status == 200

    assert services.slack.installations is None
    assert await store.workspaces.account_for_team(TEAM) == "demo"
