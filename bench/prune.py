"""Benchmark of the retention prune: a year of hourly usage readings, pruned while readings are ingested.

    python -m bench.prune                            # 10,000 accounts × a year of hourly readings, PostgreSQL
    python -m bench.prune --accounts 500 --days 120

It creates a scratch PostgreSQL database (from the admin URL; dropped afterwards), migrates it, and inserts
with SQL the accounts (monthly periods, the current one 18 days old, time zone UTC) and, for each, a
reading of voice minutes every hour for DAYS days up to now, rising from zero each period. Then it runs
`myplan prune` as the worker would (another process, the default policy unless RETAIN_* are set) while
this process ingests a reading for one account after another, as the usage API does
(`UsageRepository.record`), without pause. It prints the seeding time; the prune's time and rows a second
(rolled up, removed); and the ingest's latency before and during the prune: p50, p99, the longest, and how
many calls took over 100 ms (the target: none), and when; then the time of a second prune, which finds
nothing to do (what each account's queries cost: the daily prune's floor). PostgreSQL is asked to log any lock wait over
100 ms in the scratch database (`log_lock_waits`): its server log tells a wait on the prune from a wait on
the disk or the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import cycle

import asyncpg
from sqlalchemy import text

from bench.alerts import scratch_database
from bench.ingest import add_postgres_url, postgres_reachable
from store import Store
from store.clock import utcnow
from store.migrate import upgrade_url
from store.usage import Reading

PERIOD_DAYS = 30
DAYS_INTO_PERIOD = 18
SLOW = 0.1
"""An ingest call slower than this (100 ms) counts as blocked."""
SEED_CHUNK = 250
"""Accounts whose readings one INSERT … SELECT writes (a transaction each)."""

ACCOUNTS = (
    "INSERT INTO accounts (id, company_name, currency, voip_rate_per_min, alerts_channel, data_as_of, "
    "created_at, updated_at) SELECT 'bench' || lpad(i::text, 7, '0'), 'Bench Co ' || i, 'USD', 0.004, NULL, "
    ":now, :now, :now FROM generate_series(1, :accounts) AS i",
    "INSERT INTO subscriptions (account_id, plan_name, monthly_fee, period_start, next_payment_date, "
    "staff_licences_purchased, staff_licences_assigned) SELECT 'bench' || lpad(i::text, 7, '0'), 'BUSINESS', "
    "1299, :period_start, :renewal, 50, 40 FROM generate_series(1, :accounts) AS i",
    "INSERT INTO allowances (account_id, meter, available, used, used_at) SELECT 'bench' || "
    "lpad(i::text, 7, '0'), 'voice_minutes', 5000, 0, :now FROM generate_series(1, :accounts) AS i",
)
READINGS = (
    "INSERT INTO usage_readings (account_id, meter, used, at, received_at) "
    "SELECT 'bench' || lpad(i::text, 7, '0'), 'voice_minutes', "
    "((h + CAST(:offset AS int)) % (24 * CAST(:period_days AS int))) * 2, "
    "CAST(:first AS timestamptz) + h * interval '1 hour', CAST(:now AS timestamptz) "
    "FROM generate_series(CAST(:low AS int), CAST(:high AS int)) AS i "
    "CROSS JOIN generate_series(0, CAST(:hours AS int) - 1) AS h"
)


@dataclass
class Latencies:
    seconds: list[float]
    recorded: int
    slow_at: list[datetime]
    """When each call over 100 ms began."""

    def line(self, label: str) -> str:
        if not self.seconds:
            return f"{label}: no calls"
        ordered = sorted(self.seconds)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        slow = sum(s > SLOW for s in ordered)
        return (
            f"{label}: {len(ordered):,} calls, p50 {statistics.median(ordered) * 1000:.1f} ms, p99 "
            f"{p99 * 1000:.1f} ms, longest {ordered[-1] * 1000:.1f} ms, over 100 ms: {slow}"
            + (
                f" (at {', '.join(f'{at:%H:%M:%S.%f}'[:-3] for at in self.slow_at)} UTC)"
                if self.slow_at
                else ""
            )
        )


async def seed(store: Store, accounts: int, days: int, now: datetime) -> tuple[float, int]:
    """The accounts and their readings; the time it took and the readings inserted."""
    started = time.perf_counter()
    hour = now.replace(minute=0, second=0, microsecond=0)
    period_start = hour.date() - timedelta(days=DAYS_INTO_PERIOD)
    first = hour - timedelta(days=days)
    params = {
        "now": now,
        "accounts": accounts,
        "period_start": period_start,
        "renewal": period_start + timedelta(days=PERIOD_DAYS),
    }
    async with store.db.engine.begin() as connection:
        for statement in ACCOUNTS:
            await connection.execute(
                text(statement), {k: v for k, v in params.items() if f":{k}" in statement}
            )
    # The reading `h` hours after `first` is `offset` hours into its period (the current one began at
    # `period_start`): it rises two minutes an hour from zero each period.
    offset = int(
        (first - datetime.combine(period_start, datetime.min.time(), tzinfo=UTC)) / timedelta(hours=1)
    )
    for low in range(1, accounts + 1, SEED_CHUNK):
        async with store.db.engine.begin() as connection:
            await connection.execute(
                text(READINGS),
                {
                    "now": now,
                    "first": first,
                    "offset": offset % (24 * PERIOD_DAYS),
                    "period_days": PERIOD_DAYS,
                    "low": low,
                    "high": min(low + SEED_CHUNK - 1, accounts),
                    "hours": days * 24,
                },
            )
    async with store.db.engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    return time.perf_counter() - started, accounts * days * 24


async def ingest_until(store: Store, accounts: int, done: asyncio.Event, start: datetime) -> Latencies:
    """Readings recorded one after another, an account each, a second apart from `start`, until `done`;
    each call's time."""
    seconds: list[float] = []
    slow_at: list[datetime] = []
    recorded = 0
    for n in cycle(range(1, accounts + 1)):
        if done.is_set():
            break
        at = start + timedelta(seconds=len(seconds))
        reading = Reading(meter="voice_minutes", used=Decimal(len(seconds)), at=at)
        began, started = utcnow(), time.perf_counter()
        recorded += (await store.usage.record(f"bench{n:07d}", [reading], now=at)).recorded
        seconds.append(time.perf_counter() - started)
        if seconds[-1] > SLOW:
            slow_at.append(began)
    return Latencies(seconds, recorded, slow_at)


async def prune_while_ingesting(
    url: str, store: Store, accounts: int, now: datetime
) -> tuple[float, str, Latencies]:
    """`myplan prune` in another process while this one ingests: its time, what it printed, the ingest's
    latencies meanwhile."""
    done = asyncio.Event()
    ingest = asyncio.create_task(ingest_until(store, accounts, done, now + timedelta(hours=1)))
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "prune",
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    took = time.perf_counter() - started
    done.set()
    during = await ingest
    if process.returncode != 0:
        raise SystemExit(f"myplan prune failed ({process.returncode}):\n{output.decode()}")
    return took, output.decode(), during


async def log_lock_waits(url: str) -> None:
    """Have PostgreSQL log every lock wait over 100 ms in the scratch database (in its server log): what
    would show the prune blocking an ingest, apart from the disk and the CPU they share."""
    database = url.rpartition("/")[2]
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'ALTER DATABASE "{database}" SET log_lock_waits = on')
        await connection.execute(f"ALTER DATABASE \"{database}\" SET deadlock_timeout = '100ms'")
    finally:
        await connection.close()


async def count_readings(store: Store) -> int:
    async with store.db.engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM usage_readings"))).scalar_one())


async def run(args: argparse.Namespace) -> None:
    now = utcnow()
    async with scratch_database("postgresql", args.postgres_url) as url:
        await log_lock_waits(url)
        await upgrade_url(url)
        store = Store.from_url(url)
        try:
            seeded, rows = await seed(store, args.accounts, args.days, now)
            print(
                f"seeded {args.accounts:,} accounts × {args.days} days of hourly readings: {rows:,} rows in {seeded:.1f} s"
            )
            quiet = asyncio.Event()
            asyncio.get_running_loop().call_later(args.baseline, quiet.set)
            print((await ingest_until(store, args.accounts, quiet, now)).line("ingest alone"))
            before = await count_readings(store)
            took, output, during = await prune_while_ingesting(url, store, args.accounts, now)
            left = await count_readings(store)
            again, _, _ = await prune_while_ingesting(url, store, args.accounts, now)
        finally:
            await store.close()
    gone = before + during.recorded - left
    print(output.rstrip())
    print(
        f"prune: {took:.1f} s; {gone:,} readings rolled up or removed ({gone / took:,.0f} rows/s), {left:,} left"
    )
    print(during.line("ingest during the prune"))
    print(f"the next prune, with nothing left to do (each account's queries only): {again:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument(
        "--days", type=int, default=365, help="days of hourly readings per account (default 365)"
    )
    parser.add_argument(
        "--baseline", type=float, default=5.0, help="seconds of ingest alone first (default 5)"
    )
    add_postgres_url(parser, "admin URL of a PostgreSQL where a scratch database may be created")
    args = parser.parse_args()
    if not postgres_reachable(args.postgres_url):
        print(f"skipped: no PostgreSQL at {args.postgres_url}")
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
