"""Ingest API throughput: usage readings per second, in batches of 100 and 1,000, on SQLite and PostgreSQL.

    python -m bench.ingest                       # both backends, default sizes
    python -m bench.ingest --backend sqlite --readings 5000
    python -m bench.ingest --postgres postgresql://postgres@127.0.0.1:5432/postgres --json bench/results/ingest.json

For each backend it makes a scratch database, runs the real `myplan` CLI to migrate it and load the
sample account, starts `myplan serve` on a loopback port, and posts batches of readings to
`POST /api/v1/accounts/demo/usage` one after another, each with an Idempotency-Key, as the billing
platform would. Every reading is new (distinct times), so each one is stored and moves its meter.
Only loopback addresses are used; the run is bounded by --readings per batch size.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg

TOKEN = "bench-ingest-token"
ACCOUNT = "demo"
METERS = ("voice_minutes", "video_minutes", "storage_gb")
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CLI = [sys.executable, "-c", "from bot.cli import main; main()"]


def add_postgres_url(parser: argparse.ArgumentParser, help: str) -> None:
    """`--postgres-url`: an admin URL of a PostgreSQL (BENCH_POSTGRES_URL, else TEST_DATABASE_URL, else the
    local server)."""
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or DEFAULT_POSTGRES,
        help=help,
    )


@dataclass
class Result:
    backend: str
    batch_size: int
    batches: int
    readings: int
    seconds: float
    readings_per_second: float
    batch_ms_p50: float
    batch_ms_p95: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="myplan-bench-") as folder:
        yield f"sqlite+aiosqlite:///{folder}/myplan.db"


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"myplan_bench_{uuid.uuid4().hex[:10]}"
    admin_dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    asyncio.run(_pg_execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        yield admin_dsn.rpartition("/")[0] + "/" + name
    finally:
        asyncio.run(_pg_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def server_env(database_url: str, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_"))}
    env.update(
        DATABASE_URL=database_url,
        INGEST_TOKEN=TOKEN,
        PORT=str(port),
        SLACK_SIGNING_SECRET="bench",
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",  # nothing listens; no notice is sent
        LOG_LEVEL="WARNING",
    )
    return env


@contextlib.contextmanager
def running_server(database_url: str) -> Iterator[str]:
    """Migrate, load the sample account, and serve, all through the real `myplan` CLI."""
    port = free_port()
    env = server_env(database_url, port)
    for step in (["db", "upgrade"], ["demo"]):
        subprocess.run([*CLI, *step], env=env, check=True, capture_output=True)
    server = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_healthy(base: str, server: subprocess.Popen[bytes], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode() if server.stderr else ""
            raise RuntimeError(f"the server exited: {error[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not become healthy in time")


def batches(batch_size: int, count: int, start: datetime) -> Iterator[bytes]:
    """`count` bodies of `batch_size` readings, every reading at a later time than the one before."""
    step = timedelta(microseconds=100)
    n = 0
    for _ in range(count):
        readings = []
        for _ in range(batch_size):
            n += 1
            at = (start + step * n).isoformat().replace("+00:00", "Z")
            readings.append({"meter": METERS[n % len(METERS)], "used": str(n % 5000), "at": at})
        yield json.dumps({"readings": readings}).encode()


async def measure(backend: str, base: str, batch_size: int, total: int, start: datetime) -> Result:
    count = max(1, total // batch_size)
    url = f"{base}/api/v1/accounts/{ACCOUNT}/usage"
    bodies = list(batches(batch_size, count + 1, start))  # the first is a warm-up
    timings: list[float] = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        began = 0.0
        for index, body in enumerate(bodies):
            headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
            sent = time.perf_counter()
            if index == 1:
                began = sent
            async with http.post(url, data=body, headers=headers) as response:
                answer = await response.json()
                if response.status != 200 or answer["recorded"] != batch_size:
                    raise RuntimeError(f"batch {index}: HTTP {response.status}: {answer}")
            if index > 0:
                timings.append(time.perf_counter() - sent)
        elapsed = time.perf_counter() - began
    readings = count * batch_size
    cuts = statistics.quantiles(timings, n=20) if len(timings) > 1 else timings * 19
    return Result(
        backend=backend,
        batch_size=batch_size,
        batches=count,
        readings=readings,
        seconds=round(elapsed, 3),
        readings_per_second=round(readings / elapsed, 1),
        batch_ms_p50=round(statistics.median(timings) * 1000, 1),
        batch_ms_p95=round(cuts[18] * 1000, 1),
    )


def bench_backend(backend: str, database_url: str, sizes: list[int], total: int) -> list[Result]:
    with running_server(database_url) as base:
        return asyncio.run(measure_sizes(backend, base, sizes, total))


async def measure_sizes(backend: str, base: str, sizes: list[int], total: int) -> list[Result]:
    results = []
    # Readings from the sample data's "as of" hour onwards, so each one is the newest of its meter.
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for size in sizes:
        results.append(await measure(backend, base, size, total, start))
        start += timedelta(microseconds=100) * (total + size) * 2
    return results


def postgres_reachable(url: str) -> bool:
    try:
        asyncio.run(_pg_execute(url.replace("postgresql+asyncpg://", "postgresql://"), "SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def print_table(results: list[Result]) -> None:
    print(
        f"{'backend':<11}{'batch':>7}{'batches':>9}{'readings':>10}{'seconds':>9}{'readings/s':>12}{'p50 ms':>9}{'p95 ms':>9}"
    )
    for r in results:
        print(
            f"{r.backend:<11}{r.batch_size:>7}{r.batches:>9}{r.readings:>10}{r.seconds:>9.2f}"
            f"{r.readings_per_second:>12,.0f}{r.batch_ms_p50:>9.1f}{r.batch_ms_p95:>9.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="a database to create scratch databases from"
    )
    parser.add_argument("--sizes", default="100,1000", help="batch sizes, comma-separated (default 100,1000)")
    parser.add_argument(
        "--readings", type=int, default=20_000, help="readings per batch size (default 20000)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]

    results: list[Result] = []
    if args.backend in ("sqlite", "both"):
        with sqlite_database() as url:
            results += bench_backend("sqlite", url, sizes, args.readings)
    if args.backend in ("postgresql", "both"):
        if postgres_reachable(args.postgres):
            with postgres_database(args.postgres) as url:
                results += bench_backend("postgresql", url, sizes, args.readings)
        else:
            print(f"PostgreSQL at {args.postgres} is not reachable; skipped", file=sys.stderr)
    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
