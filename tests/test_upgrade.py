"""Upgrade and add-on requests end to end: button → modal → submit → sales post → Sales' replies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import block_actions_payload
from bot.settings import Settings
from handlers.plan.features import MenuChoice, MenuVerb
from handlers.plan.ids import Action as PlanAction
from handlers.upgrade.ids import Action as UpgradeAction
from handlers.upgrade.ids import Block as UpgradeBlock
from handlers.upgrade.ids import Callback as UpgradeCallback
from handlers.upgrade.sales import RequestRef
from store import Store
from store.domain.account import FeatureDoc
from store.domain.plan import FeatureKey, FeatureStatus
from store.domain.upgrades import Delivery, UpgradeStatus
from tests.support.blocks import action_ids
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import ADMIN, STAFF, TEAM, SlackDriver, all_text, submission_of
from tests.support.upgrade import select, upgrade_state

pytestmark = pytest.mark.usefixtures("demo")

SALES = "C0SALES"
SALES_PERSON = "U0SALESREP"
OTHER_TEAM = "T0OTHER"
OTHER_ADMIN = "U0OTHERADMIN"


# ------------------------------------------------------------------------------------------ helpers


def click(action_id: str, *, user: str = ADMIN, team: str = TEAM, **kwargs: Any) -> dict[str, Any]:
    return block_actions_payload(team_id=team, user_id=user, action_id=action_id, **kwargs)


def submission(
    view: dict[str, Any],
    *,
    kind: str | None,
    quantity: str | None = None,
    feature: str | None = None,
    note: str | None = None,
    user: str = ADMIN,
    team: str = TEAM,
) -> dict[str, Any]:
    """A view_submission of the modal `view` (as opened), filled in as given."""
    state = upgrade_state(kind=kind, quantity=quantity, feature=feature, note=note)
    return submission_of(view, state, user=user, team=team)


async def open_modal(slack: SlackDriver, fake_slack: FakeSlack, **kwargs: Any) -> dict[str, Any]:
    """Click Upgrade (on a `/plan` reply) and return the modal it opened."""
    assert (
        await slack.interact(
            click(UpgradeAction.UPGRADE_OPEN, response_url=fake_slack.new_response_url(), **kwargs)
        )
    ).status == 200
    opened = await fake_slack.wait_for("views.open")
    view: dict[str, Any] = opened.params["view"]
    return view


async def submit(slack: SlackDriver, payload: dict[str, Any]) -> dict[str, Any]:
    """Send a submission; the ack's JSON body (empty: the modal closes)."""
    response = await slack.interact(payload)
    assert response.status == 200
    text = await response.text()
    return json.loads(text) if text else {}


def dm_to(user: str) -> Any:
    return lambda call: call.params.get("channel") == user


def to_sales(call: RecordedCall) -> bool:
    return call.params.get("channel") == SALES


def block_ids(view_or_message: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in view_or_message["blocks"]]


def sales_actions(message: dict[str, Any]) -> list[str]:
    """The action ids of the buttons in a sales post's actions block."""
    actions = next(b for b in message["blocks"] if b.get("block_id") == UpgradeBlock.SALES_ACTIONS)
    return action_ids([actions])


async def link_other_account(store: Store, features: dict[FeatureKey, FeatureDoc] | None = None) -> None:
    """A second account, linked to another workspace, whose features differ from the demo's."""
    doc = demo_document(DEMO_NOW)
    doc = doc.model_copy(update={"company_name": "Other Co", "features": features or doc.features})
    await store.accounts.upsert("other", doc)
    await store.workspaces.link(OTHER_TEAM, "other")
    await store.admins.add("other", OTHER_ADMIN)


# ------------------------------------------------------------------------------------- the journey


async def test_upgrade_request_reaches_sales_with_evidence_and_sales_replies(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    view = await open_modal(slack, fake_slack)
    assert view["callback_id"] == UpgradeCallback.UPGRADE
    assert json.loads(view["private_metadata"]) == {"account_id": "demo"}

    # Choosing "more voice minutes" redraws the modal with a quantity field.
    changed = click(
        UpgradeAction.UPGRADE_KIND,
        view={
            **view,
            "id": "V0MODAL",
            "type": "modal",
            "state": {
                "values": {UpgradeBlock.UPGRADE_KIND: {UpgradeAction.UPGRADE_KIND: select("voice_minutes")}}
            },
        },
        selected_option={
            "value": "voice_minutes",
            "text": {"type": "plain_text", "text": "More voice call minutes"},
        },
    )
    await slack.interact(changed)
    updated = (await fake_slack.wait_for("views.update")).params
    assert updated["view_id"] == "V0MODAL"
    assert UpgradeBlock.UPGRADE_QUANTITY in block_ids(updated["view"])
    assert "3,960 of 5,000 min used" in all_text(updated)

    assert (
        await submit(
            slack, submission(updated["view"], kind="voice_minutes", quantity="2000", note="Busy season")
        )
        == {}
    )

    post = (await fake_slack.wait_for("chat.postMessage", where=to_sales)).params
    text = all_text(post)
    for evidence in [
        "Harbour Lights Trading Ltd",
        "`demo`",
        "BUSINESS",
        "USD 1,299.00/month",
        "<!date^",  # next payment date
        f"<@{ADMIN}>",
        "More voice call minutes: 2,000 minutes",
        "Busy season",
        "3,960 of 5,000 min",
        "640 of 2,000 min",
        "37.5 of 100 GB",
        "42 of 50 assigned",
        "8 of 10 numbers",
    ]:
        assert evidence in text, evidence
    high = next(b for b in post["blocks"] if "At or above 80%" in json.dumps(b))
    assert "Staff licences (84%)" in all_text({"blocks": [high]})
    assert "Virtual Numbers (80%)" in all_text({"blocks": [high]})
    assert "Voice call minutes" not in all_text({"blocks": [high]})  # 79%: not yet
    assert sales_actions(post) == [UpgradeAction.UPGRADE_ACKNOWLEDGE, UpgradeAction.UPGRADE_DONE]

    confirmed = await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN))
    assert "is with the Sales team" in all_text(confirmed.params)

    [request] = await store.upgrades.recent("demo")
    assert (request.delivery, request.sales_channel, request.quantity) == (Delivery.DELIVERED, SALES, 2000)
    posted_ts = next(c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)).response["ts"]
    assert request.sales_ts == posted_ts

    # Sales (not an administrator) acknowledges: the post updates in place and the requester hears.
    acknowledge = click(
        UpgradeAction.UPGRADE_ACKNOWLEDGE,
        user=SALES_PERSON,
        value=RequestRef(id=request.id).encode(),
        channel_id=SALES,
        message_ts=posted_ts,
        response_url=fake_slack.new_response_url(),
    )
    assert (await slack.interact(acknowledge)).status == 200
    update = (await fake_slack.wait_for("chat.update")).params
    assert (update["channel"], update["ts"]) == (SALES, posted_ts)
    assert f"Acknowledged by <@{SALES_PERSON}>" in all_text(update)
    assert sales_actions(update) == [UpgradeAction.UPGRADE_DONE]
    told = await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN), count=2)
    assert "Sales acknowledged your request" in all_text(told.params)

    done = click(
        UpgradeAction.UPGRADE_DONE,
        user=SALES_PERSON,
        value=RequestRef(id=request.id).encode(),
        channel_id=SALES,
        message_ts=posted_ts,
    )
    await slack.interact(done)
    finished = (await fake_slack.wait_for("chat.update", count=2)).params
    assert f"Done by <@{SALES_PERSON}>" in all_text(finished)
    assert not any(b.get("block_id") == UpgradeBlock.SALES_ACTIONS for b in finished["blocks"])
    told = await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN), count=3)
    assert "as done" in all_text(told.params)
    assert (await store.upgrades.get("demo", request.id)).status == UpgradeStatus.DONE

    # A late click on Acknowledge changes nothing and says why, to that person only.
    late_url = fake_slack.new_response_url()
    await slack.interact({**acknowledge, "response_url": late_url})
    late = await fake_slack.wait_for("response_url", where=lambda c: c.url == late_url)
    assert "already done" in all_text(late.params)
    assert len(fake_slack.calls_to("chat.update")) == 2
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if dm_to(ADMIN)(c)]) == 3


async def test_plan_upgrade_command_opens_the_modal(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    reply = await slack.command("upgrade")
    assert reply.status == 200
    opened = await fake_slack.wait_for("views.open")
    assert opened.params["trigger_id"] == "trigger.1"
    assert opened.params["view"]["callback_id"] == UpgradeCallback.UPGRADE


async def test_a_double_submit_makes_one_request(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    """The modal submitted twice (two views a moment apart): the second is told it was a duplicate."""
    view = await open_modal(slack, fake_slack)
    payload = submission(view, kind="plan", note="We need the Enterprise plan")
    assert await submit(slack, payload) == {}
    await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN))
    again = submission({**view, "id": "V0SECOND"}, kind="plan", note="We need the Enterprise plan")
    assert await submit(slack, again) == {}
    second = await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN), count=2)
    assert "No second request was made" in all_text(second.params)
    assert len(await store.upgrades.recent("demo")) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)]) == 1


async def test_a_replayed_submission_is_applied_once(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    """The very same signed body again (a replay within the signature window): acked, nothing done."""
    view = await open_modal(slack, fake_slack)
    payload = submission(view, kind="plan", note="We need the Enterprise plan")
    assert await submit(slack, payload) == {}
    await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN))
    assert (await slack.interact(payload)).status == 200
    assert len(await store.upgrades.recent("demo")) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)]) == 1


async def test_concurrent_double_submits_make_one_request(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    view = await open_modal(slack, fake_slack)
    payload = submission(view, kind="storage_gb", quantity="50")
    other = submission({**view, "id": "V0SECOND"}, kind="storage_gb", quantity="50")
    await asyncio.gather(submit(slack, payload), submit(slack, other))
    await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN), count=2)
    assert len(await store.upgrades.recent("demo")) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)]) == 1


async def test_a_failed_sales_post_keeps_the_request_and_tells_the_requester(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    view = await open_modal(slack, fake_slack)
    fake_slack.fail("chat.postMessage", error="not_in_channel")  # the sales post, not the DM after it
    assert await submit(slack, submission(view, kind="staff_licences", quantity="5")) == {}
    told = await fake_slack.wait_for("chat.postMessage", where=lambda c: dm_to(ADMIN)(c) and c.ok)
    assert "could not be posted to the Sales channel" in all_text(told.params)
    assert "not_in_channel" in all_text(told.params)
    [request] = await store.upgrades.recent("demo")
    assert (request.delivery, request.delivery_error) == (Delivery.FAILED, "not_in_channel")


class TestWithoutASalesChannel:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"sales_channel": None})

    async def test_the_requester_is_told_and_the_request_is_stored(
        self, slack: SlackDriver, fake_slack: FakeSlack, store: Store
    ) -> None:
        view = await open_modal(slack, fake_slack)
        assert await submit(slack, submission(view, kind="video_minutes", quantity="500")) == {}
        told = await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN))
        assert "Sales has not been notified" in all_text(told.params)
        assert "no sales channel is set up" in all_text(told.params)
        [request] = await store.upgrades.recent("demo")
        assert (request.delivery, request.quantity) == (Delivery.NO_CHANNEL, 500)
        assert [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")] == [ADMIN]


# --------------------------------------------------------------------------------- the form checks


async def test_a_missing_or_bad_quantity_is_shown_on_the_field(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    view = await open_modal(slack, fake_slack)
    stale = await submit(slack, submission(view, kind="voice_minutes"))
    # The modal as opened had no quantity field yet: the error goes on the "what" select.
    assert stale == {
        "response_action": "errors",
        "errors": {UpgradeBlock.UPGRADE_KIND: "Enter how many minutes you need."},
    }
    empty = await submit(slack, submission(view, kind="voice_minutes", quantity=""))
    assert empty["errors"] == {UpgradeBlock.UPGRADE_QUANTITY: "Enter how many minutes you need."}
    bad = await submit(slack, submission(view, kind="voice_minutes", quantity="12.5"))
    assert bad["errors"] == {UpgradeBlock.UPGRADE_QUANTITY: "Enter a whole number from 1 to 1,000,000."}
    nothing = await submit(slack, submission(view, kind=None))
    assert nothing["errors"] == {UpgradeBlock.UPGRADE_KIND: "Choose what you need."}
    assert await store.upgrades.recent("demo") == []


# ---------------------------------------------------------------------------------------- add-ons


async def test_request_add_on_opens_the_modal_prefilled_and_reaches_sales(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    menu = click(
        PlanAction.FEATURE_MENU,
        action_type="overflow",
        selected_option={
            "value": MenuChoice(verb=MenuVerb.REQUEST_ADDON, feature=FeatureKey.CAMPAIGNS).encode(),
            "text": {"type": "plain_text", "text": "Request add-on"},
        },
        view={"type": "home", "id": "V0HOME"},
    )
    assert (await slack.interact(menu)).status == 200
    view = (await fake_slack.wait_for("views.open")).params["view"]
    assert view["title"]["text"] == "Request an add-on"
    kind_block = next(b for b in view["blocks"] if b.get("block_id") == UpgradeBlock.UPGRADE_KIND)
    feature_block = next(b for b in view["blocks"] if b.get("block_id") == UpgradeBlock.UPGRADE_FEATURE)
    assert kind_block["element"]["initial_option"]["value"] == "feature"
    assert feature_block["element"]["initial_option"]["value"] == "campaigns"

    assert await submit(slack, submission(view, kind="feature", feature="campaigns")) == {}
    post = await fake_slack.wait_for("chat.postMessage", where=to_sales)
    assert "Add-on request" in all_text(post.params)
    assert "Add-on: Campaigns" in all_text(post.params)
    [request] = await store.upgrades.recent("demo")
    assert request.feature == FeatureKey.CAMPAIGNS


async def test_an_add_on_for_a_feature_already_in_the_plan_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    view = await open_modal(slack, fake_slack)
    answer = await submit(slack, submission(view, kind="feature", feature="directory"))
    assert answer["errors"] == {
        UpgradeBlock.UPGRADE_FEATURE: "Directory is not a locked feature of your plan."
    }
    assert await store.upgrades.recent("demo") == []


# ------------------------------------------------------------------------------------------ roles


async def test_staff_clicking_upgrade_on_a_reply_are_told_who_their_administrators_are(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    url = fake_slack.new_response_url()
    await slack.interact(click(UpgradeAction.UPGRADE_OPEN, user=STAFF, response_url=url))
    told = await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert told.params["response_type"] == "ephemeral"
    assert f"Only administrators can request upgrades and add-ons. Ask <@{ADMIN}>" in all_text(told.params)
    assert fake_slack.calls_to("views.open") == []


async def test_staff_clicking_upgrade_on_the_home_tab_get_the_explanation_in_a_modal(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.interact(click(UpgradeAction.UPGRADE_OPEN, user=STAFF, view={"type": "home", "id": "V0HOME"}))
    opened = await fake_slack.wait_for("views.open")
    assert opened.params["view"].get("callback_id") is None  # an explanation, not the request form
    assert f"Ask <@{ADMIN}>" in all_text(opened.params)


async def test_staff_running_plan_upgrade_are_refused(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert f"Ask <@{ADMIN}>" in all_text(await slack.run("upgrade", user=STAFF))
    assert fake_slack.calls_to("views.open") == []


async def test_a_forged_submission_by_staff_is_refused_and_nothing_is_stored_or_posted(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    view = await open_modal(slack, fake_slack)  # opened by the administrator
    answer = await submit(slack, submission(view, kind="plan", user=STAFF))
    assert answer["response_action"] == "update"
    assert f"Ask <@{ADMIN}>" in all_text(answer)
    # A request the app did store afterwards would have been posted: check a later command's reply
    # arrives with nothing before it.
    await slack.run("help")
    assert await store.upgrades.recent("demo") == []
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_staff_cannot_request_add_ons_from_the_menu(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    menu = click(
        PlanAction.FEATURE_MENU,
        user=STAFF,
        action_type="overflow",
        selected_option={
            "value": MenuChoice(verb=MenuVerb.REQUEST_ADDON, feature=FeatureKey.CAMPAIGNS).encode(),
            "text": {"type": "plain_text", "text": "Request add-on"},
        },
        response_url=fake_slack.new_response_url(),
    )
    await slack.interact(menu)
    told = await fake_slack.wait_for("response_url")
    assert f"Ask <@{ADMIN}>" in all_text(told.params)
    assert fake_slack.calls_to("views.open") == []


# ------------------------------------------------------------------------------- tenant isolation


async def test_sales_in_another_workspace_cannot_act_on_a_request(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    await link_other_account(store)
    view = await open_modal(slack, fake_slack)
    await submit(slack, submission(view, kind="plan"))
    await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN))
    [request] = await store.upgrades.recent("demo")

    url = fake_slack.new_response_url()
    forged = click(
        UpgradeAction.UPGRADE_ACKNOWLEDGE,
        user="U0INTRUDER",
        team=OTHER_TEAM,
        value=RequestRef(id=request.id).encode(),
        channel_id=SALES,
        response_url=url,
    )
    await slack.interact(forged)
    told = await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert f"I can't find request `{request.id}`" in all_text(told.params)
    assert (await store.upgrades.get("demo", request.id)).status == UpgradeStatus.REQUESTED
    assert fake_slack.calls_to("chat.update") == []


async def test_a_submission_naming_another_account_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    await link_other_account(store)
    view = await open_modal(slack, fake_slack)  # the demo account's modal…
    answer = await submit(
        slack, submission(view, kind="plan", user=OTHER_ADMIN, team=OTHER_TEAM)
    )  # …sent from elsewhere
    assert answer["response_action"] == "update"
    assert "This form has expired. Please open the upgrade request form again." in all_text(answer)
    await slack.run("help")
    assert await store.upgrades.recent("demo") == []
    assert await store.upgrades.recent("other") == []
    assert fake_slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    ("feature", "refusal"),
    [
        ("campaigns", "Campaigns is already part of your plan (available)"),  # locked for demo, not here
        ("directory", "I can't find the feature Directory"),  # demo has it; this account does not
    ],
)
async def test_an_add_on_request_naming_another_accounts_feature_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, feature: str, refusal: str
) -> None:
    await link_other_account(
        store,
        {FeatureKey.CAMPAIGNS: FeatureDoc(status=FeatureStatus.AVAILABLE, used=1, limit=5, unit="campaigns")},
    )
    url = fake_slack.new_response_url()
    menu = click(
        PlanAction.FEATURE_MENU,
        user=OTHER_ADMIN,
        team=OTHER_TEAM,
        action_type="overflow",
        selected_option={
            "value": MenuChoice(verb=MenuVerb.REQUEST_ADDON, feature=FeatureKey(feature)).encode(),
            "text": {"type": "plain_text", "text": "Request add-on"},
        },
        response_url=url,
    )
    await slack.interact(menu)
    told = await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert refusal in all_text(told.params)
    assert fake_slack.calls_to("views.open") == []
