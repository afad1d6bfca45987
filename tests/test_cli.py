"""The operator's CLI, run as a real subprocess against a real database file."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.linking.codes import Linked, redeem_link_code
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
def env(database_url: str, store: Store) -> dict[str, str]:
    """The environment of a `myplan` run; `store` empties the database first (PostgreSQL's is shared)."""
    return {"DATABASE_URL": database_url, "PYTHONPATH": str(Path(__file__).parents[1])}


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("serve",),
        ("db", "upgrade"),
        ("demo",),
        ("link",),
        ("link-code",),
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


def test_link_code_issues_a_code_a_workspace_admin_can_use(env: dict[str, str], database_url: str) -> None:
    assert myplan("db", "upgrade", env=env).returncode == 0
    assert myplan("demo", env=env).returncode == 0

    issued = myplan("link-code", "demo", env=env)

    assert issued.returncode == 0, issued.stderr
    match = re.search(r"/plan link ([A-Z2-9]{4}-[A-Z2-9]{4})$", issued.stdout.strip())
    assert match is not None, issued.stdout
    assert "works once, until" in issued.stdout
    linked = asyncio.run(_redeem(database_url, match[1]))
    assert linked.account_id == "demo"
    missing = myplan("link-code", "nope", env=env)
    assert missing.returncode != 0
    assert "not found: account 'nope'" in missing.stderr


async def _redeem(database_url: str, code: str) -> Linked:
    store = Store.from_url(database_url)
    try:
        return await redeem_link_code(store, team_id="T0NEWCO", user_id="U0BOSS", text=code)
    finally:
        await store.close()


def test_the_database_being_unreachable_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db"
    result = myplan("admins", "list", "demo", env={**env, "DATABASE_URL": url})
    assert result.returncode != 0
    assert result.stderr.startswith("myplan: database unavailable:")
    assert "Traceback" not in result.stderr
