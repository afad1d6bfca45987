"""Retention: the prune removes exactly what the policy says, rolls readings up without changing what
forecasts and digests read from them, runs once a day across workers, and `myplan prune` says what it did."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import signal
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from bot.alerts.forecast import MIN_READINGS, forecast_alert
from bot.demo import DEMO_ACCOUNT
from bot.devtools.fake_slack import FakeSlack
from bot.digest.changes import usage_added, week_changes
from bot.digest.schedule import week_ending
from bot.retention import prune
from bot.retention.policy import RetentionPolicy, months_back
from bot.retention.rollup import to_drop
from store import Store
from store.clock import utcnow
from store.domain.alerts import DEFAULT_THRESHOLDS, AlertKind, AlertStatus
from store.domain.plan import Meter
from store.domain.traffic import SpikeStatus
from store.retention import StoredReading
from store.status import EVALUATION_PASS
from store.tables import (
    AlertRow,
    AlertScheduleRow,
    AuditRow,
    TrafficHourRow,
    TrafficSpikeRow,
    UsageReadingRow,
)
from store.usage import Reading
from tests.support.clock import DEMO_NOW
from tests.test_alerts_cli import environment, start_worker
from tests.test_cli import env, myplan  # noqa: F401  (`env` is a fixture)

pytestmark = pytest.mark.usefixtures("demo")

NEW_YORK = "America/New_York"
VOICE = Meter.VOICE_MINUTES.value
HOUR = timedelta(hours=1)
# The sample account's current period is 2026-11-02 to 2026-12-02 (30 days), so its periods before
# start on 2026-10-03, 2026-09-03 and 2026-08-04.
PERIOD_STARTS = [
    datetime(2026, 8, 4, tzinfo=UTC),
    datetime(2026, 9, 3, tzinfo=UTC),
    datetime(2026, 10, 3, tzinfo=UTC),
]
CURRENT_PERIOD = datetime(2026, 11, 2, tzinfo=UTC)
CORRECTION = datetime(2026, 9, 15, 14, tzinfo=UTC)
"""A reading 5 minutes lower than the one before: a correction, which the roll-up must keep."""


def hourly(start: datetime, end: datetime, *, per_hour: int = 1) -> list[dict[str, object]]:
    """Voice-minute readings every hour from `start` to `end`, rising from zero at each period start."""
    rows, at = [], start
    while at < end:
        period = max((s for s in [*PERIOD_STARTS, CURRENT_PERIOD] if s <= at), default=start)
        used = Decimal(per_hour * int((at - period) / HOUR)) - (
            5 if CORRECTION <= at < PERIOD_STARTS[2] else 0
        )
        rows.append({"account_id": DEMO_ACCOUNT, "meter": VOICE, "used": used, "at": at, "received_at": at})
        at += HOUR
    return rows


async def seed_readings(store: Store, rows: list[dict[str, object]], *, zone: str = NEW_YORK) -> None:
    await store.usage.clear(DEMO_ACCOUNT)
    await store.alerts.learn_time_zone(DEMO_ACCOUNT, zone)
    async with store.db.session() as session:
        await session.execute(insert(UsageReadingRow), rows)


async def readings(store: Store) -> list[tuple[datetime, Decimal]]:
    async with store.db.session(read_only=True) as session:
        rows = await session.execute(
            select(UsageReadingRow.at, UsageReadingRow.used)
            .where(UsageReadingRow.meter == VOICE)
            .order_by(UsageReadingRow.at, UsageReadingRow.id)
        )
        return [(at, used) for at, used in rows]


# ------------------------------------------------------------------------------------- the policy

POLICY = RetentionPolicy(
    readings_periods=2, daily_readings_periods=3, alert_periods=2, traffic_months=3, audit_years=1
)
KEPT_WHOLE_FROM = datetime(2026, 10, 2, 4, tzinfo=UTC)
"""The local (New York, UTC-4) midnight before the UTC start of the period before the current one."""
REMOVED_BEFORE = datetime(2026, 9, 3, 4, tzinfo=UTC)
"""The local midnight that begins the third period back (2026-09-03)."""


def expected_rolled_up() -> list[datetime]:
    """The first reading left (what was used is counted from it), each local day's last reading (23:00 in
    New York: 03:00 UTC the next day), and the readings either side of the correction."""
    days = [REMOVED_BEFORE + timedelta(days=n) for n in range(29)]
    return sorted([REMOVED_BEFORE, *(d + timedelta(hours=23) for d in days), CORRECTION - HOUR, CORRECTION])


async def seed_the_rest(store: Store) -> None:
    """Audit entries, traffic, spike alerts and alerts each side of the policy's lines."""
    async with store.db.session() as session:
        for age in (400, 300):
            session.add(
                AuditRow(
                    account_id=DEMO_ACCOUNT,
                    actor="U1",
                    action=f"{age} days",
                    at=DEMO_NOW - timedelta(days=age),
                )
            )
        for age in (100, 10):
            session.add(traffic_hour(DEMO_NOW - timedelta(days=age)))
        session.add(spike(date(2026, 8, 1), SpikeStatus.SENT, "old"))
        session.add(spike(date(2026, 8, 1), SpikeStatus.PENDING, "unsent"))
        session.add(spike(date(2026, 11, 10), SpikeStatus.SENT, "new"))
        for period in (date(2026, 9, 3), date(2026, 10, 3)):
            for threshold in (80, 90, 100):
                session.add(alert(period, threshold))
            session.add(alert(period, 100, kind=AlertKind.FORECAST))


def traffic_hour(hour: datetime) -> TrafficHourRow:
    return TrafficHourRow(
        account_id=DEMO_ACCOUNT,
        hour=hour.replace(minute=0),
        destination="44",
        kind="voice",
        line_type="",
        quantity=Decimal(10),
        area="44",
        high_risk=False,
        received_at=hour,
    )


def spike(day: date, status: SpikeStatus, area: str) -> TrafficSpikeRow:
    moment = datetime.combine(day, time(12), tzinfo=UTC)
    return TrafficSpikeRow(
        account_id=DEMO_ACCOUNT,
        area=area,
        place="United Kingdom",
        kind="voice",
        day=day,
        window_start=moment,
        window_end=moment,
        quantity=Decimal(100),
        cost=Decimal(1),
        baseline=Decimal(1),
        baseline_days=28,
        high_risk=False,
        prefixes="44",
        status=status.value,
        next_attempt_at=moment,
        created_at=moment,
    )


def alert(period_start: date, threshold: int, *, kind: AlertKind = AlertKind.THRESHOLD) -> AlertRow:
    moment = datetime.combine(period_start, time(12), tzinfo=UTC)
    return AlertRow(
        account_id=DEMO_ACCOUNT,
        meter=VOICE,
        kind=kind.value,
        threshold=threshold,
        period_start=period_start,
        period_end=period_start + timedelta(days=30),
        used=Decimal(4000),
        available=Decimal(5000),
        unit="min",
        as_of=moment,
        status=AlertStatus.SENT.value,
        attempts=1,
        next_attempt_at=moment,
        created_at=moment,
    )


async def the_rest(store: Store) -> dict[str, list[object]]:
    async with store.db.session(read_only=True) as session:
        alerts = await session.execute(
            select(AlertRow.period_start, AlertRow.kind, AlertRow.threshold)
            .where(AlertRow.account_id == DEMO_ACCOUNT)
            .order_by(AlertRow.period_start, AlertRow.kind, AlertRow.threshold)
        )
        return {
            "audit": list(await session.scalars(select(AuditRow.action).where(AuditRow.actor == "U1"))),
            "traffic": list(await session.scalars(select(TrafficHourRow.hour))),
            "spikes": list(
                await session.scalars(select(TrafficSpikeRow.area).order_by(TrafficSpikeRow.area))
            ),
            "alerts": [tuple(row) for row in alerts],
        }


@pytest.mark.parametrize("batch", [prune.BATCH, 7], ids=["batches", "tiny-batches"])
async def test_prune_removes_exactly_what_the_policy_says(store: Store, batch: int) -> None:
    await seed_readings(store, hourly(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)))
    await seed_the_rest(store)
    before = await readings(store)
    kept_whole = [r for r in before if r[0] >= KEPT_WHOLE_FROM]
    in_rollup = [r for r in before if REMOVED_BEFORE <= r[0] < KEPT_WHOLE_FROM]

    preview = await prune.prune(store, POLICY, DEMO_NOW, dry_run=True, batch=batch)
    assert await readings(store) == before, "a dry run changes nothing"
    done = await prune.prune(store, POLICY, DEMO_NOW, batch=batch)

    after = await readings(store)
    assert [r for r in after if r[0] >= KEPT_WHOLE_FROM] == kept_whole
    assert not [r for r in after if r[0] < REMOVED_BEFORE]
    assert [at for at, _ in after if at < KEPT_WHOLE_FROM] == expected_rolled_up()
    assert done.readings_removed == len([r for r in before if r[0] < REMOVED_BEFORE]) == 796
    assert done.readings_rolled_up == len(in_rollup) - len(expected_rolled_up()) == 664
    rest = await the_rest(store)
    assert rest["audit"] == ["300 days"]
    assert rest["traffic"] == [(DEMO_NOW - timedelta(days=10)).replace(minute=0)]
    assert rest["spikes"] == ["new", "unsent"], "an old spike alert still being delivered stays"
    assert rest["alerts"] == [
        (date(2026, 9, 3), "forecast", 100),
        (date(2026, 9, 3), "threshold", 100),  # the period ended two periods ago: where the meter got
        *((date(2026, 10, 3), "forecast", 100),),
        *((date(2026, 10, 3), "threshold", t) for t in (80, 90, 100)),
    ]
    assert (done.alerts_compacted, done.traffic_removed, done.spike_alerts_removed, done.audit_removed) == (
        2,
        1,
        1,
        1,
    )
    assert preview == dataclasses.replace(done, dry_run=True), "the dry run counted the same"

    again = await prune.prune(store, POLICY, DEMO_NOW, batch=batch)
    assert again == prune.PruneReport(dry_run=False), "a second prune finds nothing more"
    assert await readings(store) == after


async def test_a_reading_that_is_not_a_number_is_left_for_removal(store: Store) -> None:
    """Stored before the bounds: read by nothing, it neither breaks the roll-up nor survives its period."""
    rows = hourly(datetime(2026, 9, 10, tzinfo=UTC), datetime(2026, 9, 12, tzinfo=UTC))
    rows[5]["used"] = Decimal("NaN")
    await seed_readings(store, rows)
    done = await prune.prune(store, POLICY, DEMO_NOW)
    assert done.failed_accounts == []
    assert len(await readings(store)) == 5, "the first, three local days' last, and the one not a number"


# -------------------------------------------------------------- what is read from rolled-up readings


async def forecasts(store: Store, now: datetime) -> Sequence[object]:
    found = await store.alerts.evaluate(
        now, forecast_alert, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS, dry_run=True
    )
    return sorted(((a.meter, a.forecast) for a in found if a.kind == AlertKind.FORECAST), key=lambda f: f[0])


async def test_a_forecast_is_the_same_after_rolling_up(store: Store) -> None:
    """The shortest policy (the current period kept whole) in a time zone behind UTC, whose local midnight
    falls after the UTC midnight the forecast reads from."""
    now = datetime(2026, 11, 12, 12, tzinfo=UTC)
    await seed_readings(store, hourly(datetime(2026, 10, 20, tzinfo=UTC), now, per_hour=10))
    before = await forecasts(store, now)
    assert before, "the voice minutes are forecast"

    done = await prune.prune(store, RetentionPolicy.defaults(readings_periods=1), now)

    assert done.readings_rolled_up > 200
    assert await forecasts(store, now) == before


async def test_a_digest_reads_the_same_week_after_rolling_up(store: Store) -> None:
    """Three days into a period, the week reaches back into the one before, which the shortest policy
    rolls up; the days the digest reads are kept whole."""
    now = datetime(2026, 11, 5, 14, 30, tzinfo=UTC)
    await seed_readings(store, hourly(datetime(2026, 10, 3, tzinfo=UTC), now, per_hour=2))
    zone = ZoneInfo(NEW_YORK)
    week = week_ending(zone, datetime(2026, 11, 5, 9, tzinfo=zone))
    plan = await store.accounts.snapshot(DEMO_ACCOUNT)

    async def used_in_week() -> object:
        return (await week_changes(store, plan, zone, since=week.since, until=week.until)).usage_added

    before = await used_in_week()
    done = await prune.prune(store, RetentionPolicy.defaults(readings_periods=1), now)

    assert done.readings_rolled_up > 300
    assert await used_in_week() == before


def test_rises_between_kept_readings_add_up_to_the_same_usage() -> None:
    """Over any span between local midnights, whatever the readings do: rise, stall, fall, repeat."""
    zone = ZoneInfo("Asia/Kolkata")
    rng = random.Random(20)
    for _ in range(200):
        series = list(_random_readings(rng))
        kept_ids = {r.id for r in series} - set(to_drop(series, zone, {}))
        kept = [r for r in series if r.id in kept_ids]
        for _ in range(10):
            first, last = sorted(rng.sample(range(6), 2))
            since, until = (_local_midnight(zone, d) for d in (first, last))

            def added(of: list[StoredReading], since: datetime = since, until: datetime = until) -> object:
                return usage_added(
                    [Reading(meter=r.meter, used=r.used, at=r.at) for r in of if r.at < until], since
                )

            assert added(kept) == added(series)
        assert set(to_drop(kept, zone, {})) == set(), "rolling up again keeps them all"


def _random_readings(rng: random.Random) -> Iterator[StoredReading]:
    at, used = _local_midnight(ZoneInfo("Asia/Kolkata"), 0), Decimal(0)
    for index in range(rng.randint(1, 150)):
        at += timedelta(minutes=rng.choice([1, 30, 60, 180, 600]))
        used = rng.choice(
            [used, used + rng.randint(1, 9), Decimal(rng.randint(0, 3)), max(used - 2, Decimal(0))]
        )
        yield StoredReading(id=index, meter=VOICE, used=used, at=at)


def _local_midnight(zone: ZoneInfo, day: int) -> datetime:
    return datetime.combine(date(2026, 3, 1) + timedelta(days=day), time(), tzinfo=zone).astimezone(UTC)


# ------------------------------------------------------------------------------- once a day, anywhere


async def test_the_worker_prunes_once_a_day_whichever_worker_asks(store: Store) -> None:
    stop = asyncio.Event()
    first = await asyncio.gather(*(prune.daily(store, POLICY, DEMO_NOW, stop) for _ in range(3)))
    assert sum(report is not None for report in first) == 1, "of three workers asking at once, one prunes"
    assert await prune.daily(store, POLICY, DEMO_NOW + timedelta(hours=23), stop) is None
    assert await prune.daily(store, POLICY, DEMO_NOW + timedelta(days=1), stop) is not None


async def test_a_stopping_worker_ends_its_prune_after_the_batch_in_hand(store: Store) -> None:
    await seed_readings(store, hourly(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)))
    stop = asyncio.Event()
    stop.set()
    done = await prune.prune(store, POLICY, DEMO_NOW, stop=stop)
    assert done == prune.PruneReport(dry_run=False)
    assert len(await readings(store)) == 2184, "nothing pruned"


# ------------------------------------------------------------------------------------ the command line


async def test_myplan_prune_says_what_it_would_do_then_does_it(store: Store, env: dict[str, str]) -> None:  # noqa: F811
    await seed_readings(store, hourly(datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 8, 3, tzinfo=UTC)))
    async with store.db.session() as session:
        session.add(
            AuditRow(account_id=DEMO_ACCOUNT, actor="U1", action="old", at=datetime(2018, 1, 1, tzinfo=UTC))
        )

    preview = myplan("prune", "--dry-run", env=env)
    assert preview.returncode == 0, preview.stderr
    assert (
        "usage readings: 0 would be rolled up to one a day (kept one by one for 2 billing period(s)), 48 would be removed (older than 13 period(s))"
        in preview.stdout
    )
    assert "audit log: 1 entr(ies) would be removed (older than 7 year(s))" in preview.stdout
    assert len(await readings(store)) == 48

    done = myplan("prune", env=env)
    assert done.returncode == 0, done.stderr
    assert "48 were removed" in done.stdout
    assert "audit log: 1 entr(ies) were removed" in done.stdout
    assert await readings(store) == []


async def test_one_account_that_cannot_be_pruned_stops_no_other(store: Store, env: dict[str, str]) -> None:  # noqa: F811
    await seed_readings(store, hourly(datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 8, 2, tzinfo=UTC)))
    await _second_account(store, time_zone="Mars/Olympus_Mons")
    done = myplan("prune", env=env)
    assert done.returncode == 1
    assert "failed for 1 account(s), left for the next prune: broken" in done.stdout
    assert "24 were removed" in done.stdout, "the sample account was pruned all the same"


async def _second_account(store: Store, *, time_zone: str) -> None:
    document = await store.accounts.document(DEMO_ACCOUNT)
    await store.accounts.upsert("broken", document, now=DEMO_NOW)
    async with store.db.session() as session:
        session.add(AlertScheduleRow(account_id="broken", time_zone=time_zone, quiet_weekends=False))


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"RETAIN_READINGS_PERIODS": "0"},
            "RETAIN_READINGS_PERIODS: Input should be greater than or equal to 1",
        ),
        ({"RETAIN_AUDIT_YEARS": "seven"}, "RETAIN_AUDIT_YEARS: Input should be a valid integer"),
        (
            {"RETAIN_READINGS_PERIODS": "6", "RETAIN_DAILY_READINGS_PERIODS": "3"},
            "RETAIN_DAILY_READINGS_PERIODS (3) is less than RETAIN_READINGS_PERIODS (6)",
        ),
    ],
)
def test_a_retention_setting_out_of_bounds_is_named(
    env: dict[str, str],  # noqa: F811
    variables: dict[str, str],
    message: str,
) -> None:
    done = myplan("prune", env={**env, **variables})
    assert done.returncode == 1
    assert message in done.stderr


async def test_status_names_a_worker_that_does_not_prune(store: Store, env: dict[str, str]) -> None:  # noqa: F811
    await store.status.record_pass(EVALUATION_PASS, datetime.now(UTC))
    text = myplan("status", env=env)
    assert "retention       last prune began never" in text.stdout
    assert "the worker's daily prune has not run" in text.stdout
    assert text.returncode == 1


def test_months_back_keeps_the_day_where_the_month_has_it() -> None:
    assert months_back(datetime(2026, 3, 31, 8, tzinfo=UTC), 1) == datetime(2026, 2, 28, 8, tzinfo=UTC)
    assert months_back(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(2024, 12, 15, tzinfo=UTC)


async def test_the_worker_prunes_as_it_starts_and_stops_on_sigterm(
    store: Store, database_url: str, fake_slack: FakeSlack
) -> None:
    await seed_readings(store, hourly(datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 8, 2, tzinfo=UTC)))
    variables = environment(
        database_url, SLACK_BOT_TOKEN="xoxb-worker", SLACK_API_URL=fake_slack.api_url, LOG_LEVEL="INFO"
    )
    process = await start_worker(variables)
    assert process.stderr is not None
    try:
        logged = await asyncio.wait_for(_line_with(process.stderr, "prune: "), 60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert "24 were removed" in logged
    assert await readings(store) == []
    assert (await store.status.read(utcnow(), oauth=False)).last_prune is not None


async def _line_with(stream: asyncio.StreamReader, text: str) -> str:
    while line := (await stream.readline()).decode():
        if text in line:
            return line
    raise AssertionError(f"the worker ended without logging {text!r}")
