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
        ("import-rates",),
        ("export-rates",),
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


RATES = "dial_code,iso_code,destination,landline_per_min,mobile_per_min,sms_per_message\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("link", "t0lower", "demo"), "'t0lower' is not a valid Slack workspace (team) id"),
        (("link", "T0OTHER", "no spaces"), "'no spaces' is not a valid account id"),
        (("link-code", "a" * 65), "is not a valid account id"),
        (("admins", "add", "demo", "U0\u2603"), "'U0☃' is not a valid Slack user id"),
        (("demo", "--team", "T0\t"), "is not a valid Slack workspace (team) id"),
        (("import-rates", "{ok}", "--effective-date", "0001-01-01"), "must be from 2000-01-01 to 2099-12-31"),
        (("import-rates", "{ok}", "--label", "two\nlines"), "must not contain control characters"),
        (("import-rates", "{huge}"), "line 2: a cell is longer than 131,072 characters"),
        (("import-rates", "{absurd}"), "line 2: landline_per_min '1E+30' is not a decimal number"),
        (("import-rates", "{dear}"), "line 2: landline_per_min '1000' is too high"),
        (("export-rates", "--version", str(2**31)), "is not in the range"),
    ],
    ids=lambda value: value[0] if isinstance(value, tuple) else None,
)
def test_command_line_values_are_held_to_the_bounds(
    args: tuple[str, ...], said: str, env: dict[str, str], tmp_path: Path
) -> None:
    files = {
        "ok": RATES + "44,GB,United Kingdom,0.0100,0.0250,0.0450\n",
        "huge": RATES + f'44,GB,"{"x" * 131_073}",0.01,0.01,0.01\n',
        "absurd": RATES + "44,GB,United Kingdom,1E+30,0.01,0.01\n",
        "dear": RATES + "44,GB,United Kingdom,1000,0.01,0.01\n",
    }
    for name, content in files.items():
        (tmp_path / f"{name}.csv").write_text(content)
    assert myplan("db", "upgrade", env=env).returncode == 0
    result = myplan(*(arg.format(**{n: tmp_path / f"{n}.csv" for n in files}) for arg in args), env=env)
    assert result.returncode != 0
    assert said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "imported rate table" not in result.stdout
