"""`python -m bench.rss`: the idle resident set size of `myplan serve` (SQLite, the demo database), next to
a bare bolt app's (bench/bare_app.py) in the same run (target: under 80 MB on the machine in docs/).

Each server is started as a fresh process, as bench.ack starts it; its VmRSS is read once it answers (ours:
its health check) and has settled. Several runs; the lowest and highest are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile

import aiohttp

from bench.ack import rss_mb, server
from bench.ingest import free_port
from bot.demo import load_demo
from store import Store
from store.clock import utcnow
from store.migrate import upgrade_url

TARGET_MB = 80
SETTLE_SECONDS = 1.0
OURS = [sys.executable, "-c", "from bot.cli import main; main()", "serve"]
BARE = [sys.executable, "-m", "bench.bare_app"]


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


async def run(runs: int) -> str:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        await demo_database(url)
        env = {
            "DATABASE_URL": url,
            "SLACK_SIGNING_SECRET": "bench-signing-secret",
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",  # idle: nothing calls Slack
            "SLACK_APP_TOKEN": "",
            "LOG_LEVEL": "WARNING",
            "INGEST_TOKEN": "bench-ingest-token-of-32-characters-or-more",
        }
        ours, bare = [], []
        for _ in range(runs):  # alternated, so both see the same machine
            ours.append(await idle_rss(OURS, env, "/healthz"))
            bare.append(await idle_rss(BARE, env, None))
    lines = [
        f"idle RSS, MB, {runs} runs each (min–max); target for myplan serve: under {TARGET_MB} MB",
        f"  myplan serve (SQLite)  {_span(ours)}  {'met' if max(ours) < TARGET_MB else 'NOT met'}",
        f"  bare bolt app          {_span(bare)}",
        f"  difference             {min(ours) - min(bare):.0f} MB",
    ]
    return "\n".join(lines)


def _span(values: list[float]) -> str:
    return f"{min(values):5.1f}–{max(values):5.1f}"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    text = asyncio.run(run(parser.parse_args(argv).runs))
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
