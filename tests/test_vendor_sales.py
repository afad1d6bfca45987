"""The vendor's Sales workspace (`SALES_TEAM_ID`), end to end in OAuth mode: customers in two workspaces ask
for upgrades; their requests reach the Sales channel in the vendor's workspace, posted with the vendor's
token; the vendor's Sales acknowledge and complete them there, and each requester hears by DM in their own
workspace, with its token. Clicks from anywhere else change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.settings import Settings
from handlers.upgrade.ids import Action as UpgradeAction
from handlers.upgrade.sales import NOT_INSTALLED, RequestRef
from store import Store
from store.domain.upgrades import Delivery, UpgradeRequest, UpgradeStatus
from tests.support.installs import Http, install_all
from tests.support.slackdriver import ADMIN, TEAM, SlackDriver, all_text
from tests.test_upgrade import (
    OTHER_ADMIN,
    OTHER_TEAM,
    SALES,
    click,
    link_other_account,
    sales_actions,
    submission,
    submit,
)

pytestmark = [pytest.mark.oauth, pytest.mark.usefixtures("demo")]

VENDOR = "T0VENDOR"
SALES_PERSON = "U0VENDORSALES"
OTHER_SALES = "C0OTHERSALES"
MANAGER = "U0MANAGER"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sales_team_id": VENDOR, "sales_channel": SALES})


@pytest.fixture
async def tokens(http: Http, fake_slack: FakeSlack, store: Store) -> dict[str, str]:
    """Two customer workspaces (demo's and another account's) and the vendor's, all installed."""
    await link_other_account(store)
    return await install_all(http, fake_slack, TEAM, OTHER_TEAM, VENDOR)


# ------------------------------------------------------------------------------------------ helpers


def posted_to(channel: str) -> Any:
    return lambda call: call.params.get("channel") == channel


async def request_upgrade(
    slack: SlackDriver, fake_slack: FakeSlack, *, user: str, team: str, note: str
) -> RecordedCall:
    """A customer administrator opens the request modal, asks for another plan; the DM they get after."""
    opened = len(fake_slack.calls_to("views.open"))
    url = fake_slack.new_response_url()
    assert (
        await slack.interact(click(UpgradeAction.UPGRADE_OPEN, user=user, team=team, response_url=url))
    ).status == 200
    view = (await fake_slack.wait_for("views.open", count=opened + 1)).params["view"]
    told = len(fake_slack.calls_to("chat.postMessage"))
    assert await submit(slack, submission(view, kind="plan", note=note, user=user, team=team)) == {}
    return await fake_slack.wait_for(
        "chat.postMessage", where=lambda c: posted_to(user)(c) and c not in fake_slack.calls[:told]
    )


def answered_at(url: str) -> Callable[[RecordedCall], bool]:
    return lambda call: call.url == url


async def only_request(store: Store, account_id: str) -> UpgradeRequest:
    [request] = await store.upgrades.recent(account_id)
    return request


def sales_click(
    action: str,
    request: UpgradeRequest,
    fake_slack: FakeSlack,
    *,
    user: str = SALES_PERSON,
    team: str = VENDOR,
) -> tuple[dict[str, Any], str]:
    """A click on a Sales post's button, with the response_url it carries."""
    url = fake_slack.new_response_url()
    payload = click(
        action,
        user=user,
        team=team,
        value=RequestRef(id=request.id).encode(),
        channel_id=request.sales_channel or SALES,
        message_ts=request.sales_ts or "1.0",
        response_url=url,
    )
    return payload, url


# ------------------------------------------------------------------------------------- the journey


async def test_requests_reach_the_vendors_sales_and_their_replies_reach_each_requester(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, tokens: dict[str, str]
) -> None:
    confirmed = await request_upgrade(slack, fake_slack, user=ADMIN, team=TEAM, note="Enterprise please")
    assert confirmed.token == tokens[TEAM]
    assert "is with the Sales team" in all_text(confirmed.params)
    post = await fake_slack.wait_for("chat.postMessage", where=posted_to(SALES))
    assert post.token == tokens[VENDOR]  # the vendor's workspace, not the customer's
    text = all_text(post.params)
    for fact in ["Harbour Lights Trading Ltd", "`demo`", f"`{TEAM}`", f"<@{ADMIN}>", "Enterprise please"]:
        assert fact in text, fact
    request = await only_request(store, "demo")
    assert (request.delivery, request.sales_channel, request.sales_ts) == (
        Delivery.DELIVERED,
        SALES,
        post.response["ts"],
    )

    # The second customer's request lands in the same channel, also with the vendor's token.
    other_told = await request_upgrade(slack, fake_slack, user=OTHER_ADMIN, team=OTHER_TEAM, note="Us too")
    assert other_told.token == tokens[OTHER_TEAM]
    other_post = await fake_slack.wait_for("chat.postMessage", where=posted_to(SALES), count=2)
    assert other_post.token == tokens[VENDOR]
    assert "Other Co" in all_text(other_post.params)
    assert f"`{OTHER_TEAM}`" in all_text(other_post.params)
    other = await only_request(store, "other")

    # The vendor's Sales (in no linked workspace) acknowledge the first: the post is updated in place in
    # the vendor's workspace, and the requester hears in theirs.
    acknowledge, _ = sales_click(UpgradeAction.UPGRADE_ACKNOWLEDGE, request, fake_slack)
    assert (await slack.interact(acknowledge)).status == 200
    update = await fake_slack.wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"], update.token) == (
        SALES,
        request.sales_ts,
        tokens[VENDOR],
    )
    assert f"Acknowledged by <@{SALES_PERSON}>" in all_text(update.params)
    assert sales_actions(update.params) == [UpgradeAction.UPGRADE_DONE]
    told = await fake_slack.wait_for("chat.postMessage", where=posted_to(ADMIN), count=2)
    assert told.token == tokens[TEAM]
    assert "Sales acknowledged your request" in all_text(told.params)

    # …and complete the other account's request straight away.
    done, _ = sales_click(UpgradeAction.UPGRADE_DONE, other, fake_slack)
    assert (await slack.interact(done)).status == 200
    finished = await fake_slack.wait_for("chat.update", count=2)
    assert (finished.params["ts"], finished.token) == (other.sales_ts, tokens[VENDOR])
    assert f"Done by <@{SALES_PERSON}>" in all_text(finished.params)
    told_other = await fake_slack.wait_for("chat.postMessage", where=posted_to(OTHER_ADMIN), count=2)
    assert told_other.token == tokens[OTHER_TEAM]
    assert "as done" in all_text(told_other.params)

    assert (await store.upgrades.get("demo", request.id)).status == UpgradeStatus.ACKNOWLEDGED
    assert (await store.upgrades.get("other", other.id)).status == UpgradeStatus.DONE
    assert not [c for c in fake_slack.calls if "isn't linked" in all_text(c.params)]
    # Nothing was posted to a sales channel in a customer's workspace.
    assert {c.token for c in fake_slack.calls_to("chat.postMessage") if posted_to(SALES)(c)} == {
        tokens[VENDOR]
    }


# ------------------------------------------------------------------------------- clicks from elsewhere


@pytest.mark.parametrize(
    ("team", "user_team"),
    [
        (TEAM, TEAM),  # a copied button clicked in a customer's workspace, by one of its administrators
        (OTHER_TEAM, OTHER_TEAM),  # …in another customer's workspace
        (VENDOR, TEAM),  # a customer's user in the vendor's channel (Slack Connect)
    ],
)
async def test_a_sales_button_clicked_outside_the_vendors_workspace_changes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, tokens: dict[str, str], team: str, user_team: str
) -> None:
    await request_upgrade(slack, fake_slack, user=ADMIN, team=TEAM, note="Enterprise please")
    request = await only_request(store, "demo")

    for action in (UpgradeAction.UPGRADE_ACKNOWLEDGE, UpgradeAction.UPGRADE_DONE):
        forged, url = sales_click(action, request, fake_slack, user=ADMIN, team=team)
        forged["user"]["team_id"] = user_team
        assert (await slack.interact(forged)).status == 200
        told = await fake_slack.wait_for("response_url", where=answered_at(url))
        assert "Only the Sales team can acknowledge or complete upgrade requests" in all_text(told.params)
        assert "Nothing was changed" in all_text(told.params)

    assert (await store.upgrades.get("demo", request.id)).status == UpgradeStatus.REQUESTED
    assert fake_slack.calls_to("chat.update") == []
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if posted_to(ADMIN)(c)]) == 1


async def test_a_vendor_click_on_an_unknown_request_says_so(
    slack: SlackDriver, fake_slack: FakeSlack, tokens: dict[str, str]
) -> None:
    url = fake_slack.new_response_url()
    payload = click(
        UpgradeAction.UPGRADE_DONE,
        user=SALES_PERSON,
        team=VENDOR,
        value=RequestRef(id="UR-NOPE").encode(),
        channel_id=SALES,
        response_url=url,
    )
    await slack.interact(payload)
    told = await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert "I can't find request `UR-NOPE`" in all_text(told.params)
    assert fake_slack.calls_to("chat.update") == []


# ------------------------------------------------------------------------------- per-account routing


async def test_an_account_with_its_own_sales_channel_and_manager(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, tokens: dict[str, str]
) -> None:
    doc = await store.accounts.document("other")
    routed = doc.model_copy(update={"sales_channel": OTHER_SALES, "account_manager": MANAGER})
    await store.accounts.upsert("other", routed)

    await request_upgrade(slack, fake_slack, user=OTHER_ADMIN, team=OTHER_TEAM, note="Us too")
    post = await fake_slack.wait_for("chat.postMessage", where=posted_to(OTHER_SALES))
    assert post.token == tokens[VENDOR]
    assert f"<@{MANAGER}>" in post.params["text"]  # the notification mentions the manager
    assert "Account manager" in all_text(post.params)
    other = await only_request(store, "other")
    assert (other.sales_channel, other.evidence.account_manager) == (OTHER_SALES, MANAGER)

    # Other accounts still go to SALES_CHANNEL, with no manager named.
    await request_upgrade(slack, fake_slack, user=ADMIN, team=TEAM, note="Enterprise please")
    demo_post = await fake_slack.wait_for("chat.postMessage", where=posted_to(SALES))
    assert "Account manager" not in all_text(demo_post.params)

    # Sales' update keeps the mention, in the account's channel.
    acknowledge, _ = sales_click(UpgradeAction.UPGRADE_ACKNOWLEDGE, other, fake_slack)
    await slack.interact(acknowledge)
    update = await fake_slack.wait_for("chat.update")
    assert (update.params["channel"], update.token) == (OTHER_SALES, tokens[VENDOR])
    assert f"<@{MANAGER}>" in all_text(update.params)


# ------------------------------------------------------------------------------- the vendor not installed


async def test_without_the_app_in_the_vendors_workspace_the_request_is_kept_and_the_requester_told(
    http: Http, slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    tokens = await install_all(http, fake_slack, TEAM)
    told = await request_upgrade(slack, fake_slack, user=ADMIN, team=TEAM, note="Enterprise please")
    assert told.token == tokens[TEAM]
    assert "could not be posted to the Sales channel" in all_text(told.params)
    assert NOT_INSTALLED in all_text(told.params)
    request = await only_request(store, "demo")
    assert (request.delivery, request.delivery_error) == (Delivery.FAILED, NOT_INSTALLED)
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if posted_to(SALES)(c)]
