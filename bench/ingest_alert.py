"""Ingest to alert, end to end: the time from a usage POST that crosses a threshold to the alert's
`chat.postMessage` arriving at the fake Slack, through the real server (`myplan serve`).

Run: `python -m bench.ingest_alert` (SQLite; PostgreSQL too when reachable). Target: under 2 s.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp

from bench.ingest import (
    CLI,
    DEFAULT_POSTGRES,
    TOKEN,
    free_port,
    postgres_database,
    postgres_reachable,
    sqlite_database,
    wait_until_healthy,
)
from bot.demo import DEMO_ACCOUNT
from bot.devtools.fake_slack import FakeSlack
from store import Store
from store.clock import utcnow
from store.domain.alerts import AlertRules

ALERTS_CHANNEL = "C0ALERTS"
CHANNEL_PACE_S = 1.1
# Each meter crosses 80%, 90% and 100% of the sample account's allowance: nine alerts.
CROSSINGS = [
    (meter, available * Decimal(percent) / 100)
    for meter, available in (("voice_minutes", 5000), ("video_minutes", 2000), ("storage_gb", 100))
    for percent in (80, 90, 100)
]


async def set_alerts_channel(url: str) -> None:
    store = Store.from_url(url)
    try:
        await store.alerts.save_rules(
            DEMO_ACCOUNT, AlertRules(channel=ALERTS_CHANNEL), by="bench", now=utcnow()
        )
    finally:
        await store.close()


async def measure(base: str, fake: FakeSlack) -> list[float]:
    latencies = []
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        for count, (meter, used) in enumerate(CROSSINGS, start=1):
            # Alerts to one channel are paced to about one a second (Slack's limit): wait that out, so
            # each figure is the latency of one crossing, not of the queue.
            await asyncio.sleep(CHANNEL_PACE_S)
            at = (datetime.now(UTC) + timedelta(seconds=count)).isoformat()
            body = {"readings": [{"meter": meter, "used": str(used), "at": at}]}
            started = time.perf_counter()
            async with http.post(
                f"{base}/api/v1/accounts/{DEMO_ACCOUNT}/usage", json=body, headers=headers
            ) as r:
                assert r.status == 200, await r.text()
            await fake.wait_for(
                "chat.postMessage",
                where=lambda c: c.ok and c.params.get("channel") == ALERTS_CHANNEL,
                count=count,
            )
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def run(url: str, label: str) -> str:
    async with FakeSlack() as fake:
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_"))}
        env |= {
            "DATABASE_URL": url,
            "INGEST_TOKEN": TOKEN,
            "PORT": str(port),
            "SLACK_SIGNING_SECRET": "bench",
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.api_url,
            "LOG_LEVEL": "WARNING",
        }
        for step in (["db", "upgrade"], ["demo"]):
            subprocess.run([*CLI, *step], env=env, check=True, capture_output=True)
        await set_alerts_channel(url)
        server = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            await asyncio.to_thread(wait_until_healthy, base, server)
            latencies = await measure(base, fake)
        finally:
            server.terminate()
            server.wait(timeout=15)
    return (
        f"{label}: ingest → alert posted, {len(latencies)} threshold crossings: "
        f"median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms (target < 2,000 ms)"
    )


def main() -> None:
    with sqlite_database() as url:
        print(asyncio.run(run(url, "SQLite")), flush=True)
    if postgres_reachable(DEFAULT_POSTGRES):
        with postgres_database(DEFAULT_POSTGRES) as url:
            print(asyncio.run(run(url, "PostgreSQL")), flush=True)


if __name__ == "__main__":
    main()
