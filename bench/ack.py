"""Ack latency, throughput and ack→reply time of the real server, next to a bare bolt app.

Both run as separate processes behind the same fake Slack on loopback and get the same signed
requests at concurrency 1, 8 and 32. Run: `python -m bench.ack` (or `python -m bench` for all).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.ingest import DEFAULT_POSTGRES, free_port, postgres_database, postgres_reachable
from bot.demo import DEMO_ACCOUNT, load_demo
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import (
    block_actions_payload,
    event_body,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)
from handlers.upgrade.form import UpgradeModalMetadata
from handlers.upgrade.ids import Action as UpgradeAction
from handlers.upgrade.ids import Block as UpgradeBlock
from handlers.upgrade.ids import Callback as UpgradeCallback
from store import Store
from store.clock import utcnow
from store.migrate import upgrade_url
from store.tables import AdministratorRow

SECRET = "bench-signing-secret"
TEAM = "T0DEMO"
CONCURRENCY = (1, 8, 32)
REQUESTS = {1: 100, 8: 640, 32: 1280}  # enough that a p99 is not one stray request
WARMUP = 20
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Request:
    body: str
    content_type: str
    reply_key: str  # how the reply is recognised at the fake Slack


@dataclass(frozen=True)
class Scenario:
    name: str
    make: Callable[[int, FakeSlack], Request]


def _plan(i: int, fake: FakeSlack) -> Request:
    url = fake.new_response_url()
    return Request(
        slash_command_body("/plan", "", team_id=TEAM, user_id=f"UB{i}", response_url=url), FORM, url
    )


def _home_opened(i: int, fake: FakeSlack) -> Request:
    event = {"type": "app_home_opened", "user": f"UH{i}", "channel": "D0B", "tab": "home", "event_ts": "1.1"}
    return Request(event_body(event, team_id=TEAM), "application/json", f"UH{i}")


def _tab_click(i: int, fake: FakeSlack) -> Request:
    payload = block_actions_payload(
        team_id=TEAM, user_id=f"UA{i}", action_id="home.tab.plan", value="plan", view={"type": "home"}
    )
    return Request(interactive_body(payload), FORM, f"UA{i}")


def _rates(i: int, fake: FakeSlack) -> Request:
    url = fake.new_response_url()
    body = slash_command_body("/rates", "+44 20 7946 0018", team_id=TEAM, user_id=f"UR{i}", response_url=url)
    return Request(body, FORM, url)


def _upgrade_submission(i: int, fake: FakeSlack) -> Request:
    """An administrator submits the upgrade modal; the reply is the confirmation DM to them."""
    user = f"{SUBMITTER}{i}"
    kind = {"type": "static_select", "selected_option": {"value": "voice_minutes"}}
    payload = view_submission_payload(
        team_id=TEAM,
        user_id=user,
        callback_id=UpgradeCallback.UPGRADE,
        state_values={
            UpgradeBlock.UPGRADE_KIND: {UpgradeAction.UPGRADE_KIND: kind},
            UpgradeBlock.UPGRADE_QUANTITY: {UpgradeAction.UPGRADE_QUANTITY: "500"},
            UpgradeBlock.UPGRADE_NOTE: {UpgradeAction.UPGRADE_NOTE: f"benchmark request {i}"},
        },
        private_metadata=UpgradeModalMetadata(account_id=DEMO_ACCOUNT).encode(),
    )
    return Request(interactive_body(payload), FORM, user)


SUBMITTER = "UV"
SCENARIOS: list[Scenario] = [
    Scenario("/plan", _plan),
    Scenario("/rates <phone number>", _rates),
    Scenario("block action (Home tab)", _tab_click),
    Scenario("view submission (upgrade)", _upgrade_submission),
    Scenario("app_home_opened", _home_opened),
]


def reply_key(call: RecordedCall) -> str | None:
    if call.method == "response_url":
        return call.url
    if call.method == "views.publish":
        return str(call.params.get("user_id"))
    if call.method == "chat.postMessage":
        return str(call.params.get("channel"))
    return None


@dataclass
class Figures:
    acks_ms: list[float] = field(default_factory=list)
    replies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    lost: int = 0  # replies that never reached Slack (an error was shown instead, say)

    def row(self) -> dict[str, float]:
        q = statistics.quantiles(self.acks_ms, n=100, method="inclusive")
        r = (
            statistics.quantiles(self.replies_ms, n=100, method="inclusive")
            if len(self.replies_ms) > 1
            else [0] * 99
        )
        return {
            "p50": q[49],
            "p95": q[94],
            "p99": q[98],
            "rps": len(self.acks_ms) / self.wall_s,
            "reply_p50": r[49],
            "reply_p99": r[98],
            "lost": self.lost,
        }


class Arrivals:
    """Reply arrival times at the fake Slack, by reply key."""

    def __init__(self, fake: FakeSlack) -> None:
        self.times: dict[str, float] = {}
        self._waiting: dict[str, asyncio.Future[float]] = {}
        fake.add_listener(self._seen)

    def _seen(self, call: RecordedCall) -> None:
        key = reply_key(call)
        if key is not None:
            self.times[key] = call.at
            future = self._waiting.pop(key, None)
            if future is not None and not future.done():
                future.set_result(call.at)

    async def wait(self, key: str, timeout: float = 20) -> float:
        if key in self.times:
            return self.times[key]
        future = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"no reply for {key}") from None


async def drive(
    http: aiohttp.ClientSession,
    url: str,
    scenario: Scenario,
    fake: FakeSlack,
    arrivals: Arrivals,
    concurrency: int,
    count: int,
    start: int,
) -> Figures:
    figures = Figures()
    queue = iter(range(start, start + count))

    async def worker() -> None:
        for i in queue:
            request = scenario.make(i, fake)
            headers = signed_headers(SECRET, request.body, content_type=request.content_type)
            sent = time.perf_counter()
            async with http.post(url, data=request.body.encode(), headers=headers) as response:
                await response.read()
                assert response.status == 200, (scenario.name, response.status)
            figures.acks_ms.append((time.perf_counter() - sent) * 1000)
            acked_at = time.time()
            try:
                arrived = await arrivals.wait(request.reply_key)
            except TimeoutError:
                figures.lost += 1
                continue
            figures.replies_ms.append(max(0.0, (arrived - acked_at) * 1000))

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    figures.wall_s = time.perf_counter() - began
    return figures


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextlib.asynccontextmanager
async def server(argv: list[str], env: dict[str, str], port: int) -> AsyncIterator[int]:
    # No SLACK_* variable of ours leaks in: bolt turns OAuth on when SLACK_CLIENT_ID merely exists.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    process = await asyncio.create_subprocess_exec(
        *argv, env={**inherited, **env, "PORT": str(port)}, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.05)
        yield process.pid
    finally:
        process.terminate()
        await process.wait()


async def prepare_database(url: str) -> None:
    """The sample account, with enough administrators for every upgrade submission to come from a new one
    (a double submit by one person within a minute is one request, and would not be posted again)."""
    await upgrade_url(url)
    store = Store.from_url(url)
    try:
        await load_demo(store, now=utcnow())
        submissions = WARMUP + sum(REQUESTS.values())
        async with store.db.session() as session:
            session.add_all(
                AdministratorRow(account_id=DEMO_ACCOUNT, user_id=f"{SUBMITTER}{i}", added_at=utcnow())
                for i in range(submissions * len(SCENARIOS))
            )
    finally:
        await store.close()


async def measure(name: str, argv: list[str], env: dict[str, str], fake: FakeSlack) -> dict[str, Any]:
    port = free_port()
    arrivals = Arrivals(fake)
    results: dict[str, Any] = {"app": name, "scenarios": {}}
    async with (
        server(argv, env, port) as pid,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http,
    ):
        url = f"http://127.0.0.1:{port}/slack/events"
        results["rss_idle_mb"] = rss_mb(pid)[0]
        counter = 0
        for scenario in SCENARIOS:
            await drive(http, url, scenario, fake, arrivals, 4, WARMUP, counter)
            counter += WARMUP
            for concurrency in CONCURRENCY:
                figures = await drive(
                    http, url, scenario, fake, arrivals, concurrency, REQUESTS[concurrency], counter
                )
                counter += REQUESTS[concurrency]
                results["scenarios"][f"{scenario.name} @{concurrency}"] = figures.row()
        results["rss_peak_mb"] = rss_mb(pid)[1]
    return results


def report(ours: dict[str, Any], bare: dict[str, Any], database: str) -> str:
    lines = [
        f"Ack latency and throughput — ours ({database}) vs bare bolt; ms, requests/s",
        f"{'scenario':34} {'p50':>6} {'p95':>6} {'p99':>6} {'rps':>6} │ {'bare p99':>8} {'bare rps':>8} │ "
        f"{'p99 ratio':>9} │ {'ack→reply p50/p99':>17}",
    ]
    for key, row in ours["scenarios"].items():
        b = bare["scenarios"][key]
        lines.append(
            f"{key:34} {row['p50']:6.1f} {row['p95']:6.1f} {row['p99']:6.1f} {row['rps']:6.0f} │ "
            f"{b['p99']:8.1f} {b['rps']:8.0f} │ {row['p99'] / b['p99']:9.2f} │ "
            f"{row['reply_p50']:8.1f}/{row['reply_p99']:.1f}"
            + (f"  ({row['lost']:.0f} replies lost)" if row["lost"] else "")
        )
    lines.append(
        f"RSS MB: ours idle {ours['rss_idle_mb']:.0f}, peak {ours['rss_peak_mb']:.0f}; "
        f"bare idle {bare['rss_idle_mb']:.0f}, peak {bare['rss_peak_mb']:.0f}"
    )
    return "\n".join(lines)


async def run(database_url: str | None = None, label: str = "SQLite") -> str:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        await prepare_database(url)
        # Block Kit is checked by the tests; here checking it would load the measuring process more for
        # our larger payloads than for the bare app's.
        async with FakeSlack(check_block_kit=False) as fake:
            env = {
                "DATABASE_URL": url,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_API_URL": fake.api_url,
                "LOG_LEVEL": "WARNING",
                "SLACK_APP_TOKEN": "",
                "SALES_CHANNEL": "C0SALES",
            }
            ours = await measure(
                "ours", [sys.executable, "-c", "from bot.cli import main; main()", "serve"], env, fake
            )
            bare = await measure("bare", [sys.executable, "-m", "bench.bare_app"], env, fake)
    return report(ours, bare, label)


def main() -> None:
    """SQLite always; PostgreSQL too when BENCH_POSTGRES_URL (or the local default) answers."""
    print(asyncio.run(run()), flush=True)
    if postgres_reachable(DEFAULT_POSTGRES):
        with postgres_database(DEFAULT_POSTGRES) as url:
            print("\n" + asyncio.run(run(url, "PostgreSQL")), flush=True)


if __name__ == "__main__":
    main()
