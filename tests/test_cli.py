"""The operator's CLI, run as a real subprocess against a real database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store import Store

pytestmark = pytest.mark.usefixtures("backend")


def myplan(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(database_url: str, tmp_path: Path, store: Store) -> dict[str, str]:
    """`store` empties the database first (PostgreSQL's is shared by the session's tests)."""
    return {"DATABASE_URL": database_url, "PYTHONPATH": str(Path(__file__).parents[1])}


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("serve",),
        ("db", "upgrade"),
        ("demo",),
        ("link",),
        ("admins", "add"),
        ("admins", "remove"),
        ("admins", "list"),
        ("try",),
    ],
)
def test_every_command_has_help(args: tuple[str, ...], env: dict[str, str]) -> None:
    result = myplan(*args, "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_a_malformed_setting_stops_with_one_clear_line(env: dict[str, str]) -> None:
    result = myplan("db", "upgrade", env={**env, "PORT": "eighty"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "myplan: configuration error: PORT: Input should be a valid integer, unable to parse string as an integer"
    ]


def test_serve_without_slack_credentials_names_the_variable(env: dict[str, str]) -> None:
    result = myplan("serve", env={**env, "SLACK_SIGNING_SECRET": "", "SLACK_BOT_TOKEN": ""})
    assert result.returncode != 0
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_demo_link_admins_and_try(env: dict[str, str]) -> None:
    assert myplan("db", "upgrade", env=env).returncode == 0
    first = myplan("demo", "--team", "T0ACME", "--admin", "U0BOSS", env=env)
    assert first.returncode == 0, first.stderr
    assert "linked to workspace T0ACME" in first.stdout
    assert myplan("demo", "--team", "T0ACME", "--admin", "U0BOSS", env=env).returncode == 0

    listed = myplan("admins", "list", "demo", env=env)
    assert listed.stdout.split() == ["U0BOSS"]
    assert "now an administrator" in myplan("admins", "add", "demo", "U0SECOND", env=env).stdout
    assert "already" in myplan("admins", "add", "demo", "U0SECOND", env=env).stdout
    assert "removed" in myplan("admins", "remove", "demo", "U0SECOND", env=env).stdout

    assert myplan("link", "T0OTHER", "demo", env=env).returncode == 0
    missing = myplan("link", "T0OTHER", "nope", env=env)
    assert missing.returncode != 0
    assert "not found: account 'nope'" in missing.stderr

    tried = myplan("try", "/plan", "--team", "T0OTHER", env=env)
    assert tried.returncode == 0, tried.stderr
    assert "HTTP 200" in tried.stdout
    assert "BUSINESS" in tried.stdout
    assert "block-kit-builder" in tried.stdout


def test_the_database_being_unreachable_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db"
    result = myplan("admins", "list", "demo", env={**env, "DATABASE_URL": url})
    assert result.returncode != 0
    assert result.stderr.startswith("myplan: database unavailable:")
    assert "Traceback" not in result.stderr
