"""Persistence: SQLAlchemy models, Alembic migrations, repositories returning domain objects.

Nothing here knows about Slack. `Store` and `Database` load on first use, so a light part of the package
(`store.urls`, say) can be imported without SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.db import Database
    from store.repositories import Store


def __getattr__(name: str) -> object:
    if name == "Store":
        from store.repositories import Store

        return Store
    if name == "Database":
        from store.db import Database

        return Database
    raise AttributeError(f"module 'store' has no attribute {name!r}")


__all__ = ["Database", "Store"]
