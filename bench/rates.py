"""Rate lookup benchmark: lookups per second and p99 latency per kind of query.

Runs on the sample table (every diallable region) and on a synthetic table (50,000 rows by default), over
the same in-memory index the bot uses, so it measures what a `/rates` request costs after the database
read of the current version number.

    python -m bench.rates                   # sample + 50,000 rows, 1,000 lookups per kind
    python -m bench.rates --rows 200000 --lookups 500
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.rates import RateIndex, RateRow, sample_rows, synthetic_rows

QUERIES: dict[str, tuple[str, ...]] = {
    "names": ("Hong Kong", "united kingdom", "Viet Nam", "UK", "hongkong", "Côte d'Ivoire", "St. Lucia"),
    "typos": ("germny", "Phillipines", "swizerland", "kazakstan", "nederland"),
    "codes": ("GB", "GBR", "hk", "USA", "+44", "852", "0044", "+1876", "+7"),
    "phone numbers": (
        "+44 20 7946 0018",
        "+1 (212) 555-0123",
        "00852 9123 4567",
        "+7 701 123 4567",
        "+1 876 210 1234",
        "+44 7624 123456",
        "+1 800 555 0123",
    ),
    "garbage": ("asdfghjkl", "😀🎉", "q" * 2000, "+999"),
    "type-ahead": ("k", "kong", "+44", "united", "ger"),
}


@dataclass(frozen=True)
class Result:
    table: str
    kind: str
    lookups: int
    per_second: float
    p50_us: float
    p99_us: float


def measure(index: RateIndex, kind: str, queries: Sequence[str], lookups: int) -> tuple[float, list[float]]:
    """Total seconds and each lookup's seconds, cycling through `queries`."""
    run = index.complete if kind == "type-ahead" else index.lookup
    timings: list[float] = []
    for number in range(lookups):
        query = queries[number % len(queries)]
        started = time.perf_counter()
        run(query)
        timings.append(time.perf_counter() - started)
    return sum(timings), timings


def bench_table(name: str, rows: Sequence[RateRow], lookups: int) -> tuple[float, list[Result]]:
    started = time.perf_counter()
    index = RateIndex.build(rows)
    built = time.perf_counter() - started
    for queries in QUERIES.values():  # warm up caches (phonenumbers metadata, rapidfuzz) outside the timings
        for query in queries:
            index.lookup(query)
    results = []
    for kind, queries in QUERIES.items():
        total, timings = measure(index, kind, queries, lookups)
        cuts = statistics.quantiles(timings, n=100, method="inclusive")
        results.append(Result(name, kind, lookups, lookups / total, cuts[49] * 1e6, cuts[98] * 1e6))
    return built, results


def report(builds: dict[str, tuple[int, float]], results: Sequence[Result]) -> str:
    lines = [
        f"index build: {name}: {rows:,} rows in {seconds:.2f} s" for name, (rows, seconds) in builds.items()
    ]
    lines.append("")
    lines.append(
        f"{'table':<16} {'queries':<14} {'lookups':>8} {'lookups/s':>11} {'p50 µs':>9} {'p99 µs':>9}"
    )
    for r in results:
        lines.append(
            f"{r.table:<16} {r.kind:<14} {r.lookups:>8,} {r.per_second:>11,.0f} {r.p50_us:>9,.1f} {r.p99_us:>9,.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m bench.rates", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=50_000, help="rows of the synthetic table (default 50,000)"
    )
    parser.add_argument(
        "--lookups", type=int, default=1_000, help="lookups per kind of query (default 1,000)"
    )
    args = parser.parse_args(argv)
    if args.lookups < 2 or args.rows < 1:
        parser.error("--lookups must be at least 2 and --rows at least 1")
    tables = {"sample": sample_rows(), f"synthetic {args.rows:,}": synthetic_rows(args.rows)}
    builds: dict[str, tuple[int, float]] = {}
    results: list[Result] = []
    for name, rows in tables.items():
        built, measured = bench_table(name, rows, args.lookups)
        builds[name] = (len(rows), built)
        results += measured
    text = report(builds, results)
    print(text)
    return text


if __name__ == "__main__":
    main()
