"""Run the Alembic migrations from code (the CLI, tests and the release phase use this), and tell whether
a database's schema is the one the code needs."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from store.db import create_engine, outages_as_unavailable
from store.errors import SchemaNotCurrent
from store.urls import normalize_database_url

MIGRATIONS = Path(__file__).parent / "migrations"
FIX = "run myplan db upgrade"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", normalize_database_url(url).replace("%", "%%"))
    return config


@cache
def head_revision() -> str:
    """The revision the code needs: the migrations' head."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: Connection) -> str | None:
    log = logging.getLogger("alembic.runtime.migration")  # says "Context impl …" at INFO: not news here
    level = log.level
    log.setLevel(max(level, logging.WARNING))
    try:
        return MigrationContext.configure(connection).get_current_revision()
    finally:
        log.setLevel(level)


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
        await engine.dispose()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> int:
    """Bring the database to `revision` over the given engine; how many migrations that applied."""

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
        await engine.dispose()
