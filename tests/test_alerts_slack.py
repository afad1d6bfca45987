"""Quota alerts through Slack: `/plan alerts`, `/plan usage`, and the alert message's buttons."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.alerts.rules import SnoozeChoice
from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import block_actions_payload
from bot.settings import Settings
from handlers.alerts.ids import METER_BLOCK
from handlers.alerts.ids import Action as AlertsAction
from handlers.alerts.ids import Block as AlertsBlock
from handlers.alerts.ids import Callback as AlertsCallback
from handlers.alerts.service import AlertService
from handlers.alerts.settings import AlertSettingsMeta
from handlers.alerts.views import AlertRef, SnoozeValue
from handlers.services import Services
from handlers.upgrade.ids import Callback as UpgradeCallback
from store import Store
from store.domain.alerts import Alert, AlertRules, AlertStatus
from tests.support.alert_settings import settings_state, submission
from tests.support.alerting import ACCOUNT, ADMIN, ALERTS_CHANNEL, posts, read, service, use_alerts_channel
from tests.support.clock import DEMO_NOW, FakeClock
from tests.support.slackdriver import STAFF, TEAM, SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
async def alerts(store: Store, fake_slack: FakeSlack, clock: FakeClock) -> AsyncIterator[AlertService]:
    alerts = service(store, fake_slack, clock)
    yield alerts
    await alerts.close()


@pytest.fixture
def services(settings: Settings, store: Store, alerts: AlertService, clock: FakeClock) -> Services:
    return Services.build(settings, store, alerts=lambda *_: alerts, clock=clock)


async def posted_alert(store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock) -> Alert:
    """Voice minutes cross 80% and the alert is posted to the alerts channel."""
    await use_alerts_channel(
        store,
        overrides=dict.fromkeys(("staff_licences", "feature:virtual_numbers", "feature:staff_accounts"), ()),
    )
    await store.usage.clear(ACCOUNT)
    await read(store, clock, "voice_minutes", 4100)
    await alerts.on_usage(ACCOUNT)
    await alerts.idle()
    (alert,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.status == AlertStatus.SENT]
    return alert


def click(
    alert: Alert,
    action_id: str,
    *,
    user: str = ADMIN,
    fake: FakeSlack,
    value: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A click on one of the alert message's buttons (its value as drawn, unless `value` says otherwise)."""
    return block_actions_payload(
        team_id=TEAM,
        user_id=user,
        action_id=action_id,
        value=AlertRef(id=alert.id).encode() if value is None else value,
        channel_id=ALERTS_CHANNEL,
        message_ts=alert.message_ts or "",
        response_url=fake.new_response_url(),
        **extra,
    )


async def reply_to(fake: FakeSlack, payload: dict[str, Any]) -> RecordedCall:
    return await fake.wait_for("response_url", where=lambda c: c.url == payload["response_url"])


# ------------------------------------------------------------------------------------ /plan alerts


async def test_administrators_get_the_settings_modal(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    reply = await slack.command("alerts")
    assert reply.status == 200
    opened = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == AlertsCallback.ALERT_SETTINGS
    block_ids = [b.get("block_id") for b in view["blocks"]]
    assert AlertsBlock.ALERTS_CHANNEL in block_ids
    assert METER_BLOCK.id("voice_minutes") in block_ids
    assert METER_BLOCK.id("feature:virtual_numbers") in block_ids
    assert METER_BLOCK.id("feature:campaigns") not in block_ids, "locked features are not watched"
    thresholds = next(b for b in view["blocks"] if b.get("block_id") == AlertsBlock.ALERTS_THRESHOLDS)
    assert [o["value"] for o in thresholds["element"]["initial_options"]] == ["80", "90", "100"]
    assert "None yet" in all_text(opened.params)


async def test_staff_see_the_settings_read_only(slack: SlackDriver, store: Store) -> None:
    await use_alerts_channel(store)
    text = all_text(await slack.run("alerts", user=STAFF))
    assert f"<#{ALERTS_CHANNEL}>" in text
    assert "80%, 90%, 100%" in text
    assert f"Only administrators can change these. Ask <@{ADMIN}>" in text


async def test_saving_the_settings_stores_audits_confirms_and_evaluates(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, alerts: AlertService
) -> None:
    response = await slack.interact(
        submission(settings_state(video_minutes=["30"], staff_licences=["off"], voice_minutes=[]))
    )
    assert response.status == 200
    assert (await response.text()) == "", "the modal closes"

    confirmation = await fake_slack.wait_for("chat.postEphemeral")
    assert confirmation.params["channel"] == "C0GENERAL"
    assert "Quota alerts are on" in all_text(confirmation.params)
    notice = await fake_slack.wait_for(
        "chat.postMessage", where=lambda c: "will be posted here" in c.params["text"]
    )
    assert notice.params["channel"] == ALERTS_CHANNEL

    rules = await store.alerts.rules(ACCOUNT)
    assert rules.model_copy(update={"updated_at": None}) == AlertRules(
        channel=ALERTS_CHANNEL,
        channel_team_id=TEAM,
        thresholds=(80, 95),
        overrides={"video_minutes": (30,), "staff_licences": ()},
        updated_by=ADMIN,
        time_zone_set=True,
    )
    (entry,) = await store.audit.recent(ACCOUNT, action="alerts.settings")
    assert entry.actor == ADMIN
    assert entry.after is not None
    assert entry.after["overrides"] == {"staff_licences": [], "video_minutes": [30]}

    # The new thresholds are evaluated at once: video minutes are at 32%, past the new 30%.
    await alerts.idle()
    alert = await fake_slack.wait_for(
        "chat.postMessage", where=lambda c: "Video call minutes: 30%" in c.params["text"]
    )
    assert alert.params["channel"] == ALERTS_CHANNEL


@pytest.mark.parametrize(
    ("state", "block_id", "message"),
    [
        (settings_state(channel=None), AlertsBlock.ALERTS_CHANNEL, "Choose the channel"),
        (settings_state(thresholds=()), AlertsBlock.ALERTS_THRESHOLDS, "at least one threshold"),
        (settings_state(voice_minutes=["off", "50"]), METER_BLOCK.id("voice_minutes"), "Off on its own"),
        (settings_state(channel="C0OUTSIDE"), AlertsBlock.ALERTS_CHANNEL, "Invite My Plan"),
    ],
    ids=["no-channel", "no-threshold", "off-and-thresholds", "not-a-member"],
)
async def test_settings_errors_show_on_the_field(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    store: Store,
    state: dict[str, Any],
    block_id: str,
    message: str,
) -> None:
    fake_slack.channels["C0OUTSIDE"] = {"is_member": False}
    response = await slack.interact(submission(state))
    body = await response.json()
    assert body["response_action"] == "errors"
    assert message in body["errors"][block_id]
    assert await store.alerts.rules(ACCOUNT) == AlertRules(), "nothing saved"


async def test_turning_alerts_off_needs_no_channel(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    response = await slack.interact(submission(settings_state(enabled="off", channel=None)))
    assert (await response.text()) == ""
    assert "Quota alerts are off" in all_text((await fake_slack.wait_for("chat.postEphemeral")).params)
    assert (await store.alerts.rules(ACCOUNT)).enabled is False


@pytest.mark.parametrize(
    "metadata",
    [
        AlertSettingsMeta(account_id="other", origin_channel="C0GENERAL", meters=("voice_minutes",)).encode(),
        '{"origin_channel": "C0GENERAL", "meters": ["voice_minutes"]}',  # an older version's, unbound
        "not json",
        "",
    ],
    ids=["another-account", "unbound", "garbage", "missing"],
)
async def test_settings_whose_metadata_is_not_this_workspaces_are_refused(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, metadata: str
) -> None:
    payload = submission(settings_state())
    payload["view"]["private_metadata"] = metadata
    response = await slack.interact(payload)
    body = await response.json()
    assert body["response_action"] == "update"
    assert "This form has expired. Please open the alert settings again." in json.dumps(body["view"])
    assert await store.alerts.rules(ACCOUNT) == AlertRules(), "nothing saved"
    assert fake_slack.calls_to("chat.postEphemeral") == []


@pytest.mark.parametrize(
    "state",
    [
        settings_state(thresholds=("0",)),
        settings_state(thresholds=("101",)),
        settings_state(thresholds=("\u00b2",)),
        settings_state(voice_minutes=["-5"]),
    ],
    ids=["zero", "over-100", "superscript", "negative-override"],
)
async def test_tampered_settings_are_an_expired_form_not_a_bug(
    slack: SlackDriver, store: Store, state: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    response = await slack.interact(submission(state))
    body = await response.json()
    assert response.status == 200
    shown = json.dumps(body)
    assert "This form has expired" in shown or body.get("response_action") == "errors"
    assert await store.alerts.rules(ACCOUNT) == AlertRules(), "nothing saved"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "tampered input is not a bug"


async def test_a_submission_without_state_is_answered(slack: SlackDriver, store: Store) -> None:
    payload = submission(settings_state())
    payload["view"]["state"] = None
    response = await slack.interact(payload)
    mangled = submission(settings_state())
    mangled["view"]["state"] = {
        "values": {AlertsBlock.ALERTS_ENABLED: None, AlertsBlock.ALERTS_THRESHOLDS: 7}
    }
    assert (await slack.interact(mangled)).status == 200
    assert response.status == 200
    assert (await response.json())["response_action"] == "errors"
    assert await store.alerts.rules(ACCOUNT) == AlertRules()


async def test_only_administrators_can_save_the_settings(slack: SlackDriver, store: Store) -> None:
    response = await slack.interact(submission(settings_state(), user=STAFF))
    body = await response.json()
    assert body["response_action"] == "update"
    assert "Only administrators can change alert settings" in json.dumps(body["view"])
    assert await store.alerts.rules(ACCOUNT) == AlertRules()


# ------------------------------------------------------------------------------ the alert's buttons


async def test_acknowledge_records_who_and_updates_the_message_in_place(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    alert = await posted_alert(store, fake_slack, alerts, clock)
    clock.advance(minutes=3)
    await slack.interact(click(alert, AlertsAction.ALERT_ACKNOWLEDGE, fake=fake_slack))
    update = await fake_slack.wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (ALERTS_CHANNEL, alert.message_ts)
    text = all_text(update.params)
    assert f"Acknowledged by <@{ADMIN}>" in text
    assert "Voice call minutes: 80%" in text
    actions = [
        e["action_id"] for b in update.params["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == [AlertsAction.ALERT_VIEW_PLAN, AlertsAction.ALERT_REQUEST_MORE]

    stored = await store.alerts.get(ACCOUNT, alert.id)
    assert (stored.acknowledged_by, stored.acknowledged_at) == (ADMIN, clock.now)
    assert [e.actor for e in await store.audit.recent(ACCOUNT, action="alerts.acknowledge")] == [ADMIN]

    again = click(alert, AlertsAction.ALERT_ACKNOWLEDGE, fake=fake_slack, user="U0OTHERADMIN")
    await store.admins.add(ACCOUNT, "U0OTHERADMIN")
    await slack.interact(again)
    assert f"<@{ADMIN}> already acknowledged" in all_text((await reply_to(fake_slack, again)).params)
    assert (await store.alerts.get(ACCOUNT, alert.id)).acknowledged_by == ADMIN


async def test_acknowledging_again_puts_right_a_message_whose_update_failed(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    """The acknowledgement is kept though Slack refused the message's update; a second click, which
    finds it acknowledged, updates the message as the first would have."""
    alert = await posted_alert(store, fake_slack, alerts, clock)
    fake_slack.fail("chat.update", error="internal_error")  # refused, not retried by the transport
    await slack.interact(click(alert, AlertsAction.ALERT_ACKNOWLEDGE, fake=fake_slack))
    await fake_slack.wait_for("chat.update")
    assert (await store.alerts.get(ACCOUNT, alert.id)).acknowledged_by == ADMIN

    again = click(alert, AlertsAction.ALERT_ACKNOWLEDGE, fake=fake_slack)
    await slack.interact(again)
    assert f"<@{ADMIN}> already acknowledged" in all_text((await reply_to(fake_slack, again)).params)
    update = await fake_slack.wait_for("chat.update", where=lambda call: call.ok)
    assert update.params["ts"] == alert.message_ts
    assert f"Acknowledged by <@{ADMIN}>" in all_text(update.params)


async def test_staff_cannot_acknowledge(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    alert = await posted_alert(store, fake_slack, alerts, clock)
    payload = click(alert, AlertsAction.ALERT_ACKNOWLEDGE, fake=fake_slack, user=STAFF)
    await slack.interact(payload)
    assert "Only administrators can acknowledge alerts" in all_text(
        (await reply_to(fake_slack, payload)).params
    )
    assert (await store.alerts.get(ACCOUNT, alert.id)).acknowledged_by is None
    assert fake_slack.calls_to("chat.update") == []


async def test_snooze_records_until_when_and_holds_the_next_warning(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    alert = await posted_alert(store, fake_slack, alerts, clock)
    payload = click(
        alert,
        AlertsAction.ALERT_SNOOZE,
        fake=fake_slack,
        selected_option={
            "value": SnoozeValue(id=alert.id, choice=SnoozeChoice.DAY).encode(),
            "text": {"type": "plain_text", "text": "For 1 day"},
        },
    )
    await slack.interact(payload)
    update = await fake_slack.wait_for("chat.update")
    assert f"snoozed by <@{ADMIN}> until" in all_text(update.params)
    stored = await store.alerts.get(ACCOUNT, alert.id)
    assert (stored.snoozed_by, stored.snoozed_until) == (ADMIN, DEMO_NOW + timedelta(days=1))
    assert [e.actor for e in await store.audit.recent(ACCOUNT, action="alerts.snooze")] == [ADMIN]

    clock.advance(hours=1)
    await read(store, clock, "voice_minutes", 4600)
    await alerts.on_usage(ACCOUNT)
    await alerts.idle()
    assert len(posts(fake_slack)) == 1, "90% waits for the snooze to end"
    clock.advance(days=1)
    await alerts.drain()
    assert len(posts(fake_slack)) == 2


async def test_view_plan_answers_privately_and_request_more_opens_the_upgrade_form(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    alert = await posted_alert(store, fake_slack, alerts, clock)
    view = click(alert, AlertsAction.ALERT_VIEW_PLAN, fake=fake_slack)
    await slack.interact(view)
    plan = (await reply_to(fake_slack, view)).params
    assert plan["response_type"] == "ephemeral"
    assert "BUSINESS" in all_text(plan)

    staff = click(alert, AlertsAction.ALERT_REQUEST_MORE, fake=fake_slack, user=STAFF)
    await slack.interact(staff)
    assert "Only administrators" in all_text((await reply_to(fake_slack, staff)).params)

    more = click(alert, AlertsAction.ALERT_REQUEST_MORE, fake=fake_slack)
    await slack.interact(more)
    modal = (await fake_slack.wait_for("views.open")).params["view"]
    assert modal["callback_id"] == UpgradeCallback.UPGRADE
    assert "More voice call minutes" in json.dumps(modal)  # prefilled: more of what the alert is about
    assert "Quota alert: Voice call minutes" in json.dumps(modal)


async def test_an_alert_of_another_account_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    alert = await posted_alert(store, fake_slack, alerts, clock)
    await store.accounts.upsert("other", demo_document(DEMO_NOW), now=DEMO_NOW)
    await store.workspaces.link("T0OTHER", "other")
    await store.admins.add("other", "U0OTHERBOSS")
    payload = click(alert, AlertsAction.ALERT_ACKNOWLEDGE, fake=fake_slack, user="U0OTHERBOSS")
    payload["team"]["id"] = "T0OTHER"
    payload["user"]["team_id"] = "T0OTHER"
    await slack.interact(payload)
    assert "isn't one of this workspace's alerts" in all_text((await reply_to(fake_slack, payload)).params)
    assert (await store.alerts.get(ACCOUNT, alert.id)).acknowledged_by is None


STALE = "That button is out of date. Run `/plan alerts` again."


@pytest.mark.parametrize(
    ("action_id", "value", "option"),
    [
        (AlertsAction.ALERT_ACKNOWLEDGE, "abc", None),
        (AlertsAction.ALERT_ACKNOWLEDGE, "{id}", None),  # the bare id an older version drew
        (AlertsAction.ALERT_SNOOZE, None, '{{"id":{id},"choice":"forever"}}'),
        (AlertsAction.ALERT_SNOOZE, None, "{id}:day"),  # an older version's snooze option
        (AlertsAction.ALERT_ACKNOWLEDGE, '{{"id":99999999999999999999}}', None),
        (AlertsAction.ALERT_ACKNOWLEDGE, '{{"id":"\u00b2"}}', None),
        (AlertsAction.ALERT_VIEW_PLAN, '{{"id":0}}', None),
        (AlertsAction.ALERT_SNOOZE, None, '{{"id":99999999999999999999,"choice":"day"}}'),
    ],
    ids=[
        "garbage",
        "old-button",
        "unknown-choice",
        "old-snooze-option",
        "20-digits",
        "superscript",
        "zero",
        "huge-snooze",
    ],
)
async def test_a_button_whose_value_cannot_be_read_is_out_of_date(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    store: Store,
    alerts: AlertService,
    clock: FakeClock,
    action_id: str,
    value: str | None,
    option: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alert = await posted_alert(store, fake_slack, alerts, clock)
    extra: dict[str, Any] = {}
    if option is not None:
        text = {"type": "plain_text", "text": "For 1 day"}
        extra["selected_option"] = {"value": option.format(id=alert.id), "text": text}
    payload = click(
        alert, action_id, fake=fake_slack, value=None if value is None else value.format(id=alert.id), **extra
    )
    await slack.interact(payload)
    assert STALE in all_text((await reply_to(fake_slack, payload)).params)
    stored = await store.alerts.get(ACCOUNT, alert.id)
    assert (stored.acknowledged_by, stored.snoozed_by) == (None, None)
    assert fake_slack.calls_to("chat.update") == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a stale value is not a bug"


# ------------------------------------------------------------------------------------- /plan usage


async def test_plan_usage_sends_the_burn_down_chart_privately(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await slack.run("usage")
    text = all_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "3,960 of 5,000 min" in text
    assert "At this pace voice call minutes run out on" in text
    assert "video call minutes last until renewal" in text
    assert f"The burn-down chart is in <#D{ADMIN}>" in text

    complete = await fake_slack.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"] == f"D{ADMIN}"
    (png,) = fake_slack.uploads.values()
    assert png.startswith(b"\x89PNG")


async def test_plan_usage_still_answers_when_the_chart_cannot_be_sent(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("files.getUploadURLExternal", error="not_allowed_token_type")
    assert "The burn-down chart could not be posted" in all_text(await slack.run("usage"))


async def test_help_lists_alerts_and_usage(slack: SlackDriver) -> None:
    text = all_text(await slack.run("help"))
    assert "/plan alerts" in text
    assert "/plan usage" in text
