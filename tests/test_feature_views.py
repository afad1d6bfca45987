"""The Plan Monitoring and upgrade view builders are pure: content, menus and Slack's limits without I/O."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.devtools.blockkit import validate_message, validate_view
from bot.upgrade.summary import high_figures
from handlers.home import HomeTab, home_view
from handlers.payloads import ViewState
from handlers.plan.features import (
    MenuChoice,
    MenuVerb,
    feature_section,
    features_message,
    menu_choices,
    plan_monitoring_blocks,
)
from handlers.upgrade.form import (
    UpgradeForm,
    UpgradeModalMetadata,
    addon_errors,
    cleaned,
    locked_features,
    read_upgrade_form,
    upgrade_form_errors,
)
from handlers.upgrade.ids import Action as UpgradeAction
from handlers.upgrade.ids import Block as UpgradeBlock
from handlers.upgrade.sales import RequestRef, sales_message
from handlers.upgrade.views import delivery_message, emailed_message, upgrade_modal
from store.domain.plan import (
    Feature,
    FeatureKey,
    FeatureStatus,
    PlanSnapshot,
)
from store.domain.upgrades import Delivery, EmailStatus, Evidence, UpgradeKind, UpgradeRequest, UpgradeStatus
from tests.support.blocks import action_ids, buttons
from tests.support.clock import DEMO_NOW
from tests.support.plans import demo_plan


def dashboard(path: str) -> str:
    return "https://dash.example" + path


def feature(plan: PlanSnapshot, key: FeatureKey) -> Feature:
    return next(f for f in plan.features if f.key == key)


def section_text(block: Any) -> str:
    return str(block.to_dict()["text"]["text"])


# --------------------------------------------------------------------------------------- features


def test_the_home_plan_tab_stays_within_slacks_limits_with_every_feature() -> None:
    long_reason = {"pending_reason": "x" * 300}
    plan = demo_plan(omnichannels=long_reason)
    assert len(plan.features) == len(FeatureKey)
    view = home_view(HomeTab.PLAN, plan_monitoring_blocks(plan, is_admin=True, dashboard=dashboard)).to_dict()
    assert len(view["blocks"]) <= 100
    assert validate_view(view, where="home") == []


@pytest.mark.parametrize("is_admin", [True, False])
def test_features_message_is_valid_block_kit(is_admin: bool) -> None:
    message = features_message(demo_plan(), is_admin=is_admin, dashboard=dashboard)
    assert validate_message(message.as_kwargs(), where="features") == []
    assert "Campaigns: Locked" in message.text


@pytest.mark.parametrize(
    ("key", "is_admin", "verbs", "says"),
    [
        (
            FeatureKey.VIRTUAL_NUMBERS,
            True,
            [MenuVerb.CREATE, MenuVerb.MANAGE],
            "8 of 10 numbers · USD 40.00/month",
        ),
        (FeatureKey.VIRTUAL_NUMBERS, False, [MenuVerb.CREATE, MenuVerb.MANAGE], "8 of 10 numbers"),
        (
            FeatureKey.OMNICHANNELS,
            True,
            [MenuVerb.CONFIGURE, MenuVerb.MANAGE],
            "|Configure it in the dashboard>",
        ),
        (FeatureKey.OMNICHANNELS, False, [MenuVerb.MANAGE], "An administrator can configure it."),
        (FeatureKey.EXTERNAL_CONTACTS, True, [MenuVerb.MANAGE], "Being activated since <!date^"),
        (FeatureKey.EXTERNAL_CONTACTS, False, [MenuVerb.MANAGE], "it will be available shortly"),
        (FeatureKey.CAMPAIGNS, True, [MenuVerb.REQUEST_ADDON], "Choose *Request add-on*"),
        (FeatureKey.CAMPAIGNS, False, [], "An administrator can request it as an add-on."),
    ],
)
def test_each_status_says_what_it_means_and_offers_what_the_reader_may_do(
    key: FeatureKey, is_admin: bool, verbs: list[MenuVerb], says: str
) -> None:
    item = feature(demo_plan(), key)
    block = feature_section(item, currency="USD", is_admin=is_admin, dashboard=dashboard)
    assert says in section_text(block)
    assert menu_choices(item, is_admin=is_admin) == verbs
    accessory = block.to_dict().get("accessory")
    offered = [o["value"] for o in accessory["options"]] if accessory else []
    assert offered == [MenuChoice(verb=v, feature=key).encode() for v in verbs]


def test_links_fall_back_and_vanish_with_their_paths() -> None:
    plan = demo_plan(
        omnichannels={"configure_path": None},
        directory={"create_path": None, "manage_path": None, "limit": None},
    )
    pending = feature(plan, FeatureKey.OMNICHANNELS)
    block = feature_section(pending, currency="USD", is_admin=True, dashboard=dashboard).to_dict()
    assert (
        block["accessory"]["options"][0]["url"] == "https://dash.example/omnichannels"
    )  # Configure → Manage page
    no_paths = feature(plan, FeatureKey.DIRECTORY)
    bare = feature_section(no_paths, currency="USD", is_admin=True, dashboard=dashboard).to_dict()
    assert "accessory" not in bare
    assert "164 contacts" in bare["text"]["text"]  # no limit: no bar


def test_menu_choices_round_trip_and_reject_anything_else() -> None:
    choice = MenuChoice(verb=MenuVerb.REQUEST_ADDON, feature=FeatureKey.CAMPAIGNS)
    assert MenuChoice.decode(choice.encode()) == choice
    for garbage in [
        "",
        "addon",
        "addon:nothing",
        "delete:campaigns",
        "addon:campaigns",  # as an older version drew it
        '{"verb": "addon"}',
        '{"verb": "addon", "feature": "nothing"}',
        '{"verb": "delete", "feature": "campaigns"}',
    ]:
        assert MenuChoice.decode(garbage) is None, garbage


# ---------------------------------------------------------------------------------------- the modal


def blocks_of(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in view["blocks"]]


def test_the_modal_shows_the_fields_the_kind_needs() -> None:
    plan = demo_plan()
    meta = UpgradeModalMetadata(account_id="demo")
    empty = upgrade_modal(plan, UpgradeForm(), meta).to_dict()
    assert blocks_of(empty)[1:] == [UpgradeBlock.UPGRADE_KIND, UpgradeBlock.UPGRADE_NOTE]
    assert UpgradeModalMetadata.decode(empty["private_metadata"]) == meta

    voice = upgrade_modal(plan, UpgradeForm(kind=UpgradeKind.VOICE_MINUTES, quantity=500), meta).to_dict()
    assert blocks_of(voice)[1:] == [
        UpgradeBlock.UPGRADE_KIND,
        UpgradeBlock.UPGRADE_QUANTITY,
        UpgradeBlock.UPGRADE_NOTE,
    ]
    quantity = voice["blocks"][2]
    assert quantity["label"]["text"] == "How many more minutes?"
    assert quantity["element"]["initial_value"] == "500"
    assert "3,960 of 5,000 min used" in quantity["hint"]["text"]

    addon = upgrade_modal(
        plan, UpgradeForm(kind=UpgradeKind.FEATURE, feature=FeatureKey.CAMPAIGNS), meta
    ).to_dict()
    assert addon["title"]["text"] == "Request an add-on"
    options = addon["blocks"][2]["element"]["options"]
    assert [o["value"] for o in options] == ["campaigns"]  # only locked features can be requested
    for view in (empty, voice, addon):
        assert validate_view(view, where="modal") == []


def test_unlocking_is_not_offered_when_nothing_is_locked() -> None:
    plan = demo_plan(campaigns={"status": FeatureStatus.AVAILABLE})
    view = upgrade_modal(plan, UpgradeForm(), UpgradeModalMetadata(account_id="demo")).to_dict()
    kinds = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert "feature" not in kinds
    assert kinds[0] == "plan"


def test_metadata_that_is_not_ours_reads_as_none() -> None:
    assert UpgradeModalMetadata.decode("") is None
    assert UpgradeModalMetadata.decode("not json") is None
    assert UpgradeModalMetadata.decode('{"account": "demo"}') is None


def state(**fields: Any) -> ViewState:
    values: dict[str, Any] = {}
    for name, value in fields.items():
        block = getattr(UpgradeBlock, f"UPGRADE_{name.upper()}")
        action = getattr(UpgradeAction, f"UPGRADE_{name.upper()}")
        element = {"selected_option": {"value": value}} if name in ("kind", "feature") else {"value": value}
        values[block] = {action: element}
    return ViewState(values)


def test_the_form_is_read_into_a_model_with_errors_by_field() -> None:
    form, errors = read_upgrade_form(state(kind="storage_gb", quantity="50", note="  more room  "))
    assert (form, errors) == (UpgradeForm(kind=UpgradeKind.STORAGE, quantity=50, note="more room"), {})
    _, errors = read_upgrade_form(
        state(kind="everything", quantity="-3", feature="teleporter", note="x" * 1001)
    )
    assert set(errors) == {
        UpgradeBlock.UPGRADE_KIND,
        UpgradeBlock.UPGRADE_QUANTITY,
        UpgradeBlock.UPGRADE_FEATURE,
        UpgradeBlock.UPGRADE_NOTE,
    }
    assert read_upgrade_form(ViewState({})) == (UpgradeForm(), {})


def test_a_request_must_make_sense_for_the_plan() -> None:
    plan = demo_plan()
    assert upgrade_form_errors(UpgradeForm()) == {UpgradeBlock.UPGRADE_KIND: "Choose what you need."}
    assert upgrade_form_errors(UpgradeForm(kind=UpgradeKind.STAFF_LICENCES)) == {
        UpgradeBlock.UPGRADE_QUANTITY: "Enter how many licences you need."
    }
    assert UpgradeBlock.UPGRADE_FEATURE in upgrade_form_errors(UpgradeForm(kind=UpgradeKind.FEATURE))
    campaigns = UpgradeForm(kind=UpgradeKind.FEATURE, feature=FeatureKey.CAMPAIGNS)
    assert upgrade_form_errors(campaigns) == addon_errors(campaigns, plan) == {}
    unlocked = next(f.key for f in plan.features if f.key not in locked_features(plan))
    assert addon_errors(campaigns.model_copy(update={"feature": unlocked}), plan) == {
        UpgradeBlock.UPGRADE_FEATURE: f"{unlocked.info.name} is not a locked feature of your plan."
    }
    assert upgrade_form_errors(UpgradeForm(kind=UpgradeKind.PLAN)) == {}
    assert addon_errors(UpgradeForm(kind=UpgradeKind.PLAN), plan) == {}
    # What does not apply to the kind is dropped, not sent to Sales.
    assert cleaned(
        UpgradeForm(kind=UpgradeKind.PLAN, quantity=5, feature=FeatureKey.CAMPAIGNS)
    ) == UpgradeForm(kind=UpgradeKind.PLAN)


# ------------------------------------------------------------------------------ the sales message


def request(**changes: Any) -> UpgradeRequest:
    fields: dict[str, Any] = {
        "id": "UR-0123456789",
        "account_id": "demo",
        "team_id": "T0DEMO",
        "requested_by": "U0DEMOADMIN",
        "kind": UpgradeKind.VOICE_MINUTES,
        "quantity": 2000,
        "note": "Busy season\nfrom December",
        "evidence": Evidence.of(demo_plan()),
        "status": UpgradeStatus.REQUESTED,
        "created_at": DEMO_NOW,
        "updated_at": DEMO_NOW,
        "delivery": Delivery.PENDING,
    }
    return UpgradeRequest.model_validate({**fields, **changes})


def test_the_sales_message_carries_the_evidence_and_flags_high_usage() -> None:
    message = sales_message(request())
    assert validate_message(message.as_kwargs(), where="sales") == []
    text = json.dumps(message.as_kwargs())
    assert "> Busy season\\n> from December" in text
    assert [f.name for f in high_figures(request().evidence)] == [
        "Staff licences",
        "Virtual Numbers",
        "Staff Accounts",
    ]
    assert "Staff licences (84%), Virtual Numbers (80%), Staff Accounts (84%)" in text
    assert "UR-0123456789" in message.text


def test_nothing_high_is_said_plainly() -> None:
    plan = demo_plan(virtual_numbers={"used": 1}, staff_accounts={"used": 10}).model_copy(
        update={"subscription": demo_plan().subscription.model_copy(update={"staff_licences_assigned": 10})}
    )
    evidence = Evidence.of(plan)
    assert high_figures(evidence) == []
    assert "Nothing is at or above 80%" in json.dumps(sales_message(request(evidence=evidence)).as_kwargs())


def test_the_sales_buttons_follow_the_status() -> None:
    def actions(r: UpgradeRequest) -> list[str]:
        blocks = sales_message(r).as_kwargs()["blocks"]
        return action_ids([b for b in blocks if b.get("block_id") == UpgradeBlock.SALES_ACTIONS])

    later = DEMO_NOW + timedelta(hours=1)
    assert actions(request()) == [UpgradeAction.UPGRADE_ACKNOWLEDGE, UpgradeAction.UPGRADE_DONE]
    # Both buttons name the request they are about.
    assert [e["value"] for e in buttons(sales_message(request()).as_kwargs())] == [
        RequestRef(id="UR-0123456789").encode()
    ] * 2
    acked = request(status=UpgradeStatus.ACKNOWLEDGED, acknowledged_by="U0S", acknowledged_at=later)
    assert actions(acked) == [UpgradeAction.UPGRADE_DONE]
    assert "Acknowledged by <@U0S>" in json.dumps(sales_message(acked).as_kwargs())
    assert actions(request(status=UpgradeStatus.DONE, done_by="U0S", done_at=later)) == []


@pytest.mark.parametrize(
    ("delivery", "error", "says"),
    [
        (Delivery.DELIVERED, None, "is with the Sales team"),
        (Delivery.NO_CHANNEL, None, "no sales channel is set up"),
        (Delivery.FAILED, "channel_not_found", "(Slack said `channel_not_found`)"),
    ],
)
def test_the_requester_is_told_how_delivery_went(delivery: Delivery, error: str | None, says: str) -> None:
    message = delivery_message(request(delivery=delivery, delivery_error=error))
    assert says in message.text
    assert "More voice call minutes: 2,000 minutes" in message.text


@pytest.mark.parametrize(
    ("delivery", "error", "email", "slack_unconfirmed", "says"),
    [
        (Delivery.DELIVERED, None, EmailStatus.SENT, False, "is with the Sales team in Slack and by email"),
        (Delivery.DELIVERED, None, EmailStatus.FAILED, False, "in Slack (the email copy could not be sent)"),
        (Delivery.NO_CHANNEL, None, EmailStatus.SENT, False, "was emailed to the Sales team, with your plan"),
        (
            Delivery.FAILED,
            "not_in_channel",
            EmailStatus.SENT,
            False,
            "attached; the post to the Sales channel failed (Slack said `not_in_channel`).",
        ),
        (
            Delivery.FAILED,
            "unconfirmed: TimeoutError",
            EmailStatus.SENT,
            True,
            "attached; Slack did not confirm the post to the Sales channel.",
        ),
        (
            Delivery.NO_CHANNEL,
            None,
            EmailStatus.FAILED,
            False,
            "*Sales could not be reached*: no sales channel is set up for My Plan, and it could not be emailed",
        ),
        (
            Delivery.FAILED,
            "unconfirmed: TimeoutError",
            EmailStatus.UNCONFIRMED,
            True,
            "*Sales may not have it*: Slack did not confirm the post to the Sales channel, and the mail server",
        ),
    ],
)
def test_the_requester_is_told_where_an_emailed_request_reached_sales(
    delivery: Delivery, error: str | None, email: EmailStatus, slack_unconfirmed: bool, says: str
) -> None:
    emailed = request(delivery=delivery, delivery_error=error, email_status=email)
    message = emailed_message(emailed, slack_unconfirmed=slack_unconfirmed)
    assert says in message.text
    assert "More voice call minutes: 2,000 minutes" in message.text


def test_evidence_keeps_money_and_usage_exact() -> None:
    evidence = Evidence.of(demo_plan())
    again = Evidence.model_validate(json.loads(json.dumps(evidence.model_dump(mode="json"))))
    assert again == evidence
    assert again.monthly_fee == Decimal("1299.00")
