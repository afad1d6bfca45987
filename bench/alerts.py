"""Benchmark of quota alerts: evaluating many accounts, and the time from an ingest to Slack.

    python -m bench.alerts                                   # 10,000 and 100,000 accounts, SQLite and PostgreSQL
    python -m bench.alerts --accounts 10000 --backend sqlite
    python -m bench.alerts --accounts 100000,1000000 --changed 1 --backend postgresql   # incremental passes
    BENCH_POSTGRES_URL=postgresql://user@host/postgres python -m bench.alerts

For each backend and size it creates a scratch database (a temporary file; a temporary PostgreSQL
database created from the admin URL and dropped afterwards), migrates it, and bulk-inserts synthetic
accounts with SQL (three allowances, licences, seven features, a reading a day per allowance). Then:

* cold sweep: one evaluation of every account, claiming every crossing and forecast (many new alerts);
* warm sweep: the same again, with nothing new (what the worker does every minute);
* one account: the evaluation `on_usage` runs right after an ingest;
* ingest → post: a reading that crosses a threshold is stored, `on_usage` runs, and the clock stops
  when the fake Slack receives the chat.postMessage.

With `--changed PCT` it measures the worker's incremental pass instead (store.alert_marks): every
account is marked due as a migrated database's are, then

* cold sweep: every account evaluated at once, every mark then moved on as a pass leaves it (due when
  the billing period ends);
* nothing due: a pass when nothing changed (the median of several), which reads one empty index range;
* PCT% changed: PCT% of the accounts get a higher voice-minutes figure and are marked due, as their
  ingests would mark them, and one pass evaluates them; with the alerts it found.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text, update

from bench.ingest import add_postgres_url
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from handlers.alerts.delivery import AlertTuning
from handlers.alerts.service import AlertService
from handlers.slack_clients import single_client
from store import Store
from store.domain.alerts import AlertStatus
from store.migrate import upgrade_url
from store.tables import AlertRow
from store.usage import Reading

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
PERIOD_START = date(2026, 11, 2)
RENEWAL = date(2026, 12, 2)
READINGS_PER_METER = 10
DAYS_OF_READINGS = 18
LATENCY_SAMPLES = 20


@dataclass
class Result:
    backend: str
    accounts: int
    readings: int
    load_s: float
    cold_s: float
    cold_alerts: int
    warm_s: float
    one_account_ms: float
    ingest_to_post_ms: list[float]

    def row(self) -> str:
        p50 = statistics.median(self.ingest_to_post_ms)
        p95 = sorted(self.ingest_to_post_ms)[max(int(len(self.ingest_to_post_ms) * 0.95) - 1, 0)]
        return (
            f"| {self.backend} | {self.accounts:,} | {self.readings:,} | {self.load_s:.1f} s "
            f"| {self.cold_s:.1f} s ({self.cold_alerts:,} alerts) | {self.warm_s:.1f} s "
            f"| {self.one_account_ms:.0f} ms | {p50:.0f} ms / {p95:.0f} ms |"
        )


HEADER = (
    "| backend | accounts | readings | bulk insert | cold sweep | warm sweep | one account | ingest → post (median / p95) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|"
)


# --------------------------------------------------------------------------------------------------
# Scratch databases
# --------------------------------------------------------------------------------------------------


@asynccontextmanager
async def scratch_database(backend: str, postgres_url: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    admin = postgres_url.replace("postgresql+asyncpg://", "postgresql://").replace(
        "postgres://", "postgresql://", 1
    )
    name = f"myplan_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield f"{admin.rpartition('/')[0]}/{name}"
    finally:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


# --------------------------------------------------------------------------------------------------
# Synthetic accounts, inserted with SQL
# --------------------------------------------------------------------------------------------------


def _statements(sqlite: bool) -> list[str]:
    """INSERT … SELECT statements generating :n accounts; `(i * 7919 + k * 104729) % 1000` spreads usage
    deterministically (the same on both backends)."""
    if sqlite:
        numbers = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n) SELECT i FROM seq"
        account = "'bench' || printf('%07d', i)"
        channel = "'CB' || printf('%07d', i)"
        now, start, renewal = "'" + NOW.strftime("%Y-%m-%d %H:%M:%S.%f") + "'", ":start", ":renewal"
        reading_at = "strftime('%Y-%m-%d %H:%M:%S', :start, '+' || (d * :step) || ' days') || '.000000'"
        days = f"WITH RECURSIVE days(d) AS (SELECT 1 UNION ALL SELECT d + 1 FROM days WHERE d < {READINGS_PER_METER}) SELECT d FROM days"
    else:
        numbers = "SELECT i FROM generate_series(1, CAST(:n AS bigint)) AS i"  # i * 7919 outgrows integer
        account = "'bench' || lpad(i::text, 7, '0')"
        channel = "'CB' || lpad(i::text, 7, '0')"
        now, start, renewal = "CAST(:now AS timestamptz)", "CAST(:start AS date)", "CAST(:renewal AS date)"
        reading_at = "(CAST(:start AS date)::timestamp AT TIME ZONE 'UTC') + (d * CAST(:step AS double precision)) * interval '1 day'"
        days = f"SELECT d FROM generate_series(1, {READINGS_PER_METER}) AS d"

    meters = (
        "SELECT 'voice_minutes' AS meter, 5000 AS available, 1 AS k UNION ALL "
        "SELECT 'video_minutes', 2000, 2 UNION ALL SELECT 'storage_gb', 100, 3"
    )
    features = (
        "SELECT 'virtual_numbers' AS key, 'available' AS status, 10 AS lim, 'numbers' AS unit, 4 AS k UNION ALL "
        "SELECT 'directory', 'available', 500, 'contacts', 5 UNION ALL "
        "SELECT 'omnichannels', 'pending', 5, 'channels', 6 UNION ALL "
        "SELECT 'external_contacts', 'processing', 2000, 'contacts', 7 UNION ALL "
        "SELECT 'destinations', 'available', 20, 'destinations', 8 UNION ALL "
        "SELECT 'staff_accounts', 'available', 50, 'accounts', 9 UNION ALL "
        "SELECT 'campaigns', 'locked', NULL, 'campaigns', 10"
    )
    used = "round(m.available * ((((i * 7919 + m.k * 104729) % 1000) / 1000.0) * 1.05), 1)"
    return [
        f"INSERT INTO accounts (id, company_name, currency, voip_rate_per_min, alerts_channel, data_as_of, created_at, updated_at) "
        f"SELECT {account}, 'Bench Co ' || i, 'USD', 0.004, {channel}, {now}, {now}, {now} FROM ({numbers}) AS n",
        f"INSERT INTO subscriptions (account_id, plan_name, monthly_fee, period_start, next_payment_date, "
        f"staff_licences_purchased, staff_licences_assigned) "
        f"SELECT {account}, 'BUSINESS', 1299, {start}, {renewal}, 50, (i * 31) % 51 FROM ({numbers}) AS n",
        f"INSERT INTO allowances (account_id, meter, available, used, used_at) "
        f"SELECT {account}, m.meter, m.available, {used}, {now} FROM ({numbers}) AS n CROSS JOIN ({meters}) AS m",
        f'INSERT INTO features (account_id, key, status, status_since, used, "limit", unit) '
        f"SELECT {account}, f.key, f.status, {now}, coalesce(f.lim, 0) * ((i * 7919 + f.k * 104729) % 1000) / 1000, f.lim, f.unit "
        f"FROM ({numbers}) AS n CROSS JOIN ({features}) AS f",
        f"INSERT INTO usage_readings (account_id, meter, used, at, received_at) "
        f"SELECT {account}, m.meter, round({used} * d / {READINGS_PER_METER}, 1), {reading_at}, {now} "
        f"FROM ({numbers}) AS n CROSS JOIN ({meters}) AS m CROSS JOIN ({days}) AS ds",
    ]


async def load_accounts(store: Store, n: int) -> int:
    params: dict[str, object] = {
        "n": n,
        "now": NOW,
        "start": PERIOD_START.isoformat() if store.db.is_sqlite else PERIOD_START,
        "renewal": RENEWAL.isoformat() if store.db.is_sqlite else RENEWAL,
        "step": DAYS_OF_READINGS / READINGS_PER_METER,
    }
    async with store.db.engine.begin() as connection:
        for statement in _statements(store.db.is_sqlite):
            needed = {k: v for k, v in params.items() if f":{k}" in statement}
            await connection.execute(text(statement), needed)
        if not store.db.is_sqlite:
            await connection.execute(text("ANALYZE"))
    return n * 3 * READINGS_PER_METER


# --------------------------------------------------------------------------------------------------
# The measurements
# --------------------------------------------------------------------------------------------------


async def bench(backend: str, n: int, postgres_url: str) -> Result:
    async with scratch_database(backend, postgres_url) as url:
        await upgrade_url(url)
        store = Store.from_url(url)
        try:
            started = time.perf_counter()
            readings = await load_accounts(store, n)
            load_s = time.perf_counter() - started
            print(f"  {backend} {n:,}: loaded in {load_s:.1f} s", flush=True)

            async with FakeSlack() as fake:
                client = AsyncWebClient(token="xoxb-bench", base_url=fake.api_url)

                async def provider(team_id: str) -> AsyncWebClient | None:
                    return client

                alerts = AlertService(
                    store, provider, clock=_fixed_now, tuning=AlertTuning(channel_interval=0)
                )

                started = time.perf_counter()
                cold = await alerts.sweep()
                cold_s = time.perf_counter() - started
                print(f"  {backend} {n:,}: cold sweep {cold_s:.1f} s, {cold:,} alerts", flush=True)
                started = time.perf_counter()
                assert await alerts.sweep() == 0
                warm_s = time.perf_counter() - started

                # Say the backlog went out: the outbox holds sent alerts, as it would in production.
                async with store.db.session() as session:
                    await session.execute(update(AlertRow).values(status=AlertStatus.SENT.value))
                quiet = await _quiet_accounts(store, LATENCY_SAMPLES)
                for account in quiet:
                    await store.workspaces.link(f"T{account}", account)

                started = time.perf_counter()
                for account in quiet:
                    await alerts.evaluate(account)
                one_account_ms = (time.perf_counter() - started) * 1000 / len(quiet)

                latencies = []
                for account in quiet:
                    started = time.perf_counter()
                    await store.usage.record(
                        account,
                        [Reading(meter="video_minutes", used=Decimal(1990), at=NOW + timedelta(minutes=1))],
                    )
                    await alerts.on_usage(account)
                    channel = "CB" + account.removeprefix("bench")
                    await fake.wait_for(
                        "chat.postMessage",
                        where=_posted_to(channel),
                        timeout=30,
                    )
                    latencies.append((time.perf_counter() - started) * 1000)
                    await alerts.idle()  # its chart upload, outside the measurement
                await alerts.idle()
                await alerts.close()
        finally:
            await store.close()
    return Result(backend, n, readings, load_s, cold_s, cold, warm_s, one_account_ms, latencies)


@dataclass
class IncrementalResult:
    backend: str
    accounts: int
    changed_pct: float
    load_s: float
    first_s: float
    first_alerts: int
    idle_ms: float
    changed: int
    changed_s: float
    changed_alerts: int

    def row(self) -> str:
        return (
            f"| {self.backend} | {self.accounts:,} | {self.load_s:.1f} s | {self.first_s:.1f} s ({self.first_alerts:,}) "
            f"| {self.idle_ms:.1f} ms | {self.changed_pct:g}% ({self.changed:,}) | {self.changed_s * 1000:.0f} ms "
            f"| {self.changed_alerts:,} |"
        )


INCREMENTAL_HEADER = (
    "| backend | accounts | seeding | cold sweep (alerts) | pass, nothing due | changed (accounts) | pass, changed | alerts found |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|"
)
IDLE_PASSES = 7


async def incremental(backend: str, n: int, pct: float, postgres_url: str) -> IncrementalResult:
    async with scratch_database(backend, postgres_url) as url:
        await upgrade_url(url)
        store = Store.from_url(url)
        try:
            started = time.perf_counter()
            await load_accounts(store, n)
            await _mark_every_account(store)
            load_s = time.perf_counter() - started
            print(f"  {backend} {n:,}: seeded in {load_s:.1f} s", flush=True)
            alerts = AlertService(store, single_client(None), clock=_fixed_now)

            started = time.perf_counter()
            first = await alerts.sweep()  # every account, at once: quicker than a pass of them all
            first_s = time.perf_counter() - started
            await _moved_on(store)
            print(f"  {backend} {n:,}: cold sweep {first_s:.1f} s, {first:,} alerts", flush=True)

            idle = []
            for _ in range(IDLE_PASSES):
                started = time.perf_counter()
                assert await alerts.evaluate_due() == 0
                idle.append(time.perf_counter() - started)

            changed = await _change_some(store, pct)
            started = time.perf_counter()
            found = await alerts.evaluate_due()
            changed_s = time.perf_counter() - started
            print(
                f"  {backend} {n:,}: {changed:,} changed, pass {changed_s * 1000:.0f} ms, {found:,} alerts",
                flush=True,
            )
        finally:
            await store.close()
    return IncrementalResult(
        backend, n, pct, load_s, first_s, first, statistics.median(idle) * 1000, changed, changed_s, found
    )


async def _mark_every_account(store: Store) -> None:
    """Every account due, as migration 0015 leaves a database that had accounts."""
    async with store.db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO alert_evaluation_marks (account_id, due_at, version) SELECT id, :epoch, 0 FROM accounts"
            ),
            {"epoch": datetime(1970, 1, 1, tzinfo=UTC) if not store.db.is_sqlite else "1970-01-01 00:00:00"},
        )
        if not store.db.is_sqlite:
            await connection.execute(text("ANALYZE"))


async def _moved_on(store: Store) -> None:
    """Every mark where a pass leaves it after evaluating its account: due when the period ends."""
    renewal = datetime.combine(RENEWAL, datetime.min.time(), UTC)
    async with store.db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE alert_evaluation_marks SET due_at = :renewal"),
            {"renewal": renewal if not store.db.is_sqlite else renewal.strftime("%Y-%m-%d %H:%M:%S.%f")},
        )


async def _change_some(store: Store, pct: float) -> int:
    """Raise voice minutes by 30% of the allowance on every (100/pct)-th account and mark it due, as
    that account's ingest would; how many accounts changed."""
    step = max(round(100 / pct), 1)
    number = "CAST(substr(account_id, 6) AS integer)"
    now = NOW if not store.db.is_sqlite else NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    async with store.db.engine.begin() as connection:
        await connection.execute(
            text(
                f"UPDATE allowances SET used = used + available * 0.3 "
                f"WHERE meter = 'voice_minutes' AND {number} % :step = 0"
            ),
            {"step": step},
        )
        result = await connection.execute(
            text(
                f"UPDATE alert_evaluation_marks SET due_at = :now, version = version + 1 WHERE {number} % :step = 0"
            ),
            {"step": step, "now": now},
        )
        return int(result.rowcount)


def _posted_to(channel: str) -> Callable[[RecordedCall], bool]:
    return lambda call: call.ok and call.params.get("channel") == channel


def _fixed_now() -> datetime:
    """A fixed "now", so runs are comparable whatever the date."""
    return NOW


async def _quiet_accounts(store: Store, count: int) -> list[str]:
    """Accounts whose video minutes are below every threshold (so a reading at 99.5% crosses)."""
    async with store.db.session() as session:
        rows = await session.execute(
            text(
                "SELECT account_id, used FROM allowances WHERE meter = 'video_minutes' ORDER BY account_id LIMIT :scan"
            ),
            {"scan": count * 20},
        )
        return [row.account_id for row in rows if Decimal(str(row.used)) < 1500][:count]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--accounts", default="10000,100000", help="comma-separated sizes (default 10000,100000)"
    )
    parser.add_argument("--backend", default="sqlite,postgresql", help="sqlite, postgresql or both (default)")
    add_postgres_url(parser, "admin URL of a PostgreSQL where scratch databases may be created")
    parser.add_argument(
        "--changed",
        type=float,
        default=None,
        help="measure incremental passes with PCT%% of accounts changed",
    )
    args = parser.parse_args()
    if args.changed is not None:
        await _incremental_main(args)
        return
    results = []
    for backend in args.backend.split(","):
        for n in (int(size) for size in args.accounts.split(",")):
            results.append(await bench(backend.strip(), n, args.postgres_url))
    print()
    print(HEADER)
    for result in results:
        print(result.row())


async def _incremental_main(args: argparse.Namespace) -> None:
    results = [
        await incremental(backend.strip(), int(size), args.changed, args.postgres_url)
        for backend in args.backend.split(",")
        for size in args.accounts.split(",")
    ]
    print()
    print(INCREMENTAL_HEADER)
    for result in results:
        print(result.row())


if __name__ == "__main__":
    asyncio.run(main())
