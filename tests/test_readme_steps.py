"""The README's single-workspace steps, run as written against a fresh (empty, unmigrated) database."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.migrate import head_revision
from tests.conftest import POSTGRES_URL, _asyncpg_dsn, _pg_execute, _with_database

ROOT = Path(__file__).parents[1]

README_STEPS = [
    ["myplan", "db", "upgrade"],
    ["myplan", "accounts", "import", "examples/account.json"],
    ["myplan", "link", "T0123ABCD", "acme"],
    ["myplan", "admins", "add", "acme", "U0123ABCD"],
    ["myplan", "try", "/plan", "--team", "T0123ABCD", "--user", "U0123ABCD"],
]


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it, not even the schema: a new file or a new PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh.db"
        return
    assert POSTGRES_URL is not None
    name = f"myplan_fresh_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(_asyncpg_dsn(POSTGRES_URL), f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        asyncio.run(_pg_execute(_asyncpg_dsn(POSTGRES_URL), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_step(step: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    """One README line, run from the repository's root as an operator would (`myplan` is `bot.cli:main`)."""
    assert step[0] == "myplan"
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *step[1:]],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_single_workspace_steps_on_a_fresh_database(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        results = [run_step(step, url) for step in README_STEPS]

    for step, result in zip(README_STEPS, results, strict=True):
        assert result.returncode == 0, f"{' '.join(step)}: {result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
    upgraded, imported, linked, admin, tried = (result.stdout for result in results)
    assert re.fullmatch(rf"applied \d+ migrations: the database is at revision {head_revision()}\n", upgraded)
    assert imported == "account acme created\n"
    assert linked == "workspace T0123ABCD is linked to account acme\n"
    assert admin == "U0123ABCD is now an administrator of acme\n"
    assert "HTTP 200" in tried
    assert "BUSINESS" in tried
    assert "MY PLAN · ACME CONTACT CENTRE LTD" in tried
    assert tried.startswith("/plan  →"), tried
