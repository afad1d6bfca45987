"""Run the Alembic migrations from code (the CLI, tests and the release phase use this), and tell whether
a database's schema is the one the code needs.

Telling does not import Alembic (with Mako and Pygments, about 8 MB a process keeps): `myplan serve` checks
the schema at start and in every health check, and never migrates. Only `upgrade` loads Alembic.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from store.db import create_engine, dispose_engine, outages_as_unavailable
from store.errors import SchemaNotCurrent
from store.urls import normalize_database_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
FIX = "run myplan db upgrade"
VERSION_TABLE = "alembic_version"  # Alembic's default, which store/migrations/env.py keeps


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", normalize_database_url(url).replace("%", "%%"))
    return config


@cache
def head_revision() -> str:
    """The revision the code needs: the migrations' head, the one revision no other names as its
    `down_revision`. Read from the revision files' source, as Alembic's `ScriptDirectory` would find it (a
    test checks they agree), without running them."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = _revision_names(path)
        revisions.update(found.get("revision", ()))
        revised.update(found.get("down_revision", ()))
    heads = sorted(revisions - revised)
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads, not one: {heads}")
    return heads[0]


def _revision_names(path: Path) -> dict[str, tuple[str, ...]]:
    """A revision file's module-level `revision` and `down_revision` (one name, a tuple of them, or None)."""
    names: dict[str, tuple[str, ...]] = {}
    for node in ast.parse(path.read_text(), str(path)).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            named = ast.literal_eval(value)
            names[target.id] = (named,) if isinstance(named, str) else tuple(named or ())
    return names


def _current(connection: Connection) -> str | None:
    """What Alembic's `MigrationContext.get_current_revision` says, read with plain SQL."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return ", ".join(sorted(versions)) or None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision (its `alembic_version`), None when it was never migrated; `StoreUnavailable`
    when it cannot be reached."""
    with outages_as_unavailable():
        async with engine.connect() as connection:
            return await connection.run_sync(_current)


def schema_problem(revision: str | None) -> str | None:
    """What is wrong with a database at `revision`, None when it is at the code's head."""
    head = head_revision()
    if revision == head:
        return None
    if revision is None:
        return f"the database has no schema (it was never migrated; the code needs revision {head})"
    return f"the database schema is at revision {revision}, the code needs {head}"


async def check_schema(engine: AsyncEngine) -> None:
    """Raise `SchemaNotCurrent` (saying what is wrong and the fix) unless the database is at the head."""
    problem = schema_problem(await current_revision(engine))
    if problem is not None:
        raise SchemaNotCurrent(f"{problem}: {FIX}")


async def check_schema_url(url: str) -> None:
    engine = create_engine(url)
    try:
        await check_schema(engine)
    finally:
        await dispose_engine(engine)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> int:
    """Bring the database to `revision` over the given engine; how many migrations that applied."""

    from alembic import command
    from alembic.script import ScriptDirectory

    def run(connection: Connection) -> int:
        config = alembic_config()
        config.attributes["connection"] = connection
        script = ScriptDirectory.from_config(config)
        before = _current(connection)
        pending = list(script.iterate_revisions(revision, before))
        command.upgrade(config, revision)
        return len(pending)

    async with engine.begin() as connection:
        return await connection.run_sync(run)


async def upgrade_url(url: str, revision: str = "head") -> int:
    engine = create_engine(url)
    try:
        with outages_as_unavailable():
            return await upgrade(engine, revision)
    finally:
        await dispose_engine(engine)
