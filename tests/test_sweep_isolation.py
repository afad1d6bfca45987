"""One account cannot stop every account's alerts: data stored out of bounds is skipped, an account whose
evaluation fails is isolated, skipped and retried with backoff, and the operator can see it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import inspect, text

import store.alert_evaluation as alert_store
from bot.alerts.forecast import MIN_READINGS, forecast_alert, forecast_from_readings
from bot.alerts.rules import midnight
from bot.demo import demo_document, demo_readings
from bot.devtools.fake_slack import FakeSlack
from store import Store
from store.db import create_engine
from store.domain.alerts import (
    DEFAULT_THRESHOLDS,
    AlertKind,
    DuePass,
    Forecast,
    ForecastCandidate,
    SweepResult,
)
from store.migrate import upgrade_url
from store.tables import SubscriptionRow
from store.usage import Reading
from tests.conftest import POSTGRES_URL, _asyncpg_dsn, _pg_execute, _with_database
from tests.support.alerting import service
from tests.support.clock import DEMO_NOW, FakeClock

pytestmark = pytest.mark.usefixtures("demo")

BAD = "acme"
"""The account that goes wrong; `demo` (and `zeta`) carry on."""
UNSET = datetime(1, 1, 1, tzinfo=UTC)
"""What a Go client sends for a time it never set: 0001-01-01T00:00:00Z."""

Forecaster = Callable[[ForecastCandidate], Forecast | None]


async def add_account(store: Store, account_id: str) -> None:
    """Another account like the sample one: its readings cross thresholds and forecast a run-out."""
    doc = demo_document(DEMO_NOW)
    await store.accounts.upsert(account_id, doc, now=DEMO_NOW)
    await store.usage.record(account_id, demo_readings(doc), now=DEMO_NOW)


async def kinds_of(store: Store, account_id: str) -> set[tuple[str, AlertKind]]:
    return {(a.meter, a.kind) for a in await store.alerts.all_of(account_id)}


def failing_for(account_id: str, calls: list[str] | None = None) -> Forecaster:
    """The real forecaster, except that it breaks on `account_id`'s allowances."""

    def forecaster(candidate: ForecastCandidate) -> Forecast | None:
        if calls is not None:
            calls.append(candidate.account_id)
        if candidate.account_id == account_id:
            raise RuntimeError(f"forecast of {account_id} broke")
        return forecast_alert(candidate)

    return forecaster


async def sweep(store: Store, now: datetime, forecaster: Forecaster) -> SweepResult:
    return await store.alerts.sweep(now, forecaster, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS)


async def due_pass(store: Store, now: datetime, forecaster: Forecaster) -> DuePass:
    """The worker's pass over the accounts due, which isolates a failing account as a sweep does."""
    return await store.alerts.evaluate_due(
        now, forecaster, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS
    )


Evaluate = Callable[[Store, datetime, Forecaster], Awaitable[SweepResult | DuePass]]
BOTH_PASSES = pytest.mark.parametrize("evaluate", [sweep, due_pass], ids=["sweep", "due pass"])


# --- data stored before the bounds ------------------------------------------------------------------------


async def test_an_unset_time_stored_before_the_bounds_stops_no_account_s_alerts(
    store: Store, backend: str, fake_slack: FakeSlack, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # What the ingest API used to answer 200 for: a reading and a billing period dated 0001-01-01.
    await add_account(store, BAD)
    await store.usage.record(
        BAD, [Reading(meter="voice_minutes", used=Decimal(4000), at=UNSET)], now=DEMO_NOW
    )
    async with store.db.session() as session:
        subscription = await session.get(SubscriptionRow, BAD)
        assert subscription is not None
        subscription.period_start = date(1, 1, 1)
    if backend == "postgresql":
        async with store.db.session() as session:
            stored = await session.execute(
                text(
                    "SELECT (SELECT min(at)::text FROM usage_readings WHERE account_id = :a),"
                    " (SELECT period_start::text FROM subscriptions WHERE account_id = :a)"
                ),
                {"a": BAD},
            )
            assert tuple(stored.one()) == ("-infinity", "-infinity"), "asyncpg keeps year 1 as -infinity"

    alerts = service(store, fake_slack, clock)
    caplog.set_level(logging.ERROR)
    claimed = await alerts.sweep()  # raised "cannot convert float NaN to integer" on PostgreSQL

    assert claimed > 0
    assert {("voice_minutes", AlertKind.FORECAST), ("staff_licences", AlertKind.THRESHOLD)} <= await kinds_of(
        store, "demo"
    )
    assert await store.alerts.all_of(BAD) == [], "an account whose period is out of bounds is skipped"
    (failure,) = await store.alerts.failing_accounts()
    assert failure.account_id == BAD
    assert "billing period starts on 0001-01-01, out of bounds" in failure.last_error
    assert failure.retry_at == clock.now + timedelta(minutes=1)
    assert any(BAD in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)

    # `myplan alerts run` evaluates every account the same way (it exited 1 before).
    assert await alerts.evaluate() == []
    # The readers leave the unset reading out: no chart or forecast is drawn through year 1.
    history = await store.usage.history(BAD, "voice_minutes", since=midnight(date(1, 1, 1)))
    assert history
    assert all(r.at.year == DEMO_NOW.year for r in history)


async def test_the_account_comes_back_once_its_data_is_sent_again(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await add_account(store, BAD)
    async with store.db.session() as session:
        subscription = await session.get(SubscriptionRow, BAD)
        assert subscription is not None
        subscription.period_start = date(1, 1, 1)
    alerts = service(store, fake_slack, clock)
    await alerts.sweep()
    assert [f.account_id for f in await store.alerts.failing_accounts()] == [BAD]

    await store.accounts.upsert(BAD, demo_document(DEMO_NOW), now=DEMO_NOW)  # the billing platform again
    clock.advance(minutes=1)
    await alerts.sweep()
    assert await store.alerts.failing_accounts() == []
    assert ("staff_licences", AlertKind.THRESHOLD) in await kinds_of(store, BAD)


def test_the_forecast_maths_takes_any_readings_without_raising() -> None:
    start = date(2026, 11, 2)
    at = [midnight(start) + timedelta(days=day) for day in range(1, 5)]
    readings = [Reading(meter="voice_minutes", used=Decimal(1000 * day), at=t) for day, t in enumerate(at, 1)]
    sane = forecast_from_readings(
        readings, period_start=start, used=Decimal(4000), available=Decimal(5000), as_of=at[-1]
    )
    assert sane is not None
    for odd in (
        Reading(meter="voice_minutes", used=Decimal(4000), at=UNSET),
        Reading(meter="voice_minutes", used=Decimal(4000), at=datetime.max.replace(tzinfo=UTC)),
        Reading.model_construct(meter="voice_minutes", used=Decimal("NaN"), at=at[-1]),
    ):
        assert (
            forecast_from_readings(
                [*readings, odd],
                period_start=start,
                used=Decimal(4000),
                available=Decimal(5000),
                as_of=at[-1],
            )
            == sane
        ), f"{odd} is left out"
    for period_start in (date(1, 1, 1), date.max):
        forecast_from_readings(  # whatever it says, it says it without an error
            [*readings, Reading(meter="voice_minutes", used=Decimal(1), at=UNSET)],
            period_start=period_start,
            used=Decimal(4000),
            available=Decimal(5000),
            as_of=at[-1],
        )
    assert (
        forecast_from_readings(
            readings, period_start=start, used=Decimal(4000), available=Decimal("Infinity"), as_of=at[-1]
        )
        is None
    )
    far = datetime(9999, 12, 31, 12, tzinfo=UTC)
    assert (
        forecast_from_readings(
            readings, period_start=start, used=Decimal(4000), available=Decimal(5000), as_of=far
        )
        is None
    ), "a run-out past year 9999 is no forecast, not an OverflowError"


# --- isolation ----------------------------------------------------------------------------------------------


@BOTH_PASSES
async def test_an_account_whose_evaluation_fails_is_skipped_and_the_rest_is_claimed(
    store: Store, caplog: pytest.LogCaptureFixture, evaluate: Evaluate
) -> None:
    await add_account(store, BAD)
    await add_account(store, "zeta")
    caplog.set_level(logging.WARNING)

    result = await evaluate(store, DEMO_NOW, failing_for(BAD))

    for good in ("demo", "zeta"):
        assert ("voice_minutes", AlertKind.FORECAST) in await kinds_of(store, good)
        assert ("staff_licences", AlertKind.THRESHOLD) in await kinds_of(store, good)
    assert await store.alerts.all_of(BAD) == [], "skipped whole: none of its alerts is claimed half-way"
    assert [f.account_id for f in result.failed] == [BAD]
    assert result.claimed == len(await store.alerts.all_of("demo")) + len(await store.alerts.all_of("zeta"))
    (failure,) = await store.alerts.failing_accounts()
    assert (failure.failures, failure.first_failed_at, failure.last_failed_at) == (1, DEMO_NOW, DEMO_NOW)
    assert failure.retry_at == DEMO_NOW + timedelta(minutes=1)
    assert failure.last_error == f"RuntimeError: forecast of {BAD} broke"
    assert any(BAD in r.getMessage() and r.exc_info for r in caplog.records), "logged with its id"


@BOTH_PASSES
async def test_a_failing_account_is_retried_with_backoff_and_cleared_on_success(
    store: Store, evaluate: Evaluate
) -> None:
    await add_account(store, BAD)
    calls: list[str] = []
    await evaluate(store, DEMO_NOW, failing_for(BAD, calls))

    calls.clear()
    await evaluate(store, DEMO_NOW + timedelta(seconds=59), failing_for(BAD, calls))
    assert BAD not in calls, "not tried again before its retry time"

    await evaluate(store, DEMO_NOW + timedelta(minutes=1), failing_for(BAD, calls))
    (failure,) = await store.alerts.failing_accounts()
    assert (failure.failures, failure.first_failed_at) == (2, DEMO_NOW)
    assert failure.retry_at == DEMO_NOW + timedelta(minutes=1) + timedelta(minutes=2), "the wait doubles"

    later = DEMO_NOW + timedelta(minutes=3)
    result = await evaluate(store, later, forecast_alert)  # fixed
    assert result.failed == ()
    assert await store.alerts.failing_accounts() == []
    assert ("voice_minutes", AlertKind.FORECAST) in await kinds_of(store, BAD)


def test_the_wait_doubles_up_to_an_hour() -> None:
    waits = [alert_store.evaluation_backoff(n) for n in (1, 2, 3, 7, 8, 50, 10**6)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 60, 60, 60, 60)]


async def test_a_sweep_without_failures_stays_one_set_based_pass(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await add_account(store, BAD)
    await sweep(store, DEMO_NOW, failing_for(BAD))
    caplog.clear()
    caplog.set_level(logging.WARNING)
    await sweep(store, DEMO_NOW + timedelta(seconds=30), failing_for(BAD))  # BAD waits: nothing fails
    assert not [r for r in caplog.records if "looking for the account" in r.getMessage()]


async def test_the_worker_logs_the_accounts_it_skipped(
    store: Store,
    fake_slack: FakeSlack,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_account(store, BAD)
    monkeypatch.setattr("handlers.alerts.service.forecast_alert", failing_for(BAD))
    caplog.set_level(logging.ERROR, logger="handlers.alerts.service")
    claimed = await service(store, fake_slack, clock).sweep()
    assert claimed == len(await store.alerts.all_of("demo"))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "handlers.alerts.service"]
    assert "skipped 1 failing account(s)" in line
    assert f"{BAD} (retry at {(clock.now + timedelta(minutes=1)).isoformat()})" in line


async def test_one_account_s_own_evaluation_records_its_failure_and_raises(store: Store) -> None:
    await add_account(store, BAD)
    with pytest.raises(RuntimeError, match="broke"):
        await store.alerts.evaluate(
            DEMO_NOW, failing_for(BAD), defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS, account_id=BAD
        )
    assert [f.account_id for f in await store.alerts.failing_accounts()] == [BAD]
    await store.alerts.evaluate(  # after an ingest that fixed it
        DEMO_NOW, forecast_alert, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS, account_id=BAD
    )
    assert await store.alerts.failing_accounts() == []


async def test_a_dry_run_skips_a_failing_account_and_records_nothing(store: Store) -> None:
    await add_account(store, BAD)
    would = await store.alerts.evaluate(
        DEMO_NOW, failing_for(BAD), defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS, dry_run=True
    )
    assert {a.account_id for a in would} == {"demo"}
    assert await store.alerts.failing_accounts() == []
    assert await store.alerts.all_of("demo") == []


async def test_when_every_account_fails_the_sweep_itself_fails(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alert_store, "MAX_ISOLATED", 2)
    for account_id in ("acme", "beta"):
        await add_account(store, account_id)

    def broken(candidate: ForecastCandidate) -> Forecast | None:
        raise RuntimeError("the forecaster is broken for everyone")

    with pytest.raises(RuntimeError, match="everyone"):
        await sweep(store, DEMO_NOW, broken)
    assert len(await store.alerts.failing_accounts()) == 2, "what was found is recorded"


# --- the migration ------------------------------------------------------------------------------------------


@pytest.fixture
async def empty_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database without any table yet, on the backend under test."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
        return
    assert POSTGRES_URL is not None
    name = f"myplan_migrate_{uuid.uuid4().hex[:10]}"
    await _pg_execute(_asyncpg_dsn(POSTGRES_URL), f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        await _pg_execute(_asyncpg_dsn(POSTGRES_URL), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_the_failures_table_comes_with_a_migration(empty_database: str) -> None:
    await upgrade_url(empty_database, "0007")
    await upgrade_url(empty_database)
    engine = create_engine(empty_database)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("alert_evaluation_failures")}
            )
    finally:
        await engine.dispose()
    assert columns == {
        "account_id",
        "failures",
        "last_error",
        "first_failed_at",
        "last_failed_at",
        "retry_at",
    }


async def test_health_lists_the_accounts_whose_evaluation_fails(
    http: TestClient,  # type: ignore[type-arg]
    store: Store,
) -> None:
    """One account's bad data does not make the service unhealthy; the operator sees which."""
    assert (await (await http.get("/healthz")).json())["alerts"] == {"failing_accounts": []}
    await add_account(store, BAD)
    await sweep(store, DEMO_NOW, failing_for(BAD))
    health = await http.get("/healthz")
    assert health.status == 200
    assert (await health.json())["alerts"] == {"failing_accounts": [BAD]}
