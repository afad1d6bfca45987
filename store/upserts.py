"""`INSERT … ON CONFLICT` for the database in use, with only that database's SQLAlchemy dialect loaded.

Imported at the top of a store module, `sqlalchemy.dialects.postgresql` costs a SQLite process 2.5 MB (its
package loads every PostgreSQL driver module SQLAlchemy has) and `sqlalchemy.dialects.sqlite` a PostgreSQL
process 0.5 MB. The dialect the engine uses is loaded already, so importing it here, when a statement is
built, costs nothing (tests/test_lean_process.py checks that `myplan serve` loads only its own dialect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

    from store.db import Database

Insert: TypeAlias = "PostgresInsert | SqliteInsert"
"""Either dialect's statement: both have `on_conflict_do_nothing`, `on_conflict_do_update` and `excluded`."""


def insert_for(target: Database | AsyncSession) -> Callable[[Any], Insert]:
    """The `insert` of the database behind `target` (a `Database`, or a session bound to one): SQLite's,
    else PostgreSQL's. `insert_for(self._db)(HomeStateRow).values(…).on_conflict_do_nothing(…)`."""
    bind = target.get_bind() if isinstance(target, AsyncSession) else target.engine
    return insert_for_dialect(bind.dialect.name)


def insert_for_dialect(name: str) -> Callable[[Any], Insert]:
    """The `insert` of the dialect called `name`: SQLite's for "sqlite", else PostgreSQL's."""
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    from sqlalchemy.dialects.postgresql import insert as postgres_insert

    return postgres_insert
