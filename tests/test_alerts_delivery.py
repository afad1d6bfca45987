"""Delivery through the outbox, end to end against the fake Slack: once each, never lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.alerts.rules import period_end_at
from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack
from bot.settings import Settings
from handlers.alerts.delivery import AlertTuning
from handlers.alerts.service import AlertService, single_workspace_provider
from store import Store
from store.domain.alerts import Alert, AlertKind, AlertRules, AlertStatus
from tests.support.alerting import (
    ACCOUNT,
    ADMIN,
    ALERTS_CHANNEL,
    ONLY_MINUTES,
    attempts,
    posts,
    read,
    replies,
    service,
    top_posts,
    updates,
    use_alerts_channel,
)
from tests.support.clock import DEMO_NOW, FakeClock
from tests.support.slackdriver import all_text

pytestmark = pytest.mark.usefixtures("demo")

VOICE = "voice_minutes"


@pytest.fixture
async def voice_only(demo: Store) -> None:
    """Alerts for voice minutes only, so each test sees just the alerts it causes (the demo has
    others at 80%), and no forecast from the demo's readings unless a test makes one."""
    await use_alerts_channel(demo, overrides=ONLY_MINUTES)
    await demo.usage.clear(ACCOUNT)


@pytest.fixture
async def alerts(
    store: Store, fake_slack: FakeSlack, clock: FakeClock, voice_only: None
) -> AsyncIterator[AlertService]:
    alerts = service(store, fake_slack, clock)
    yield alerts
    await alerts.close()


async def voice_alerts(store: Store) -> list[tuple[int, AlertStatus]]:
    return [(a.threshold, a.status) for a in await store.alerts.all_of(ACCOUNT) if a.meter == VOICE]


async def first_warning_posted(store: Store, alerts: AlertService, clock: FakeClock) -> Alert:
    """Voice minutes cross 80% and that warning is posted; the posted alert."""
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    await alerts.drain()
    (first,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.status == AlertStatus.SENT]
    return first


async def test_a_crossing_reaches_slack_within_seconds_of_the_ingest(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await read(store, clock, VOICE, 4100)
    await alerts.on_usage(ACCOUNT)
    call = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.ok, timeout=5)
    text = all_text(call.params)
    assert call.params["channel"] == ALERTS_CHANNEL
    assert "Voice call minutes: 80% of this period's allowance used" in text
    assert "4,100 of 5,000 min" in text
    assert "▰▰▰▰▰▰▰▰▱▱" in text
    assert "data as of <!date^" in text
    buttons = [
        e.get("action_id") for b in call.params["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["alert.view_plan", "alert.request_more", "alert.snooze", "alert.acknowledge"]
    assert call.params["metadata"]["event_payload"]["alert_id"]

    await alerts.idle()
    (alert,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.meter == VOICE]
    assert (alert.status, alert.message_ts, alert.channel, alert.team_id) == (
        AlertStatus.SENT,
        call.response["ts"],
        ALERTS_CHANNEL,
        "T0DEMO",
    )


async def test_429_then_success_posts_once_after_retry_after(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=30)
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    assert (await alerts.deliver_due()).retried == 1
    clock.advance(seconds=29)
    assert (await alerts.deliver_due()).claimed == 0, "Retry-After is honoured"
    clock.advance(seconds=1)
    assert (await alerts.deliver_due()).sent == 1
    assert len(posts(fake_slack)) == 1
    assert len(attempts(fake_slack)) == 2


async def test_429_with_the_bolt_client_is_waited_out_by_its_retry_handler(
    store: Store, fake_slack: FakeSlack, settings: Settings, clock: FakeClock
) -> None:
    await use_alerts_channel(store)
    alerts = AlertService(
        store, single_workspace_provider(settings), clock=clock, tuning=AlertTuning(channel_interval=0)
    )
    fake_slack.fail("chat.postMessage", status=429, retry_after=1)
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    await alerts.drain()
    assert len([p for p in posts(fake_slack) if "Voice call minutes" in p.params["text"]]) == 1


async def test_three_500s_then_success_posts_once_each_retry_after_a_history_check(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    fake_slack.fail("chat.postMessage", status=500, times=3)
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    for _ in range(3):  # a 500 may come after the message was stored: wait out the history budget
        assert (await alerts.deliver_due()).retried == 1
        clock.advance(seconds=59)
        assert (await alerts.deliver_due()).claimed == 0
        clock.advance(seconds=1)
    assert (await alerts.deliver_due()).sent == 1
    assert len(posts(fake_slack)) == 1
    assert len(attempts(fake_slack)) == 4
    assert len(fake_slack.calls_to("conversations.history")) == 3, "looked up before each re-post"
    assert await voice_alerts(store) == [(80, AlertStatus.SENT)]


@pytest.mark.usefixtures("voice_only")
async def test_a_timeout_whose_post_did_land_is_not_posted_twice(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    alerts = service(store, fake_slack, clock, post_timeout=0.2)
    fake_slack.delay("chat.postMessage", 2)  # Slack posts it, but the answer never arrives in time
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    assert (await alerts.deliver_due()).retried == 1
    fake_slack.delay("chat.postMessage", 0)
    clock.advance(seconds=59)
    assert (await alerts.deliver_due()).claimed == 0, "not before the history may be read"
    clock.advance(seconds=1)
    assert (await alerts.deliver_due()).sent == 1
    assert len(attempts(fake_slack)) == 1, "found in the channel's history by its alert id"
    (alert,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.meter == VOICE]
    assert alert.message_ts == posts(fake_slack)[0].response["ts"]
    await alerts.close()


@pytest.mark.usefixtures("voice_only")
async def test_a_timeout_whose_post_did_not_land_is_posted_once(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    alerts = service(store, fake_slack, clock, post_timeout=0.2)
    fake_slack.delay("chat.postMessage", 2)
    fake_slack.fail("chat.postMessage", status=503)  # …and it was an error after all
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    assert (await alerts.deliver_due()).retried == 1
    fake_slack.delay("chat.postMessage", 0)
    clock.advance(seconds=60)
    assert (await alerts.deliver_due()).sent == 1
    assert len(posts(fake_slack)) == 1
    assert len(fake_slack.calls_to("conversations.history")) == 1, "looked up before it was posted again"
    await alerts.close()


async def test_a_crash_between_claim_and_post_is_delivered_once_after_restart(
    store: Store, database_url: str, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    # The first process claims the alert, then dies before its post reaches Slack.
    fake_slack.delay("chat.postMessage", 5)
    doomed = asyncio.create_task(alerts.deliver_due())
    await fake_slack.wait_for("chat.postMessage")  # claimed and on the wire…
    fake_slack.calls.clear()
    fake_slack.messages.clear()  # …but the post never made it
    doomed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await doomed
    fake_slack.delay("chat.postMessage", 0)
    assert await voice_alerts(store) == [(80, AlertStatus.SENDING)]

    restarted = service(Store.from_url(database_url), fake_slack, clock)
    try:
        assert (await restarted.deliver_due()).claimed == 0, "the lease still holds"
        clock.advance(minutes=5)
        assert (await restarted.deliver_due()).sent == 1
        assert (await restarted.deliver_due()).claimed == 0
    finally:
        await restarted.store.close()
    assert len(posts(fake_slack)) == 1
    assert await voice_alerts(store) == [(80, AlertStatus.SENT)]


async def test_a_crash_after_the_post_before_recording_it_is_not_posted_again(
    store: Store, database_url: str, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    fake_slack.delay("chat.postMessage", 5)  # the post lands; the process dies before hearing back
    doomed = asyncio.create_task(alerts.deliver_due())
    await fake_slack.wait_for("chat.postMessage")
    doomed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await doomed
    fake_slack.delay("chat.postMessage", 0)

    restarted = service(Store.from_url(database_url), fake_slack, clock)
    try:
        clock.advance(minutes=5)
        assert (await restarted.deliver_due()).sent == 1
    finally:
        await restarted.store.close()
    assert len(attempts(fake_slack)) == 1
    assert await voice_alerts(store) == [(80, AlertStatus.SENT)]


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
async def test_a_refused_channel_fails_the_alert_and_tells_the_admins(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock, error: str
) -> None:
    await store.admins.add(ACCOUNT, "U0SECONDADMIN")
    fake_slack.fail("chat.postMessage", error=error)
    await read(store, clock, VOICE, 4600)
    await alerts.evaluate()
    report = await alerts.deliver_due()
    assert (report.failed, report.retried) == (1, 0)
    assert sorted(await voice_alerts(store)) == [(80, AlertStatus.SUPERSEDED), (90, AlertStatus.FAILED)]
    (alert,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.status == AlertStatus.FAILED]
    assert alert.error == error

    dms = [
        c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] in (ADMIN, "U0SECONDADMIN")
    ]
    assert sorted(c.params["channel"] for c in dms) == [ADMIN, "U0SECONDADMIN"]
    text = all_text(dms[0].params)
    assert f"<#{ALERTS_CHANNEL}>" in text
    assert "/plan alerts" in text
    assert "Voice call minutes: 90%" in text, "the alert itself is not lost"

    clock.advance(hours=1)
    assert (await alerts.deliver_due()).claimed == 0, "no endless retry"
    assert len(attempts(fake_slack)) == 1


async def test_no_alerts_channel_fails_and_tells_the_admins(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    rules = await store.alerts.rules(ACCOUNT)
    await store.alerts.save_rules(
        ACCOUNT, rules.model_copy(update={"channel": None}), by=ADMIN, now=clock.now
    )
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    assert (await alerts.deliver_due()).failed == 1
    (dm,) = fake_slack.calls_to("chat.postMessage")
    assert dm.params["channel"] == ADMIN
    assert "no alerts channel is set" in all_text(dm.params)


@pytest.mark.usefixtures("voice_only")
async def test_an_uninstalled_workspace_is_skipped_without_failing(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    async def uninstalled(team_id: str) -> None:
        return None

    alerts = AlertService(store, uninstalled, clock=clock)
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    report = await alerts.deliver_due()
    assert report.skipped == report.claimed > 0
    assert {a.status for a in await store.alerts.all_of(ACCOUNT)} == {AlertStatus.SKIPPED}
    assert fake_slack.calls == []


async def test_a_revoked_token_counts_as_uninstalled(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    fake_slack.fail("chat.postMessage", error="token_revoked")
    await read(store, clock, VOICE, 4100)
    await alerts.evaluate()
    assert (await alerts.deliver_due()).skipped == 1
    (alert,) = await store.alerts.all_of(ACCOUNT)
    assert "token_revoked" in str(alert.error)


async def test_a_jump_past_several_thresholds_posts_the_highest_only(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await read(store, clock, VOICE, 4800)
    await alerts.evaluate()
    await alerts.drain()
    assert sorted(await voice_alerts(store)) == [(80, AlertStatus.SUPERSEDED), (90, AlertStatus.SENT)]
    (post,) = posts(fake_slack)
    assert "90%" in post.params["text"]


async def test_snoozed_meter_holds_warnings_and_delivers_the_highest_when_the_snooze_ends(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    first = await first_warning_posted(store, alerts, clock)
    await store.alerts.snooze(ACCOUNT, first.id, by=ADMIN, until=clock.now + timedelta(days=1), now=clock.now)

    clock.advance(hours=2)
    await read(store, clock, VOICE, 4600)
    await alerts.evaluate()
    assert (await alerts.drain()).claimed == 0, "90% is held while snoozed"
    clock.advance(hours=23)
    assert (await alerts.drain()).sent == 1
    (post,) = top_posts(fake_slack)
    assert post.params["text"].startswith("Voice call minutes: 80% of this period's allowance used")
    (reply,) = replies(fake_slack)
    assert reply.params["text"].startswith("Voice call minutes: 90% of this period's allowance used")
    assert reply.params["thread_ts"] == post.response["ts"], "the 90% warning is in the 80% message's thread"
    (update,) = updates(fake_slack)
    assert update.params["ts"] == post.response["ts"]


async def test_running_out_breaks_through_a_snooze(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    first = await first_warning_posted(store, alerts, clock)
    await store.alerts.snooze(
        ACCOUNT, first.id, by=ADMIN, until=clock.now + timedelta(days=30), now=clock.now
    )

    clock.advance(hours=1)
    await read(store, clock, VOICE, 4600)
    await alerts.evaluate()
    clock.advance(hours=1)
    await read(store, clock, VOICE, 5000)
    await alerts.evaluate()
    assert (await alerts.drain()).sent == 1
    assert "used up" in posts(fake_slack)[-1].params["text"]
    assert sorted(await voice_alerts(store)) == [
        (80, AlertStatus.SENT),
        (90, AlertStatus.SUPERSEDED),
        (100, AlertStatus.SENT),
    ]


async def test_a_snooze_until_renewal_lets_held_warnings_expire_with_the_period(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    first = await first_warning_posted(store, alerts, clock)
    renewal = first.period_end
    await store.alerts.snooze(ACCOUNT, first.id, by=ADMIN, until=period_end_at(renewal), now=clock.now)
    await read(store, clock, VOICE, 4600)
    await alerts.evaluate()
    clock.now = period_end_at(renewal) + timedelta(minutes=1)
    assert (await alerts.drain()).sent == 0
    assert sorted(await voice_alerts(store)) == [(80, AlertStatus.SENT), (90, AlertStatus.EXPIRED)]


async def test_each_channel_is_paced_and_channels_go_out_concurrently(
    store: Store, fake_slack: FakeSlack, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [f"acct{n}" for n in range(4)]
    for n, account in enumerate(accounts):
        await store.accounts.upsert(account, demo_document(DEMO_NOW), now=DEMO_NOW)
        await store.workspaces.link(f"T0ACCT{n}", account)
        await store.alerts.save_rules(account, AlertRules(channel=f"C0ACCT{n}"), by=ADMIN, now=DEMO_NOW)
    # Each account crosses 80% on three meters (licences, two features): three messages per channel.
    fake_slack.delay("chat.postMessage", 0.05)  # Slack's own latency
    alerts = service(store, fake_slack, clock, channel_interval=0.3)
    assert alerts.pacer.interval == 0.3
    # How many of its channel's messages Slack had when the pacer let each one go. That the pacer lets
    # a channel go once per interval is checked on a virtual clock in test_alert_rules, not measured here.
    posted_when_let_go: dict[str, list[int]] = defaultdict(list)
    let_go = alerts.pacer.wait

    async def observed(channel: str) -> None:
        await let_go(channel)
        posted_when_let_go[channel].append(len(posts(fake_slack, channel)))

    monkeypatch.setattr(alerts.pacer, "wait", observed)
    await alerts.evaluate()
    assert (await alerts.drain()).sent == 12
    per_channel = [sorted(c.at for c in posts(fake_slack, f"C0ACCT{n}")) for n in range(4)]
    for times in per_channel:
        assert len(times) == 3
    assert posted_when_let_go == {f"C0ACCT{n}": [0, 1, 2] for n in range(4)}, (
        "about one message per interval: each message waits for its channel's pacer, one at a time"
    )
    assert max(t[0] for t in per_channel) < min(t[1] for t in per_channel), (
        "channels do not wait for each other"
    )
    await alerts.close()


async def test_a_forecast_alert_carries_the_forecast_and_the_chart(
    demo: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    """The demo's own readings: voice minutes run out before renewal."""
    store = demo
    await use_alerts_channel(store, overrides=ONLY_MINUTES)
    alerts = service(store, fake_slack, clock)
    await alerts.evaluate()
    assert (await alerts.drain()).sent == 1
    (post,) = posts(fake_slack)
    text = all_text(post.params)
    assert "Voice call minutes will run out before renewal" in text
    assert "At this pace voice call minutes run out on <!date^" in text
    assert "days before renewal" in text
    assert "Based on 18 readings over 17 days" in text
    upload = await fake_slack.wait_for("files.completeUploadExternal")
    assert upload.params["thread_ts"] == post.response["ts"]
    (png,) = fake_slack.uploads.values()
    assert png.startswith(b"\x89PNG")
    (alert,) = await store.alerts.all_of(ACCOUNT)
    assert (alert.kind, alert.status) == (AlertKind.FORECAST, AlertStatus.SENT)
    await alerts.close()


async def test_the_worker_loop_evaluates_and_delivers_until_stopped(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    stop = asyncio.Event()
    worker = asyncio.create_task(alerts.run(stop, evaluate_every=0.05, deliver_every=0.05))
    await read(store, clock, VOICE, 4100)  # no on_usage: the sweep finds it
    await fake_slack.wait_for("chat.postMessage", where=lambda c: c.ok, timeout=5)
    await read(store, clock, VOICE, Decimal(5000))
    await fake_slack.wait_for("chat.postMessage", where=lambda c: c.ok, count=2, timeout=5)
    stop.set()
    await asyncio.wait_for(worker, 5)
    assert sorted(await voice_alerts(store)) == [
        (80, AlertStatus.SENT),
        (90, AlertStatus.SUPERSEDED),
        (100, AlertStatus.SENT),
    ]


async def test_the_worker_survives_a_database_outage(fake_slack: FakeSlack, clock: FakeClock) -> None:
    broken = Store.from_url("sqlite+aiosqlite:////nonexistent/dir/x.db")
    alerts = service(broken, fake_slack, clock)
    stop = asyncio.Event()
    warned: list[str] = []

    class StopAfterTwoWarnings(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warned.append(record.getMessage())
            if len(warned) >= 2:
                stop.set()

    handler = StopAfterTwoWarnings(logging.WARNING)
    logging.getLogger("handlers.periodic").addHandler(handler)
    try:
        await asyncio.wait_for(alerts.run(stop, evaluate_every=0.01, deliver_every=0.01), 5)
    finally:
        logging.getLogger("handlers.periodic").removeHandler(handler)
        await broken.close()
    assert all("database unavailable" in message for message in warned)


async def test_settings_use_the_default_provider(settings: Settings) -> None:
    provide = single_workspace_provider(settings)
    assert await provide("T0DEMO") is not None
    unset = single_workspace_provider(settings.model_copy(update={"slack_bot_token": None}))
    assert await unset("T0DEMO") is None
