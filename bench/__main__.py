"""`python -m bench`: every benchmark in one run, on SQLite and (when reachable) PostgreSQL.

- bench.cli_start: `myplan --help` start to exit, next to a bare interpreter and a bare click program.
- bench.rss: `myplan serve`'s idle resident set size, next to a bare bolt app's and to that app with the
  stack the specification requires (SQLAlchemy 2's async ORM, pydantic-settings).
- bench.ack: ack latency p50/p95/p99, requests/s and ack→reply time of the real server for `/plan`,
  `/rates <phone number>`, a block action, a view submission and `app_home_opened` at concurrency 1, 8
  and 32, next to a bare bolt app doing the same Slack I/O; peak RSS idle and under load.
- bench.rates: rate lookups per second and p99 per lookup on the sample and a 50,000-row table.
- bench.campaign: the campaign pre-flight pricing a CSV of 100,000 numbers (read, parse, group, price).
- bench.ingest: usage readings ingested per second in batches of 100 and 1,000.
- bench.alerts: quota-alert evaluation of 10,000 and 100,000 accounts.
- bench.spikes: spike detection over 10,000 accounts × 200 destinations (PostgreSQL).
- bench.prune: the retention prune of 1,000 accounts' year of hourly readings while readings are ingested
  (PostgreSQL; `python -m bench.prune` alone runs the 10,000 accounts of the target, about 25 minutes).
- bench.ingest_alert: a threshold-crossing usage POST to the alert at the fake Slack, via the real server.
- bench.soak: 200 alerts through a web process and two workers on PostgreSQL, the fake Slack failing a
  quarter of the posts at random (some after storing them), a worker killed mid-run: posted / expected /
  doubled / lost (about a minute and a half; skipped without PostgreSQL).

The report is printed and written to bench/results/latest.txt, with the machine it ran on.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

MODULES = [
    ["bench.cli_start"],
    ["bench.rss"],
    ["bench.ack"],
    ["bench.rates"],
    ["bench.campaign"],
    ["bench.ingest"],
    ["bench.alerts"],
    ["bench.spikes"],
    ["bench.prune", "--accounts", "1000"],
    ["bench.ingest_alert"],
    ["bench.soak"],
]
"""Each benchmark's module and arguments."""
RESULTS = Path(__file__).parent / "results" / "latest.txt"


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB; "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def main() -> int:
    sections = [f"My Plan for Slack benchmarks — {machine()}"]
    print(sections[0], flush=True)
    failed = 0
    for module, *arguments in MODULES:
        print(f"\n== {module}", flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", module, *arguments], capture_output=True, text=True, check=False
        )
        output = done.stdout.strip() or done.stderr.strip()[-2000:]
        took = time.perf_counter() - started
        sections.append(f"== {module} ({took:.0f} s{'' if done.returncode == 0 else ', FAILED'})\n{output}")
        print(output, flush=True)
        failed += done.returncode != 0
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n\n".join(sections) + "\n")
    print(f"\nwritten to {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
