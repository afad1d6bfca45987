"""Benchmark of spike detection: every area of every account judged on its last 12 hours.

    python -m bench.spikes                                   # 10,000 accounts × 200 destinations, PostgreSQL
    python -m bench.spikes --accounts 1000 --destinations 50 --concurrency 4

It creates a scratch PostgreSQL database (from the admin URL; dropped afterwards), migrates it, and
inserts with SQL: the accounts; for each, DESTINATIONS areas of voice traffic with 28 days of daily history
(`traffic_series`, 100 minutes a day); and one hour of traffic in each area's window, 1% of areas
bursting (1,000 minutes against a usual 50 for 12 hours). Then it judges every account as a traffic ingest
does (`bot.traffic.spikes.find_spikes`, all its areas), CONCURRENCY accounts at a time, and claims what it
finds: the time, accounts and areas a second, and the spikes found (expected: 1% of areas).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.alerts import scratch_database
from bench.ingest import add_postgres_url, postgres_reachable
from bot.traffic.spikes import find_spikes
from store import Store
from store.migrate import upgrade_url

HOUR = datetime(2026, 11, 20, 8, tzinfo=UTC)
"""The newest hour sent: the windows end an hour after it."""
BURST_EVERY = 100
"""One area in this many bursts."""


def _history() -> str:
    days = [(HOUR.date() - timedelta(days=d)).isoformat() for d in range(1, 36)]
    return json.dumps(dict.fromkeys(days, "100"))


STATEMENTS = [
    "INSERT INTO accounts (id, company_name, currency, voip_rate_per_min, alerts_channel, data_as_of, "
    "created_at, updated_at) SELECT 'bench' || lpad(i::text, 7, '0'), 'Bench Co ' || i, 'USD', 0.004, NULL, "
    ":now, :now, :now FROM generate_series(1, :accounts) AS i",
    "INSERT INTO traffic_series (account_id, area, kind, place, first_day, days) "
    "SELECT 'bench' || lpad(i::text, 7, '0'), 'D' || lpad(d::text, 4, '0'), 'voice', 'Place ' || d, "
    ":first_day, CAST(:history AS json) "
    "FROM generate_series(1, :accounts) AS i CROSS JOIN generate_series(1, :destinations) AS d",
    "INSERT INTO traffic_hours (account_id, hour, destination, kind, line_type, quantity, area, high_risk, "
    "place, rate, cost, received_at) "
    "SELECT 'bench' || lpad(i::text, 7, '0'), :hour, '+1' || lpad(d::text, 4, '0'), 'voice', '', "
    "CASE WHEN (i * 7919 + d) % :burst_every = 0 THEN 1000 ELSE 40 END, 'D' || lpad(d::text, 4, '0'), false, "
    "'Place ' || d, 0.0100, CASE WHEN (i * 7919 + d) % :burst_every = 0 THEN 10 ELSE 0.4 END, :now "
    "FROM generate_series(1, :accounts) AS i CROSS JOIN generate_series(1, :destinations) AS d",
]


async def seed(store: Store, accounts: int, destinations: int) -> float:
    started = time.perf_counter()
    params = {
        "accounts": accounts,
        "destinations": destinations,
        "now": HOUR + timedelta(hours=1),
        "hour": HOUR,
        "first_day": HOUR.date() - timedelta(days=40),
        "history": _history(),
        "burst_every": BURST_EVERY,
    }
    async with store.db.engine.begin() as connection:
        for statement in STATEMENTS:
            needed = {k: v for k, v in params.items() if f":{k}" in statement}
            await connection.execute(text(statement), needed)
        await connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def judge_all(
    store: Store, accounts: int, destinations: int, concurrency: int
) -> tuple[float, int, list[float]]:
    areas = [f"D{d:04d}" for d in range(1, destinations + 1)]
    ids = [f"bench{i:07d}" for i in range(1, accounts + 1)]
    now = HOUR + timedelta(hours=1)
    found = 0
    each: list[float] = []
    queue = iter(ids)

    async def worker() -> None:
        nonlocal found
        for account in queue:
            started = time.perf_counter()
            spikes = await find_spikes(store, account, [HOUR], areas, now)
            claimed = await store.traffic_alerts.claim(account, spikes, now)
            found += len(claimed)
            each.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, found, each


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--destinations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4, help="accounts judged at once (default 4)")
    add_postgres_url(parser, "admin URL of a PostgreSQL where a scratch database may be created")
    args = parser.parse_args()
    if not postgres_reachable(args.postgres_url):
        print(f"skipped: no PostgreSQL at {args.postgres_url}")
        return
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    async with scratch_database("postgresql", args.postgres_url) as url:
        await upgrade_url(url)
        store = Store.from_url(url, pool_size=args.concurrency + 2)
        try:
            seeded = await seed(store, args.accounts, args.destinations)
            took, found, each = await judge_all(store, args.accounts, args.destinations, args.concurrency)
        finally:
            await store.close()
    areas = args.accounts * args.destinations
    print(f"seeded {args.accounts:,} accounts × {args.destinations} areas in {seeded:.1f} s")
    print(
        f"judged {areas:,} areas in {took:.1f} s ({args.accounts / took:,.0f} accounts/s, "
        f"{areas / took:,.0f} areas/s, {args.concurrency} at once); per account p50 "
        f"{statistics.median(each) * 1000:.1f} ms, p95 {statistics.quantiles(each, n=20)[18] * 1000:.1f} ms"
    )
    print(f"spikes found and claimed: {found:,} (expected {areas // BURST_EVERY:,})")


if __name__ == "__main__":
    main()
