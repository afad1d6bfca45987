"""Plan Monitoring end to end: the Home's Plan tab, `/plan features`, feature menus, Share in channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import block_actions_payload
from handlers.home import HomeTab
from handlers.plan.features import MenuChoice, MenuVerb
from handlers.plan.ids import FEATURE_BLOCK
from handlers.plan.ids import Action as PlanAction
from handlers.plan.ids import Block as PlanBlock
from handlers.upgrade.ids import Action as UpgradeAction
from handlers.upgrade.ids import Callback as UpgradeCallback
from store import Store
from store.domain.plan import FeatureKey
from tests.support.slackdriver import ADMIN, STAFF, TEAM, SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")

DASHBOARD = "https://dashboard.maaiiconnect.com"


def home_opened(user: str = ADMIN, tab: str = "home") -> dict[str, object]:
    return {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, "event_ts": "1.2"}


def feature_block(blocks: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(b for b in blocks if b.get("block_id") == FEATURE_BLOCK.id(key))


def menu(blocks: list[dict[str, Any]], key: str) -> list[tuple[str, str | None]]:
    accessory = feature_block(blocks, key).get("accessory")
    return [(o["text"]["text"], o.get("url")) for o in accessory["options"]] if accessory else []


def menu_click(choice: MenuChoice, *, user: str = ADMIN, **kwargs: Any) -> dict[str, Any]:
    return block_actions_payload(
        team_id=TEAM,
        user_id=user,
        action_id=PlanAction.FEATURE_MENU,
        action_type="overflow",
        selected_option={"value": choice.encode(), "text": {"type": "plain_text", "text": choice.verb.label}},
        **kwargs,
    )


async def test_opening_the_home_publishes_plan_monitoring_with_both_feature_groups(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.event(home_opened())).status == 200
    view = (await fake_slack.wait_for("views.publish")).params["view"]
    text = all_text({"blocks": view["blocks"]})
    assert "BUSINESS" in text  # the subscription summary, as `/plan`
    assert "3,960 of 5,000 min" in text
    assert "Where your customers come from" in text
    assert "How your staff engage with your customers" in text
    upgrade = next(b for b in view["blocks"] if b.get("block_id") == PlanBlock.PLAN_ACTIONS)
    # No Share on the Home.
    assert [e["action_id"] for e in upgrade["elements"]] == [UpgradeAction.UPGRADE_OPEN]
    assert len(view["blocks"]) <= 100


async def test_each_status_has_its_own_content_and_menu_for_administrators(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.event(home_opened())
    blocks = (await fake_slack.wait_for("views.publish")).params["view"]["blocks"]

    available = all_text({"blocks": [feature_block(blocks, "virtual_numbers")]})
    assert "Available" in available
    assert "8 of 10 numbers" in available
    assert "USD 40.00/month" in available
    assert menu(blocks, "virtual_numbers") == [
        ("Create", f"{DASHBOARD}/virtual-numbers/new"),
        ("Manage", f"{DASHBOARD}/virtual-numbers"),
    ]

    pending = all_text({"blocks": [feature_block(blocks, "omnichannels")]})
    assert "Pending" in pending
    assert "Connect your WhatsApp Business account" in pending
    assert f"<{DASHBOARD}/omnichannels/whatsapp/setup|Configure it in the dashboard>" in pending
    assert menu(blocks, "omnichannels") == [
        ("Configure", f"{DASHBOARD}/omnichannels/whatsapp/setup"),
        ("Manage", f"{DASHBOARD}/omnichannels"),
    ]

    processing = all_text({"blocks": [feature_block(blocks, "external_contacts")]})
    assert "Being activated since <!date^" in processing
    assert menu(blocks, "external_contacts") == [("Manage", f"{DASHBOARD}/external-contacts")]

    locked = all_text({"blocks": [feature_block(blocks, "campaigns")]})
    assert "Not in your plan" in locked
    assert menu(blocks, "campaigns") == [("Request add-on", None)]


async def test_staff_see_only_the_options_they_may_use(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    blocks = (await slack.run("features", user=STAFF))["blocks"]
    assert menu(blocks, "virtual_numbers") == [
        ("Create", f"{DASHBOARD}/virtual-numbers/new"),
        ("Manage", f"{DASHBOARD}/virtual-numbers"),
    ]
    assert menu(blocks, "omnichannels") == [("Manage", f"{DASHBOARD}/omnichannels")]
    assert "Configure it in the dashboard" not in all_text({"blocks": blocks})
    assert "An administrator can configure it" in all_text({"blocks": blocks})
    assert menu(blocks, "campaigns") == []
    assert "An administrator can request it as an add-on" in all_text({"blocks": blocks})


async def test_plan_features_replies_privately_with_both_groups(slack: SlackDriver) -> None:
    reply = await slack.run("features")
    assert reply["response_type"] == "ephemeral"
    text = all_text(reply)
    for name in ["Virtual Numbers", "Directory", "Omnichannels", "External Contacts"]:
        assert name in text
    for name in ["Destinations", "Staff Accounts", "Campaigns"]:
        assert name in text
    assert "invoice is authoritative" in text


async def test_tab_clicks_publish_the_other_tabs_without_the_features(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    for count, tab in enumerate([HomeTab.COMPANY, HomeTab.RATES, HomeTab.PLAN], start=1):
        await slack.click_tab(tab)
        view = (await fake_slack.wait_for("views.publish", count=count)).params["view"]
        has_features = any(FEATURE_BLOCK.suffix_of(b.get("block_id", "")) is not None for b in view["blocks"])
        assert has_features == (tab == HomeTab.PLAN), tab


async def test_a_messages_tab_open_publishes_nothing(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event(home_opened(tab="messages"))
    await slack.run("help")  # a later request's reply: the event had its turn before it
    assert fake_slack.calls_to("views.publish") == []


@pytest.mark.parametrize(
    "choice",
    [
        MenuChoice(verb=MenuVerb.CREATE, feature=FeatureKey.VIRTUAL_NUMBERS),
        MenuChoice(verb=MenuVerb.MANAGE, feature=FeatureKey.DIRECTORY),
        MenuChoice(verb=MenuVerb.CONFIGURE, feature=FeatureKey.OMNICHANNELS),
        MenuChoice(verb=MenuVerb.MANAGE, feature=FeatureKey.EXTERNAL_CONTACTS),
    ],
    ids=lambda choice: f"{choice.verb.value}:{choice.feature.value}",
)
async def test_dashboard_link_clicks_are_acked_and_change_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, choice: MenuChoice
) -> None:
    audit_before = await store.audit.recent("demo")
    response = await slack.interact(menu_click(choice, view={"type": "home", "id": "V0HOME"}))
    assert response.status == 200
    assert await response.text() == ""
    # A later click on the same menu that does act (Request add-on opens the modal): the link click's
    # work had its turn before it, so whatever that did is recorded by now.
    addon = MenuChoice(verb=MenuVerb.REQUEST_ADDON, feature=FeatureKey.CAMPAIGNS)
    await slack.interact(menu_click(addon, view={"type": "home", "id": "V0HOME"}))
    await fake_slack.wait_for(
        "views.open", where=lambda c: c.params["view"].get("callback_id") == UpgradeCallback.UPGRADE
    )
    assert [c.method for c in fake_slack.calls if c.method not in ("auth.test", "users.info")] == [
        "views.open"
    ]
    assert await store.upgrades.recent("demo") == []
    assert await store.audit.recent("demo") == audit_before


def published_to(user: str) -> Callable[[RecordedCall], bool]:
    return lambda call: call.params.get("user_id") == user


async def test_staff_see_only_what_they_may_use(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    """Upgrade is for administrators: staff see no Upgrade on `/plan`, `/plan features` or the Home."""

    def actions(blocks: list[dict[str, Any]]) -> list[str]:
        return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]

    for user, upgrade in ((STAFF, False), (ADMIN, True)):
        for text in ("", "features"):
            blocks = (await slack.run(text, user=user))["blocks"]
            assert (UpgradeAction.UPGRADE_OPEN in actions(blocks)) is upgrade, (user, text)
        await slack.click_tab(HomeTab.PLAN, user=user)
        home = await fake_slack.wait_for("views.publish", where=published_to(user))
        assert (UpgradeAction.UPGRADE_OPEN in actions(home.params["view"]["blocks"])) is upgrade, user


async def test_share_in_channel_posts_the_summary_visibly(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    reply = await slack.run("", user=STAFF)
    share = next(b for b in reply["blocks"] if b.get("block_id") == PlanBlock.PLAN_ACTIONS)
    assert [e["action_id"] for e in share["elements"]] == [PlanAction.PLAN_SHARE], "staff get no Upgrade"

    url = fake_slack.new_response_url()
    click = block_actions_payload(
        team_id=TEAM, user_id=STAFF, action_id=PlanAction.PLAN_SHARE, response_url=url
    )
    await slack.interact(click)
    shared = (await fake_slack.wait_for("response_url", where=lambda c: c.url == url)).params
    assert shared["response_type"] == "in_channel"
    assert shared["replace_original"] is False
    text = all_text(shared)
    assert "BUSINESS" in text
    assert f"Shared by <@{STAFF}>" in text
    assert not any(b["type"] == "actions" for b in shared["blocks"])  # a shared post has no buttons


async def test_plan_shows_the_feature_overview_and_the_buttons(slack: SlackDriver) -> None:
    text = all_text(await slack.run(""))
    assert "4 available · 1 need configuring · 1 being activated · 1 locked" in text
    assert "Upgrade" in text
    assert "Share in channel" in text
