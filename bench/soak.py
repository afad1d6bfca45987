"""Fault soak of quota-alert delivery: every alert in its channel exactly once, through 429s, 5xx,
timeouts, dropped connections, "stored, then 5xx" and a worker killed mid-run.

    python -m bench.soak                               # 200 alerts, seed 1
    python -m bench.soak --alerts 60 --seed 7
    BENCH_POSTGRES_URL=postgresql://user@host/postgres python -m bench.soak

It creates a throwaway PostgreSQL database (dropped afterwards), migrates it with the real `myplan` CLI,
and sets up ceil(N / 3) accounts, each installed in its own workspace (OAuth: a bot token per workspace)
with its own alerts channel and one threshold, 80%, on its three allowances (licences and features off):
each allowance that crosses it makes one alert, N in all. Then, on loopback only:

* the fake Slack runs in this process and fails calls at random, from `--seed`: chat.postMessage answers
  429, 500 or 503, times out or drops the connection, some of these after storing the message;
  conversations.history answers 429 or 500, is rate-limited per workspace (`--history-every`) and
  returns Slack's 15-message page;
* `myplan serve` (the web process, with the outbox's default tuning) and two workers (`run_worker` with
  `WORKER_TUNING`: leases, waits and the history budget in seconds rather than minutes) share the database;
* half the accounts' usage is posted to the web's ingest API, which evaluates and posts at once; the
  other half is written to the database for the workers' sweep to find. Once a third of the posts have
  been tried, one worker is killed with SIGKILL.

When every alert is recorded sent (or `--deadline` has passed) it waits `GRACE_S` more for stragglers, stops
everything and counts the alert messages in the fake's channels by the alert id in their metadata:

    posted 200 / expected 200 / doubled 0 / lost 0

and exits non-zero unless that reads N / N / 0 / 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO

import aiohttp
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy import func, select

from bench.ingest import (
    CLI,
    add_postgres_url,
    free_port,
    postgres_database,
    postgres_reachable,
    wait_until_healthy,
)
from bot.demo import demo_document
from bot.devtools.fake_slack import DROP, TIMEOUT, FakeSlack, Fault
from bot.devtools.signing import APP_ID, BOT_ID, BOT_USER_ID
from bot.settings import load_settings
from handlers.alerts.delivery import ALERT_EVENT, AlertTuning
from handlers.alerts.service import AlertService
from handlers.slack_clients import BOT_SCOPES, single_client
from store import Store
from store.domain.alerts import AlertRules, AlertStatus
from store.domain.plan import STAFF_LICENCES, FeatureKey, Meter, feature_meter
from store.tables import AlertRow
from store.usage import Reading

TOKEN = "soak-ingest-token"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "soak-client-secret"
ALERTS_PER_ACCOUNT = len(Meter)
HISTORY_EVERY_S = 1.0
GRACE_S = 3.0
KILL_AFTER = 1 / 3
"""The share of the expected posts tried before a worker is killed."""

WORKER_TUNING = AlertTuning(
    lease=timedelta(seconds=20),
    channel_interval=0.2,
    post_timeout=2.0,
    retry_base=timedelta(seconds=0.5),
    retry_cap=timedelta(seconds=5),
    unconfirmed_delay=timedelta(seconds=3),
    history_interval=timedelta(seconds=HISTORY_EVERY_S),
)
"""The workers' outbox, in seconds rather than minutes (the web process keeps the defaults)."""
WORKER_EVERY_S = (0.5, 0.2)
"""(evaluate every, deliver every) for the workers."""

POST_FAULTS = {
    Fault(429, retry_after=1): 0.05,
    Fault(500): 0.03,
    Fault(503): 0.02,
    Fault(500, stored=True): 0.06,
    Fault(503, stored=True): 0.02,
    Fault(TIMEOUT): 0.02,
    Fault(TIMEOUT, stored=True): 0.02,
    Fault(DROP): 0.02,
    Fault(DROP, stored=True): 0.03,
}
"""Chances per chat.postMessage call (27% in all), scaled by --fault-rate."""
HISTORY_FAULTS = {Fault(429, retry_after=2): 0.10, Fault(500): 0.05}

log = logging.getLogger("bench.soak")


@dataclass
class Report:
    expected: int
    counts: Counter[int]
    recorded: dict[str, int]
    seconds: float
    killed_after_posts: int | None
    calls: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def posted(self) -> int:
        return len(self.counts)

    @property
    def doubled(self) -> int:
        return sum(1 for count in self.counts.values() if count > 1)

    @property
    def lost(self) -> int:
        return self.expected - self.posted

    @property
    def ok(self) -> bool:
        return (self.posted, self.doubled, self.lost) == (self.expected, 0, 0) and self.recorded == {
            AlertStatus.SENT.value: self.expected
        }

    def lines(self) -> list[str]:
        extra = sum(count - 1 for count in self.counts.values())
        recorded = ", ".join(f"{status} {n}" for status, n in sorted(self.recorded.items()))
        lines = [
            f"posted {self.posted} / expected {self.expected} / doubled {self.doubled} / lost {self.lost}"
            + (f" ({extra} extra messages)" if extra else ""),
            f"recorded in the outbox: {recorded}",
            f"{self.seconds:.0f} s from the first ingest to the last post recorded; a worker SIGKILLed "
            + (
                f"after {self.killed_after_posts} post attempts"
                if self.killed_after_posts is not None
                else "never (no kill)"
            ),
        ]
        for method, statuses in self.calls.items():
            shown = ", ".join(f"{label} {n}" for label, n in statuses.most_common())
            lines.append(f"{method}: {sum(statuses.values())} calls ({shown})")
        return lines


# --------------------------------------------------------------------------------------------------
# Setting up
# --------------------------------------------------------------------------------------------------


def quiet_overrides() -> dict[str, tuple[int, ...]]:
    """Alerts on the allowances only: staff licences and features off."""
    return {STAFF_LICENCES: (), **{feature_meter(key): () for key in FeatureKey}}


def crossing(available: Decimal) -> Decimal:
    """85% of the allowance: past the 80% threshold, short of any other."""
    return (available * Decimal("0.85")).quantize(Decimal("0.1"))


async def set_up(url: str, accounts: int, now: datetime) -> None:
    store = Store.from_url(url)
    installations = AsyncSQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=store.db.engine)
    try:
        for n in range(accounts):
            account, team = f"soak{n:04d}", f"T0SOAK{n:04d}"
            await store.accounts.upsert(account, demo_document(now), now=now)
            await store.workspaces.link(team, account)
            await store.alerts.save_rules(
                account,
                AlertRules(
                    channel=f"C0SOAK{n:04d}",
                    channel_team_id=team,
                    thresholds=(80,),
                    overrides=quiet_overrides(),
                ),
                by="bench",
                now=now,
            )
            await installations.async_save(
                Installation(
                    app_id=APP_ID,
                    team_id=team,
                    team_name=f"Soak {n}",
                    bot_token=f"xoxb-soak-{team}",
                    bot_id=BOT_ID,
                    bot_user_id=BOT_USER_ID,
                    bot_scopes=list(BOT_SCOPES),
                    user_id="U0INSTALLER",
                    installed_at=time.time(),
                )
            )
        dry = AlertService(store, single_client(None), clock=lambda: now)
        assert await dry.evaluate(dry_run=True) == [], "nothing is due before the readings"
    finally:
        await store.close()


def readings_for(n: int, total: int, now: datetime) -> list[dict[str, str]]:
    """The readings that make account `n` cross 80% on its allowances (the last account may cross fewer,
    so that `total` alerts are made in all)."""
    doc = demo_document(now)
    meters = list(Meter)[: min(ALERTS_PER_ACCOUNT, total - n * ALERTS_PER_ACCOUNT)]
    at = (now + timedelta(seconds=1)).isoformat()
    return [
        {"meter": meter.value, "used": str(crossing(doc.allowances[meter].available)), "at": at}
        for meter in meters
    ]


# --------------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: IO[bytes]

    def tail(self, chars: int = 1500) -> str:
        self.log.flush()
        with open(self.log.name, "rb") as read:
            return read.read().decode(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(name: str, command: list[str], env: dict[str, str], folder: Path) -> Process:
    log_file = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the folder
    popen = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    return Process(name, popen, log_file)


def environment(url: str, port: int, api_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_"))}
    env |= {
        "DATABASE_URL": url,
        "INGEST_TOKEN": TOKEN,
        "PORT": str(port),
        "SLACK_SIGNING_SECRET": "soak",
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_API_URL": api_url,
        "LOG_LEVEL": "WARNING",
    }
    return env


def worker_main() -> None:
    """`python -m bench.soak --worker`: `myplan worker` with the soak's short tunings."""
    from bot.worker import run_worker

    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    evaluate_every, deliver_every = WORKER_EVERY_S
    asyncio.run(
        run_worker(settings, evaluate_every=evaluate_every, deliver_every=deliver_every, tuning=WORKER_TUNING)
    )


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------


async def ingest(base: str, url: str, total: int, accounts: int, now: datetime) -> None:
    """Even accounts through the web's ingest API (evaluated and posted at once), odd ones straight into
    the database (found by the workers' sweep)."""
    store = Store.from_url(url)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as http:

            async def one(n: int) -> None:
                readings = readings_for(n, total, now)
                if n % 2:
                    await store.usage.record(
                        f"soak{n:04d}",
                        [
                            Reading(
                                meter=r["meter"], used=Decimal(r["used"]), at=datetime.fromisoformat(r["at"])
                            )
                            for r in readings
                        ],
                    )
                    return
                async with http.post(
                    f"{base}/api/v1/accounts/soak{n:04d}/usage", json={"readings": readings}
                ) as answer:
                    if answer.status != 200:
                        raise RuntimeError(
                            f"ingest for soak{n:04d}: HTTP {answer.status}: {await answer.text()}"
                        )

            for first in range(0, accounts, 10):
                await asyncio.gather(*(one(n) for n in range(first, min(first + 10, accounts))))
    finally:
        await store.close()


async def recorded(store: Store) -> dict[str, int]:
    """How many alerts the outbox holds, by status."""
    async with store.db.session() as session:
        rows = await session.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status))
        return {str(status): int(count) for status, count in rows}


def alert_messages(fake: FakeSlack) -> Counter[int]:
    return Counter(
        int(message["metadata"]["event_payload"]["alert_id"])
        for messages in fake.messages.values()
        for message in messages
        if (message.get("metadata") or {}).get("event_type") == ALERT_EVENT
    )


def call_summary(fake: FakeSlack, method: str) -> Counter[str]:
    labels: Counter[str] = Counter()
    for call in fake.calls_to(method):
        if call.ok:
            labels["ok"] += 1
        else:
            status = {0: "no answer"}.get(call.status, str(call.status))
            labels[f"{status}{', stored' if call.stored else ''}"] += 1
    return labels


async def soak(url: str, args: argparse.Namespace, folder: Path) -> Report:
    total = args.alerts
    accounts = math.ceil(total / ALERTS_PER_ACCOUNT)
    now = datetime.now(UTC)
    env_base = {
        key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_"))
    }
    subprocess.run(
        [*CLI, "db", "upgrade"], env=env_base | {"DATABASE_URL": url}, check=True, capture_output=True
    )
    await set_up(url, accounts, now)

    fake = FakeSlack(check_block_kit=False)
    fake.history_page = 15
    fake.limit_rate("conversations.history", every=HISTORY_EVERY_S)
    scale = args.fault_rate
    fake.fail_at_random("chat.postMessage", {f: p * scale for f, p in POST_FAULTS.items()}, seed=args.seed)
    fake.fail_at_random(
        "conversations.history", {f: p * scale for f, p in HISTORY_FAULTS.items()}, seed=args.seed + 1
    )
    await fake.start()
    port = free_port()
    env = environment(url, port, fake.api_url)
    processes = [
        start("web", [*CLI, "serve"], env, folder),
        start("worker-1", [sys.executable, "-m", "bench.soak", "--worker"], env, folder),
        start("worker-2", [sys.executable, "-m", "bench.soak", "--worker"], env, folder),
    ]
    store = Store.from_url(url)
    killed_after: int | None = None
    try:
        web = processes[0]
        await asyncio.to_thread(wait_until_healthy, f"http://127.0.0.1:{port}", web.popen)
        started = time.monotonic()

        async def kill_one_worker() -> None:
            nonlocal killed_after
            await fake.wait_for(
                "chat.postMessage", count=math.ceil(total * KILL_AFTER), timeout=args.deadline
            )
            processes[1].popen.send_signal(signal.SIGKILL)
            killed_after = len(fake.calls_to("chat.postMessage"))

        killer = asyncio.create_task(kill_one_worker()) if args.kill else None
        await ingest(f"http://127.0.0.1:{port}", url, total, accounts, now)
        deadline = started + args.deadline
        done_at = None
        while time.monotonic() < deadline:
            for process in processes[2:] + processes[:1]:
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
            if (await recorded(store)).get(AlertStatus.SENT.value, 0) >= total:
                done_at = time.monotonic()
                break
            await asyncio.sleep(0.5)
        seconds = (done_at or time.monotonic()) - started
        await asyncio.sleep(GRACE_S)  # anything still on its way would double now
        if killer is not None:
            killer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await killer
        statuses = await recorded(store)
    finally:
        for process in processes:
            await asyncio.to_thread(process.stop)
            process.log.close()
        await store.close()
        await fake.stop()
    return Report(
        expected=total,
        counts=alert_messages(fake),
        recorded=statuses,
        seconds=seconds,
        killed_after_posts=killed_after,
        calls={
            method: call_summary(fake, method) for method in ("chat.postMessage", "conversations.history")
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=200, help="alerts due in all (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fake Slack's faults (default 1)")
    parser.add_argument(
        "--fault-rate", type=float, default=1.0, help="scales every fault's chance (default 1: 27%% of posts)"
    )
    parser.add_argument("--no-kill", dest="kill", action="store_false", help="kill no worker")
    parser.add_argument(
        "--deadline", type=float, default=170.0, help="seconds before giving up (default 170)"
    )
    add_postgres_url(parser, "admin URL of a PostgreSQL where a throwaway database may be created")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main()
        return 0
    if args.alerts < 1 or not 0 <= args.fault_rate <= 3:
        parser.error("--alerts must be at least 1 and --fault-rate from 0 to 3")
    if not postgres_reachable(args.postgres_url):
        print(f"skipped: no PostgreSQL at {args.postgres_url} (the soak runs several processes on one)")
        return 0
    with (
        tempfile.TemporaryDirectory(prefix="myplan-soak-") as folder,
        postgres_database(args.postgres_url) as url,
    ):
        report = asyncio.run(soak(url, args, Path(folder)))
        print("\n".join(report.lines()), flush=True)
        if not report.ok:
            for name in ("web", "worker-1", "worker-2"):
                print(f"\n-- {name} log (tail)\n{(Path(folder) / f'{name}.log').read_text()[-3000:]}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
