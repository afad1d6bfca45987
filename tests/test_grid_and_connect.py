"""Enterprise Grid and Slack Connect: an organisation-wide install's requests are served for the workspace
they came from (and never fail after the ack); someone from another organisation is told, politely and
without a word of the account, that it is not theirs; an administrator must belong to the workspace.

The payloads follow the shapes of Slack's own bolt-python scenario tests (tests/scenario_tests_async/
test_events_org_apps.py: `authorizations[0].team_id` null with `enterprise_id` set and the workspace in the
envelope's `team_id`; interactions of org-wide installs with `team: null`; Slack Connect payloads whose
`user.team_id` is another organisation's workspace)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import NotAMember, WorkspaceUnknown
from bot.demo import DEMO_ACCOUNT
from bot.devtools.fake_slack import FakeSlack
from bot.devtools.signing import (
    APP_ID,
    BOT_USER_ID,
    block_actions_payload,
    new_event_id,
    slash_command_body,
    view_submission_payload,
)
from handlers.company.form import CompanyEditMetadata
from handlers.company.ids import Action as CompanyAction
from handlers.company.ids import Callback as CompanyCallback
from handlers.home import TAB_BUTTON, HomeTab, TabChoice
from handlers.plan.ids import Action as PlanAction
from handlers.rates.ids import Action as RatesAction
from handlers.workspace import Workspace, workspace_admins_cache, workspace_team
from store import Store
from tests.support.slackdriver import ADMIN, TEAM, SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")

GRID = "E0GRID"
SIBLING = "T0SIBLING"  # another workspace of the same Grid organisation
PARTNER = "T0PARTNER"  # a workspace of another organisation, in a Slack Connect channel with ours
GUEST = "U0GUEST"
NOT_A_MEMBER = NotAMember().text(str)
UNKNOWN = WorkspaceUnknown().text(str)


@pytest.fixture
def org_wide(fake_slack: FakeSlack) -> None:
    """The app installed for the whole Grid organisation: its token's auth.test names the organisation."""
    fake_slack.enterprise_id = GRID
    fake_slack.auth_by_token["xoxb-test"] = {"is_enterprise_install": True}


def org_home_opened(
    user: str = ADMIN, *, team_id: str | None = TEAM, view_team: str | None = TEAM
) -> dict[str, Any]:
    """app_home_opened of an org-wide install, as in bolt-python's test_events_org_apps.py."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": "home",
        "event_ts": "1606810927.510671",
    }
    if view_team is not None:
        event["view"] = {
            "id": "V0HOME",
            "team_id": view_team,
            "type": "home",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": "1606810927.abcd",
            "app_id": APP_ID,
            "app_installed_team_id": None,
            "bot_id": "B0MYPLAN",
        }
    body: dict[str, Any] = {
        "token": "verification-token",
        "enterprise_id": GRID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": new_event_id(),
        "event_time": 1606810927,
        "authorizations": [
            {
                "enterprise_id": GRID,
                "team_id": None,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": True,
            }
        ],
        "is_ext_shared_channel": False,
    }
    if team_id is not None:
        body["team_id"] = team_id
    return body


def org_click(tab: HomeTab, *, user_team: str = TEAM) -> dict[str, Any]:
    """A click on the Home of an org-wide install: `team` is null, the workspace is the user's and the view's."""
    payload = block_actions_payload(
        team_id=user_team,
        user_id=ADMIN,
        action_id=TAB_BUTTON.id(tab.value),
        value=TabChoice(tab=tab).encode(),
        view={"type": "home", "id": "V0HOME", "app_installed_team_id": GRID},
        enterprise_id=GRID,
    )
    payload.update(team=None, is_enterprise_install=True)
    return payload


async def send_event(slack: SlackDriver, body: dict[str, Any]) -> int:
    return (await slack.post(json.dumps(body), content_type="application/json")).status


# ------------------------------------------------------------------------------ organisation-wide install


@pytest.mark.usefixtures("org_wide")
@pytest.mark.parametrize(
    ("team_id", "view_team"),
    [(TEAM, TEAM), (TEAM, None), (None, TEAM)],
    ids=["envelope-and-view", "envelope-only", "view-only"],
)
async def test_an_org_wide_install_draws_the_home_of_the_workspace_it_was_opened_in(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    team_id: str | None,
    view_team: str | None,
) -> None:
    assert await send_event(slack, org_home_opened(team_id=team_id, view_team=view_team)) == 200
    published = await fake_slack.wait_for("views.publish")
    assert published.params["user_id"] == ADMIN
    assert "BUSINESS" in all_text(published.params)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.usefixtures("org_wide")
async def test_an_org_wide_request_naming_no_workspace_is_told_not_crashed(
    slack: SlackDriver, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    assert await send_event(slack, org_home_opened(team_id=None, view_team=None)) == 200
    published = await fake_slack.wait_for("views.publish")
    text = all_text(published.params)
    assert UNKNOWN in text
    assert "BUSINESS" not in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.usefixtures("org_wide")
async def test_an_org_wide_click_with_a_null_team_is_served(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    assert (await slack.interact(org_click(HomeTab.COMPANY))).status == 200
    published = await fake_slack.wait_for("views.publish")
    assert "Hong Kong" in all_text(published.params)
    assert published.params["team_id"] == TEAM  # the org-wide token's call names the workspace
    assert await store.home.last_tab(TEAM, ADMIN) == HomeTab.COMPANY.value


@pytest.mark.usefixtures("org_wide")
async def test_an_org_wide_slash_command_is_served(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    body = slash_command_body("/plan", "", team_id=TEAM, user_id=ADMIN, response_url=url, enterprise_id=GRID)
    body = body.replace("is_enterprise_install=false", "is_enterprise_install=true")
    assert (await slack.post(body)).status == 200
    reply = await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert "BUSINESS" in all_text(reply.params)


@pytest.mark.usefixtures("org_wide")
async def test_a_member_of_another_workspace_of_the_organisation_is_served(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.users[ADMIN] = {"team_id": SIBLING, "enterprise_user": {"id": ADMIN, "enterprise_id": GRID}}
    payload = org_click(HomeTab.PLAN, user_team=SIBLING)
    payload["view"]["team_id"] = TEAM  # opened in our workspace, by someone whose home is the sibling
    payload["team"] = {"id": TEAM, "domain": "demo", "enterprise_id": GRID}
    assert (await slack.interact(payload)).status == 200
    assert "BUSINESS" in all_text((await fake_slack.wait_for("views.publish")).params)


@pytest.mark.usefixtures("org_wide")
async def test_an_organisation_admin_from_a_sibling_workspace_may_edit(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.users["U0ORGADMIN"] = {
        "team_id": SIBLING,
        "enterprise_user": {"id": "U0ORGADMIN", "enterprise_id": GRID, "is_admin": True},
    }
    payload = block_actions_payload(
        team_id=TEAM, user_id="U0ORGADMIN", action_id=CompanyAction.COMPANY_EDIT, view={"type": "home"}
    )
    payload["user"]["team_id"] = SIBLING
    assert (await slack.interact(payload)).status == 200
    opened = await fake_slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == CompanyCallback.COMPANY_EDIT


# --------------------------------------------------------------------------------------- Slack Connect


def guest_click(action_id: str, **kwargs: Any) -> dict[str, Any]:
    """A click by someone from another organisation, on our message in a shared channel (or our Home)."""
    payload = block_actions_payload(
        team_id=TEAM, user_id=GUEST, action_id=action_id, channel_id="C0SHARED", **kwargs
    )
    payload["user"]["team_id"] = PARTNER
    return payload


@pytest.fixture
def guest_is_their_workspace_admin(fake_slack: FakeSlack) -> None:
    """users.info: the guest administers their own workspace, which is not ours."""
    fake_slack.users[GUEST] = {"team_id": PARTNER, "is_admin": True, "is_owner": True}


@pytest.mark.usefixtures("guest_is_their_workspace_admin")
async def test_a_guest_cannot_share_the_plan_and_is_told_so_privately(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    url = fake_slack.new_response_url()
    assert (await slack.interact(guest_click(PlanAction.PLAN_SHARE, response_url=url))).status == 200
    told = await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert NOT_A_MEMBER in all_text(told.params)
    assert told.params.get("response_type") != "in_channel"
    assert "BUSINESS" not in json.dumps(told.params)
    assert fake_slack.calls_to("chat.postMessage") == []


@pytest.mark.usefixtures("guest_is_their_workspace_admin")
async def test_a_guest_cannot_export_the_rate_table(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    assert (await slack.interact(guest_click(RatesAction.RATES_EXPORT, response_url=url))).status == 200
    told = await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert NOT_A_MEMBER in all_text(told.params)
    assert not [c for c in fake_slack.calls if c.method.startswith(("files.", "conversations.open"))]


@pytest.mark.usefixtures("guest_is_their_workspace_admin")
async def test_a_guest_admin_of_their_own_workspace_cannot_open_the_company_editor(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    payload = guest_click(CompanyAction.COMPANY_EDIT, view={"type": "home", "id": "V0HOME"})
    assert (await slack.interact(payload)).status == 200
    opened = await fake_slack.wait_for("views.open")  # where they are looking: a notice, not the editor
    assert opened.params["view"].get("callback_id") != CompanyCallback.COMPANY_EDIT
    assert NOT_A_MEMBER in all_text(opened.params)


@pytest.mark.usefixtures("guest_is_their_workspace_admin")
async def test_a_guest_admin_s_company_submission_is_refused_in_the_modal(
    slack: SlackDriver, store: Store
) -> None:
    before = await store.company.get(DEMO_ACCOUNT)
    assert before is not None
    payload = view_submission_payload(
        team_id=TEAM,
        user_id=GUEST,
        callback_id=CompanyCallback.COMPANY_EDIT,
        state_values={},
        private_metadata=CompanyEditMetadata(account_id=DEMO_ACCOUNT, version=before.version).encode(),
    )
    payload["user"]["team_id"] = PARTNER
    response = await slack.interact(payload)
    answer = json.loads(await response.text())
    assert answer["response_action"] == "update"
    assert NOT_A_MEMBER in all_text(answer)
    assert await store.company.get(DEMO_ACCOUNT) == before


@pytest.mark.usefixtures("guest_is_their_workspace_admin")
async def test_a_guest_opening_the_home_sees_no_plan(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    """app_home_opened names no team for the user: users.info's says they are not ours."""
    home = {"type": "app_home_opened", "user": GUEST, "channel": "D0GUEST", "tab": "home", "event_ts": "1.2"}
    assert (await slack.event(home)).status == 200
    published = await fake_slack.wait_for("views.publish")
    text = all_text(published.params)
    assert NOT_A_MEMBER in text
    assert "BUSINESS" not in text
    assert "Hong Kong" not in json.dumps(published.params)


async def test_a_guest_clicking_a_home_tab_sees_no_company(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    payload = guest_click(
        TAB_BUTTON.id(HomeTab.COMPANY.value),
        value=TabChoice(tab=HomeTab.COMPANY).encode(),
        view={"type": "home"},
    )
    assert (await slack.interact(payload)).status == 200
    published = await fake_slack.wait_for("views.publish")
    assert NOT_A_MEMBER in all_text(published.params)
    assert "Hong Kong" not in json.dumps(published.params)


# ----------------------------------------------------------------------------- who is an administrator


async def make_workspace(
    store: Store, fake_slack: FakeSlack, *, organisation: str | None = None, stated: str | None = None
) -> Workspace:
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    return Workspace(
        store,
        TEAM,
        client,
        workspace_admins_cache(),
        organisation,
        organisation_id=organisation,
        requester=GUEST,
        requester_team=stated,
    )


@pytest.mark.parametrize(
    ("users_info", "organisation", "stated", "admin"),
    [
        ({"team_id": TEAM, "is_admin": True}, None, None, True),
        ({"team_id": PARTNER, "is_admin": True}, None, None, False),
        ({"team_id": TEAM, "is_admin": True}, None, PARTNER, False),
        ({"team_id": PARTNER, "is_owner": True}, GRID, None, False),
        (
            {"team_id": SIBLING, "is_admin": True, "enterprise_user": {"enterprise_id": GRID}},
            GRID,
            SIBLING,
            True,
        ),
        (
            {"team_id": SIBLING, "enterprise_user": {"enterprise_id": GRID, "is_owner": True}},
            GRID,
            None,
            True,
        ),
        (
            {"team_id": PARTNER, "is_admin": True, "enterprise_user": {"enterprise_id": "E0OTHER"}},
            GRID,
            None,
            False,
        ),
        ({"team_id": TEAM, "is_admin": False}, None, None, False),
    ],
    ids=[
        "admin-here",
        "admin-of-another-workspace",
        "payload-says-another-workspace",
        "admin-of-a-workspace-outside-the-organisation",
        "admin-of-a-sibling-workspace",
        "owner-of-the-organisation",
        "admin-in-another-organisation",
        "member-not-admin",
    ],
)
async def test_a_slack_admin_must_belong_to_the_workspace(
    store: Store,
    fake_slack: FakeSlack,
    users_info: dict[str, Any],
    organisation: str | None,
    stated: str | None,
    admin: bool,
) -> None:
    fake_slack.users[GUEST] = users_info
    workspace = await make_workspace(store, fake_slack, organisation=organisation, stated=stated)
    assert await workspace.is_workspace_admin(GUEST) is admin


async def test_an_outsider_never_reaches_the_account(store: Store, fake_slack: FakeSlack) -> None:
    fake_slack.users[GUEST] = {"team_id": PARTNER, "is_admin": True}
    workspace = await make_workspace(store, fake_slack)
    with pytest.raises(NotAMember):
        await workspace.account_id()
    with pytest.raises(NotAMember):
        await workspace.is_admin(GUEST)


def test_the_workspace_of_a_request_is_the_one_it_happened_in() -> None:
    def context(team_id: str | None = None) -> AsyncBoltContext:
        return AsyncBoltContext({"team_id": team_id} if team_id else {})

    assert workspace_team(context(TEAM), {}) == TEAM
    assert workspace_team(context(GRID), {"user": {"team_id": TEAM}}) == TEAM  # an org's id is no workspace
    assert workspace_team(context(), org_home_opened()) == TEAM
    assert workspace_team(context(), org_home_opened(team_id=None)) == TEAM
    assert workspace_team(context(), org_home_opened(team_id=None, view_team=None)) is None
    assert workspace_team(context(), org_click(HomeTab.PLAN)) == TEAM
    shared = org_home_opened(team_id=PARTNER, view_team=None) | {"is_ext_shared_channel": True}
    assert workspace_team(context(), shared) is None  # an event's team_id is then the actor's
    assert workspace_team(context(), shared | {"context_team_id": TEAM}) == TEAM
