"""`myplan worker` and `myplan alerts run [--dry-run]`, run as real processes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from bot.alerts.forecast import MIN_READINGS, forecast_alert
from bot.demo import demo_document, demo_readings, load_demo
from bot.devtools.fake_slack import FakeSlack
from store import Store
from store.clock import utcnow
from store.domain.alerts import DEFAULT_THRESHOLDS, Forecast, ForecastCandidate
from store.tables import SubscriptionRow
from store.usage import Reading
from tests.support.alerting import ALERTS_CHANNEL, use_alerts_channel

ROOT = Path(__file__).parents[1]


def environment(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **extra}


def myplan(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("args", [("worker",), ("alerts",), ("alerts", "run"), ("alerts", "status")])
def test_every_alert_command_has_help(args: tuple[str, ...], database_url: str) -> None:
    result = myplan(*args, "--help", env=environment(database_url))
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


@pytest.fixture
async def live_demo(store: Store) -> Store:
    """The sample account as of the real now: the CLI runs on the real clock."""
    await load_demo(store, now=utcnow())
    return store


@pytest.mark.usefixtures("live_demo")
async def test_dry_run_prints_what_would_be_sent_and_changes_nothing(store: Store, database_url: str) -> None:
    await use_alerts_channel(store)
    env = environment(database_url, SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="")
    first = await asyncio.to_thread(myplan, "alerts", "run", "--dry-run", env=env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert (
        f"would post to #{ALERTS_CHANNEL} for demo: Staff licences: 80% assigned — 42 of 50 licences" in lines
    )
    assert any("Voice call minutes will run out before renewal" in line for line in lines)
    assert await store.alerts.all_of("demo") == []
    again = await asyncio.to_thread(myplan, "alerts", "run", "--dry-run", env=env)
    assert again.stdout == first.stdout


def test_sending_needs_the_bot_token(database_url: str) -> None:
    result = myplan("alerts", "run", env=environment(database_url, SLACK_BOT_TOKEN=""))
    assert result.returncode != 0
    assert "SLACK_BOT_TOKEN is not set" in result.stderr


@pytest.mark.usefixtures("live_demo")
async def test_the_worker_posts_alerts_serves_its_metrics_and_stops_on_sigterm(
    store: Store, database_url: str, fake_slack: FakeSlack
) -> None:
    await use_alerts_channel(store)
    port = free_port()
    env = environment(
        database_url, SLACK_BOT_TOKEN="xoxb-worker", SLACK_API_URL=fake_slack.api_url, LOG_LEVEL="WARNING"
    )
    process = await start_worker(env, "--deliver-every", "0.2", "--metrics-port", str(port))
    try:
        call = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.ok, timeout=60)
        assert call.params["channel"] == ALERTS_CHANNEL
        assert call.token == "xoxb-worker"
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as answer:
            text = await answer.text()
        claimed = re.search(r'^myplan_alerts_total\{event="claimed"\} (\S+)$', text, re.MULTILINE)
        assert claimed is not None, "the worker's own counters"
        assert float(claimed.group(1)) >= 1
        last_pass = re.search(r"^myplan_worker_last_pass_timestamp_seconds (\S+)$", text, re.MULTILINE)
        assert last_pass is not None
        assert float(last_pass.group(1)) > 0
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()


async def start_worker(env: dict[str, str], *options: str) -> asyncio.subprocess.Process:
    """`myplan worker` evaluating every half second, in a process of its own."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "worker",
        "--evaluate-every",
        "0.5",
        *options,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def add_account_out_of_bounds(store: Store, account_id: str = "acme") -> None:
    """An account as the ingest API used to accept it: a reading and a billing period dated 0001-01-01
    (PostgreSQL keeps them as -infinity), which made every sweep fail."""
    now = utcnow()
    doc = demo_document(now)
    await store.accounts.upsert(account_id, doc, now=now)
    unset = datetime(1, 1, 1, tzinfo=UTC)
    await store.usage.record(
        account_id, [*demo_readings(doc), Reading(meter="voice_minutes", used=Decimal(1), at=unset)], now=now
    )
    async with store.db.session() as session:
        subscription = await session.get(SubscriptionRow, account_id)
        assert subscription is not None
        subscription.period_start = unset.date()


@pytest.mark.usefixtures("live_demo")
async def test_one_account_out_of_bounds_does_not_stop_alerts_run(store: Store, database_url: str) -> None:
    await use_alerts_channel(store)
    await add_account_out_of_bounds(store)
    env = environment(database_url, SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="")
    result = await asyncio.to_thread(myplan, "alerts", "run", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert any(
        line.startswith(f"would post to #{ALERTS_CHANNEL} for demo:") for line in result.stdout.splitlines()
    )
    assert "for acme" not in result.stdout


@pytest.mark.usefixtures("live_demo")
async def test_alerts_status_lists_the_failing_accounts_and_exits_1(store: Store, database_url: str) -> None:
    env = environment(database_url)
    fine = await asyncio.to_thread(myplan, "alerts", "status", env=env)
    assert (fine.returncode, fine.stdout) == (0, "every account's alerts are being evaluated\n")

    await add_account_out_of_bounds(store)
    now = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

    def broken_for_demo(candidate: ForecastCandidate) -> Forecast | None:
        if candidate.account_id == "demo":
            raise RuntimeError("forecast broke")
        return forecast_alert(candidate)

    await store.alerts.sweep(now, broken_for_demo, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS)

    failing = await asyncio.to_thread(myplan, "alerts", "status", env=env)
    assert failing.returncode == 1
    assert failing.stdout.splitlines() == [
        "2 account(s) skipped by alert evaluation:",
        "  acme: failed 1 time(s) in a row since 2026-11-20 09:30:00 UTC, last at 2026-11-20 09:30:00 UTC: "
        "OutOfBoundsData: its billing period starts on 0001-01-01, out of bounds; next try at 2026-11-20 09:31:00 UTC",
        "  demo: failed 1 time(s) in a row since 2026-11-20 09:30:00 UTC, last at 2026-11-20 09:30:00 UTC: "
        "RuntimeError: forecast broke; next try at 2026-11-20 09:31:00 UTC",
    ]
