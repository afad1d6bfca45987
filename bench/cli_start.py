"""`python -m bench.cli_start`: how long `myplan --help` takes, start to exit, next to a bare Python
interpreter and a bare click program in the same run (target: under 0.3 s on the machine in docs/).

Each is run as a fresh process, as a person types it; the median of a number of runs is printed, and
what the CLI imports beyond click (none of SQLAlchemy, Slack, pydantic, aiohttp, matplotlib, numpy).
"""

from __future__ import annotations

import argparse
import ast
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

BARE_CLICK = "import click\n@click.group()\ndef cli():\n    'A bare click program.'\ncli()"
HEAVY = ("sqlalchemy", "slack_sdk", "slack_bolt", "pydantic", "aiohttp", "matplotlib", "numpy", "alembic")


def seconds(command: Sequence[str], runs: int) -> float:
    """The median wall time of `runs` fresh processes running `command` (after one warm-up run)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def heavy_modules_loaded() -> list[str]:
    probe = (
        "import sys\nfrom bot.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True, text=True, check=True)
    return list(ast.literal_eval(done.stderr.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    entry = shutil.which("myplan") or str(sys.prefix) + "/bin/myplan"
    rows = [
        ("python -c pass", seconds([sys.executable, "-c", "pass"], runs)),
        ("bare click --help", seconds([sys.executable, "-c", BARE_CLICK, "--help"], runs)),
        ("myplan --help", seconds([entry, "--help"], runs)),
        ("myplan db upgrade --help", seconds([entry, "db", "upgrade", "--help"], runs)),
    ]
    print(f"start to exit, median of {runs} runs (target for myplan --help: under 0.300 s)")
    for name, took in rows:
        print(f"  {name:<26} {took:6.3f} s")
    print(f"  heavy modules loaded by myplan --help: {heavy_modules_loaded() or 'none'}")


if __name__ == "__main__":
    main()
