"""`python -m bench.rss`: the idle resident set size of `myplan serve` on the demo database, SQLite and (when
BENCH_POSTGRES_URL or the local server answers, as for bench.ack) PostgreSQL, next to a bare bolt app's
(bench/bare_app.py) and that app with the stack the specification requires of ours (bench/stack_app.py:
SQLAlchemy 2's async ORM, pydantic-settings) in the same run (target: under 80 MB on the machine in
docs/).

Each server is started as a fresh process, as bench.ack starts it; its VmRSS is read once it answers (ours:
its health check, which reads the database) and has settled. Several runs, the servers alternated; the
lowest and highest are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile

import aiohttp

from bench.ack import rss_mb, server
from bench.ingest import DEFAULT_POSTGRES, free_port, postgres_database, postgres_reachable
from bot.demo import load_demo
from store import Store
from store.clock import utcnow
from store.migrate import upgrade_url

TARGET_MB = 80
SETTLE_SECONDS = 1.0
OURS = [sys.executable, "-c", "from bot.cli import main; main()", "serve"]
BARE = [sys.executable, "-m", "bench.bare_app"]
STACK = [sys.executable, "-m", "bench.stack_app"]


async def demo_database(url: str) -> None:
    await upgrade_url(url)
    store = Store.from_url(url)
    try:
        await load_demo(store, now=utcnow())
    finally:
        await store.close()


async def idle_rss(argv: list[str], env: dict[str, str], health: str | None) -> float:
    """The VmRSS, in MB, of the server `argv` once it listens (and `health` answers 200) and has settled."""
    port = free_port()
    async with server(argv, env, port) as pid:
        if health is not None:
            async with aiohttp.ClientSession() as http:
                for _ in range(100):
                    async with http.get(f"http://127.0.0.1:{port}{health}") as response:
                        if response.status == 200:
                            break
                    await asyncio.sleep(0.05)
                else:
                    raise RuntimeError(f"{health} never answered 200")
        await asyncio.sleep(SETTLE_SECONDS)
        return rss_mb(pid)[0]


def server_env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",  # idle: nothing calls Slack
        "SLACK_APP_TOKEN": "",
        "LOG_LEVEL": "WARNING",
        "INGEST_TOKEN": "bench-ingest-token-of-32-characters-or-more",
    }


async def run(runs: int, postgres_url: str | None = None) -> str:
    """SQLite, PostgreSQL when `postgres_url` is given (an empty database, filled here); the bare app and
    the required stack alongside."""
    with tempfile.TemporaryDirectory() as folder:
        databases = {"SQLite": f"sqlite+aiosqlite:///{folder}/bench.db"}
        if postgres_url is not None:
            databases["PostgreSQL"] = postgres_url
        for url in databases.values():
            await demo_database(url)
        ours: dict[str, list[float]] = {name: [] for name in databases}
        stack: dict[str, list[float]] = {name: [] for name in databases}
        bare = []
        for _ in range(runs):  # alternated, so all see the same machine
            for name, url in databases.items():
                ours[name].append(await idle_rss(OURS, server_env(url), "/healthz"))
                stack[name].append(await idle_rss(STACK, server_env(url), "/healthz"))
            bare.append(await idle_rss(BARE, server_env(databases["SQLite"]), None))
    lines = [f"idle RSS, MB, {runs} runs each (min–max); target for myplan serve: under {TARGET_MB} MB"]
    for name, values in ours.items():
        label = f"myplan serve ({name})"
        lines.append(f"  {label:<36}{_span(values)}  {'met' if max(values) < TARGET_MB else 'NOT met'}")
    if postgres_url is None:
        lines.append(f"  {'myplan serve (PostgreSQL)':<36}not measured: PostgreSQL did not answer")
    for name, values in stack.items():
        lines.append(f"  {f'bolt + required stack ({name})':<36}{_span(values)}")
    lines.append(f"  {'bare bolt app':<36}{_span(bare)}")
    differences = ", ".join(f"{min(values) - min(bare):.0f} MB ({name})" for name, values in ours.items())
    lines.append(f"  {'difference from the bare app':<37}{differences}")
    ours_over_stack = ", ".join(
        f"{min(ours[name]) - min(values):.0f} MB ({name})" for name, values in stack.items()
    )
    lines.append(f"  {'ours over the required stack':<37}{ours_over_stack}")
    return "\n".join(lines)


def _span(values: list[float]) -> str:
    return f"{min(values):5.1f}–{max(values):5.1f}"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args(argv).runs
    if postgres_reachable(DEFAULT_POSTGRES):
        with postgres_database(DEFAULT_POSTGRES) as postgres_url:
            text = asyncio.run(run(runs, postgres_url))
    else:
        text = asyncio.run(run(runs))
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
