"""The weekly digest: due at its local weekday and hour (two time zones, a DST week), sent once however
many workers run, with the allowances, the week's changes and the burn-down chart; set in `/plan alerts`;
`myplan digest send [--dry-run]`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.demo import load_demo
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.digest.changes import usage_added
from bot.digest.schedule import due_week, latest_due
from handlers.alerts.ids import Action as AlertsAction
from handlers.alerts.ids import Block as AlertsBlock
from handlers.digest.ids import DIGEST_EVENT
from handlers.digest.ids import Block as DigestBlock
from handlers.digest.service import DigestService
from store import Store
from store.audit import AuditEntry
from store.clock import utcnow
from store.domain.account import FeatureUpdate
from store.domain.digests import DigestSchedule, DigestStatus
from store.domain.plan import FeatureKey, FeatureStatus
from store.domain.rates import RateRow
from store.domain.upgrades import Evidence, UpgradeDraft, UpgradeKind, UpgradeStatus
from store.usage import Reading
from tests.support.alert_settings import settings_state, submission
from tests.support.alerting import (
    ACCOUNT,
    ADMIN,
    ALERTS_CHANNEL,
    plain_provider,
    set_alerts_channel,
    use_alerts_channel,
)
from tests.support.clock import FakeClock
from tests.support.slackdriver import SlackDriver, all_text

LONDON, HONG_KONG = ZoneInfo("Europe/London"), ZoneInfo("Asia/Hong_Kong")
MONDAY_NINE = DigestSchedule()
NEXT_MONDAY = date(2026, 11, 23)  # DEMO_NOW is Friday 20 November 2026
ROOT = Path(__file__).parents[1]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# ------------------------------------------------------------------------------- the rules, pure


def test_due_at_monday_nine_local_in_two_time_zones() -> None:
    assert latest_due(MONDAY_NINE, LONDON, utc(2026, 11, 23, 9)) == utc(2026, 11, 23, 9)  # GMT
    assert latest_due(MONDAY_NINE, LONDON, utc(2026, 11, 23, 8, 59)) == utc(2026, 11, 16, 9)
    assert latest_due(MONDAY_NINE, HONG_KONG, utc(2026, 11, 23, 1)) == utc(2026, 11, 23, 1)  # UTC+8
    assert latest_due(MONDAY_NINE, HONG_KONG, utc(2026, 11, 23, 0, 59)) == utc(2026, 11, 16, 1)


def test_the_dst_week_keeps_nine_local_and_is_an_hour_short() -> None:
    week = due_week(MONDAY_NINE, LONDON, utc(2026, 3, 30, 8))  # clocks went forward on Sunday 29 March
    assert week is not None
    assert (week.week, week.until, week.since) == (
        date(2026, 3, 30),
        utc(2026, 3, 30, 8),
        utc(2026, 3, 23, 9),
    )
    assert week.until - week.since == timedelta(hours=167)
    assert latest_due(MONDAY_NINE, LONDON, utc(2026, 3, 30, 7, 59)) == utc(2026, 3, 23, 9), "08:59 BST"


def test_a_missed_week_is_sent_within_a_day_then_skipped() -> None:
    assert due_week(MONDAY_NINE, LONDON, utc(2026, 11, 24, 8, 59)) is not None
    assert due_week(MONDAY_NINE, LONDON, utc(2026, 11, 24, 9)) is None
    assert due_week(MONDAY_NINE.model_copy(update={"enabled": False}), LONDON, utc(2026, 11, 23, 9)) is None


def test_usage_added_counts_rises_and_a_new_period_from_zero() -> None:
    def at(day: int, used: int) -> Reading:
        return Reading(meter="voice_minutes", used=Decimal(used), at=utc(2026, 11, day))

    since = utc(2026, 11, 16)
    assert usage_added([at(15, 100), at(17, 150), at(19, 400)], since) == Decimal(300)
    assert usage_added([at(15, 900), at(17, 950), at(18, 20), at(19, 70)], since) == Decimal(120)
    assert usage_added([at(14, 100)], since) is None


# ------------------------------------------------------------------------------------ sending


@pytest.fixture
async def digests(demo: Store, fake_slack: FakeSlack, clock: FakeClock) -> DigestService:
    await use_alerts_channel(demo)
    return DigestService(demo, plain_provider(fake_slack), clock=clock, post_timeout=5.0)


def digest_posts(fake: FakeSlack, channel: str = ALERTS_CHANNEL) -> list[RecordedCall]:
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if c.ok and c.params.get("channel") == channel and not c.params.get("thread_ts")
    ]


@pytest.mark.parametrize(
    ("zone", "nine_local"),
    [("Europe/London", utc(2026, 11, 23, 9)), ("Asia/Hong_Kong", utc(2026, 11, 23, 1))],
)
async def test_sent_at_local_monday_nine_once(
    store: Store,
    digests: DigestService,
    fake_slack: FakeSlack,
    clock: FakeClock,
    zone: str,
    nine_local: datetime,
) -> None:
    await store.alerts.learn_time_zone(ACCOUNT, zone)
    clock.now = nine_local - timedelta(minutes=1)
    assert await digests.send_due() == 0
    clock.now = nine_local
    assert await digests.send_due() == 1
    (post,) = digest_posts(fake_slack)
    assert post.params["metadata"]["event_type"] == DIGEST_EVENT
    clock.advance(hours=3)
    assert await digests.send_due() == 0, "once per week"
    (digest,) = await store.digests.all_of(ACCOUNT)
    assert (digest.week, digest.status, digest.ts) == (NEXT_MONDAY, DigestStatus.SENT, post.response["ts"])


async def test_the_time_zone_is_learned_from_the_administrator(
    store: Store, digests: DigestService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    fake_slack.users[ADMIN] = {"tz": "Asia/Hong_Kong"}
    clock.now = utc(2026, 11, 23, 1)
    assert await digests.send_due() == 1
    assert (await store.alerts.rules(ACCOUNT)).time_zone == "Asia/Hong_Kong"


async def test_off_sends_nothing(
    store: Store, digests: DigestService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await store.digests.save_schedule(ACCOUNT, DigestSchedule(enabled=False), by=ADMIN, now=clock.now)
    clock.now = utc(2026, 11, 23, 9)
    assert await digests.send_due() == 0
    assert digest_posts(fake_slack) == []


async def test_a_week_missed_by_more_than_a_day_is_skipped(
    digests: DigestService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 24, 9, 30)
    assert await digests.send_due() == 0
    assert digest_posts(fake_slack) == []


async def test_racing_workers_post_it_once(
    demo: Store, fake_slack: FakeSlack, clock: FakeClock, database_url: str
) -> None:
    await use_alerts_channel(demo)
    clock.now = utc(2026, 11, 23, 9, 0, 30)
    stores = [Store.from_url(database_url) for _ in range(4)]  # one engine per process
    try:
        workers = [DigestService(s, plain_provider(fake_slack), clock=clock) for s in stores]
        sent = await asyncio.gather(*(w.send_due() for w in workers), *(w.send_due() for w in workers))
    finally:
        for s in stores:
            await s.close()
    assert sum(sent) == 1
    assert len(digest_posts(fake_slack)) == 1


async def test_stored_then_500_is_found_not_posted_again(
    store: Store, digests: DigestService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    fake_slack.fail("chat.postMessage", status=500, stored=True)
    clock.now = utc(2026, 11, 23, 9)
    assert await digests.send_due() == 1
    assert len(fake_slack.messages[ALERTS_CHANNEL]) == 1
    clock.advance(minutes=5)
    assert await digests.send_due() == 0
    assert len(fake_slack.messages[ALERTS_CHANNEL]) == 1, "no second post"
    (digest,) = await store.digests.all_of(ACCOUNT)
    assert digest.status == DigestStatus.SENT
    assert digest.ts == fake_slack.messages[ALERTS_CHANNEL][0]["ts"]


async def test_a_429_puts_the_week_back_for_the_next_pass(
    store: Store, digests: DigestService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    fake_slack.fail("chat.postMessage", status=429)
    clock.now = utc(2026, 11, 23, 9)
    assert await digests.send_due() == 0
    assert (await store.digests.all_of(ACCOUNT))[0].status == DigestStatus.RETRY
    clock.advance(minutes=1)
    assert await digests.send_due() == 1
    (digest,) = await store.digests.all_of(ACCOUNT)
    assert (digest.status, digest.attempts) == (DigestStatus.SENT, 2)
    assert len(digest_posts(fake_slack)) == 1


async def test_without_an_alerts_channel_the_administrators_get_it_by_dm(
    store: Store, digests: DigestService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await set_alerts_channel(store, ACCOUNT, None)
    clock.now = utc(2026, 11, 23, 9)
    assert await digests.send_due() == 1
    (dm,) = digest_posts(fake_slack, ADMIN)
    assert "No alerts channel is set" in all_text(dm.params)


# ------------------------------------------------------------------------------------ content


def rates(*rows: tuple[str, str]) -> list[RateRow]:
    return [
        RateRow(
            dial_code="1",
            iso_code=iso,
            destination=f"Place {iso}",
            landline_per_min=Decimal(landline),
            mobile_per_min=Decimal("0.02"),
            sms_per_message=Decimal("0.03"),
        )
        for iso, landline in rows
    ]


async def test_the_digest_shows_allowances_forecasts_changes_and_the_chart(
    store: Store, digests: DigestService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    in_week = utc(2026, 11, 21, 12)
    await store.usage.record(
        ACCOUNT, [Reading(meter="voice_minutes", used=Decimal(4200), at=in_week)], now=in_week
    )
    plan = await store.accounts.snapshot(ACCOUNT)
    (before,) = [f for f in plan.features if f.key == FeatureKey.OMNICHANNELS]
    new_status = (
        FeatureStatus.PROCESSING if before.status != FeatureStatus.PROCESSING else FeatureStatus.AVAILABLE
    )
    await store.accounts.update_feature(
        ACCOUNT, FeatureKey.OMNICHANNELS, FeatureUpdate(status=new_status), now=in_week
    )
    draft = UpgradeDraft(
        account_id=ACCOUNT,
        team_id="T0DEMO",
        requested_by=ADMIN,
        kind=UpgradeKind.VOICE_MINUTES,
        quantity=2000,
        evidence=Evidence.of(plan),
    )
    request, _ = await store.upgrades.create(draft, now=in_week)
    await store.upgrades.advance(ACCOUNT, request.id, UpgradeStatus.ACKNOWLEDGED, by="U0SALES", now=in_week)
    old = await store.rates.import_table(
        rates(("GB", "0.01")), effective_date=date(2026, 11, 1), label="old", now=in_week
    )
    new = await store.rates.import_table(
        rates(("GB", "0.02"), ("FR", "0.01")), effective_date=date(2026, 11, 18), label="new", now=in_week
    )

    clock.now = utc(2026, 11, 23, 9)
    assert await digests.send_due() == 1
    (post,) = digest_posts(fake_slack)
    blocks = {b.get("block_id"): b for b in post.params["blocks"]}
    assert blocks[DigestBlock.DIGEST_HEADER]["text"]["text"].startswith("Weekly digest: Harbour Lights")
    allowances = blocks[DigestBlock.DIGEST_ALLOWANCES]["text"]["text"]
    assert "*Voice call minutes*" in allowances
    assert "of 5,000 min" in allowances
    assert ":crystal_ball: At this pace voice call minutes" in allowances
    changes = blocks[DigestBlock.DIGEST_CHANGES]["text"]["text"]
    assert "Voice call minutes:" in changes
    assert "used this week" in changes
    assert f"Omnichannels is now *{new_status.value.capitalize()}*" in changes
    assert f"(`{request.id}`): opened by <@{ADMIN}>, acknowledged by <@U0SALES>" in changes
    assert f"Rate table version {new.table.version} took effect" in changes
    assert "1 destination added, 0 removed, 1 rate up, 0 down" in changes
    assert f"version {old.table.version} " not in changes, "effective before the week"
    assert "The burn-down chart is in the thread." in all_text(post.params)
    (upload,) = fake_slack.calls_to("files.completeUploadExternal")
    assert upload.params["channel_id"] == ALERTS_CHANNEL
    assert upload.params["thread_ts"] == post.response["ts"]


# --------------------------------------------------------------------------- `/plan alerts`


def with_digest(day: str, hour: str) -> dict[str, object]:
    state = settings_state()
    state[AlertsBlock.ALERTS_DIGEST_DAY] = {
        AlertsAction.ALERTS_DIGEST_DAY: {"type": "static_select", "selected_option": {"value": day}}
    }
    state[AlertsBlock.ALERTS_DIGEST_HOUR] = {
        AlertsAction.ALERTS_DIGEST_HOUR: {"type": "static_select", "selected_option": {"value": hour}}
    }
    return state


@pytest.mark.usefixtures("demo")
async def test_day_and_hour_set_in_the_modal_are_audited_and_followed(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, clock: FakeClock
) -> None:
    await slack.command("alerts")
    view = (await fake_slack.wait_for("views.open")).params["view"]
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id[AlertsBlock.ALERTS_DIGEST_DAY]["element"]["initial_option"]["value"] == "0"
    assert by_id[AlertsBlock.ALERTS_DIGEST_HOUR]["element"]["initial_option"]["value"] == "9"

    response = await slack.interact(submission(with_digest("2", "14")))  # Wednesdays at 14:00 (UTC)
    assert response.status == 200
    assert await response.text() == ""
    saved = await fake_slack.wait_for("chat.postEphemeral")
    assert "Wednesdays at 14:00" in all_text(saved.params)
    schedule = await store.digests.schedule(ACCOUNT)
    assert (schedule.enabled, schedule.weekday, schedule.hour, schedule.updated_by) == (True, 2, 14, ADMIN)
    (entry,) = await store.audit.recent(ACCOUNT, action="digest.settings")
    assert isinstance(entry, AuditEntry)
    assert entry.after == {
        "enabled": True,
        "weekday": "Wednesday",
        "hour": 14,
    }

    worker = DigestService(store, plain_provider(fake_slack), clock=clock)
    clock.now = utc(2026, 11, 23, 9)
    assert await worker.send_due() == 0, "not Mondays any more"
    clock.now = utc(2026, 11, 25, 14)
    assert await worker.send_due() == 1

    await slack.interact(submission(with_digest("off", "14")))
    await fake_slack.wait_for("chat.postEphemeral", where=lambda c: "digest is off" in all_text(c.params))
    assert not (await store.digests.schedule(ACCOUNT)).enabled


# ---------------------------------------------------------------------------------------- CLI


def myplan(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
async def live_demo(store: Store) -> Store:
    """The sample account as of the real now: the CLI runs on the real clock."""
    await load_demo(store, now=utcnow())
    await use_alerts_channel(store)
    return store


async def test_dry_run_prints_the_digest_and_posts_nothing(
    live_demo: Store, database_url: str, fake_slack: FakeSlack
) -> None:
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "", "SLACK_API_URL": fake_slack.api_url}
    result = await asyncio.to_thread(myplan, "digest", "send", ACCOUNT, "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert f"would post to #{ALERTS_CHANNEL} for {ACCOUNT}" in result.stdout
    assert "Weekly digest: " in result.stdout
    assert "What changed since last week" in result.stdout
    assert "Voice call minutes" in result.stdout
    assert "<!date" not in result.stdout
    assert fake_slack.calls_to("chat.postMessage") == []
    assert await live_demo.digests.all_of(ACCOUNT) == []


async def test_send_posts_it_now(live_demo: Store, database_url: str, fake_slack: FakeSlack) -> None:
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-cli", "SLACK_API_URL": fake_slack.api_url}
    result = await asyncio.to_thread(myplan, "digest", "send", ACCOUNT, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sent the weekly digest of {ACCOUNT} to #{ALERTS_CHANNEL}"
    (post,) = digest_posts(fake_slack)
    assert post.token == "xoxb-cli"
    (digest,) = await live_demo.digests.all_of(ACCOUNT)
    assert (digest.scheduled, digest.status) == (False, DigestStatus.SENT)
