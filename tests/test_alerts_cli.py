"""`myplan worker` and `myplan alerts run [--dry-run]`, run as real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo import load_demo
from bot.devtools.fake_slack import FakeSlack
from store import Store
from store.clock import utcnow
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


@pytest.mark.parametrize("args", [("worker",), ("alerts",), ("alerts", "run")])
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
async def test_the_worker_posts_alerts_and_stops_on_sigterm(
    store: Store, database_url: str, fake_slack: FakeSlack
) -> None:
    await use_alerts_channel(store)
    env = environment(
        database_url, SLACK_BOT_TOKEN="xoxb-worker", SLACK_API_URL=fake_slack.api_url, LOG_LEVEL="WARNING"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "worker",
        "--evaluate-every",
        "0.5",
        "--deliver-every",
        "0.2",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        call = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.ok, timeout=60)
        assert call.params["channel"] == ALERTS_CHANNEL
        assert call.token == "xoxb-worker"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
