"""Engine and session handling; every database failure surfaces as `StoreUnavailable`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from store.errors import StoreUnavailable

# Connection-level failures: the database is down or unreachable, not a bug in a query.
_OUTAGE_ERRORS = (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)

# The session of the enclosing `Database.transaction()` block, if any, with the database it belongs to.
_ambient: ContextVar[tuple[Database, AsyncSession] | None] = ContextVar("store_transaction", default=None)


def normalize_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` and plain `postgresql://` URLs, using the async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def create_engine(url: str) -> AsyncEngine:
    url = normalize_database_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        # NullPool: a fresh connection per checkout, so a database file that disappears and
        # comes back is noticed at once, and no connection is shared across event loops.
        engine = create_async_engine(url, poolclass=NullPool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=5)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """The engine plus a session factory that turns outages into `StoreUnavailable`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(create_engine(url))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block succeeds, rolled back otherwise.

        Inside a `transaction()` block it is that block's session, so repository calls made there
        commit or roll back together.
        """
        ambient = _ambient.get()
        if ambient is not None and ambient[0] is self:
            yield ambient[1]
            return
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except _OUTAGE_ERRORS as error:
            raise StoreUnavailable(
                str(error).splitlines()[0] if str(error) else type(error).__name__
            ) from error
        except DBAPIError as error:
            if error.connection_invalidated:
                raise StoreUnavailable("database connection lost") from error
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction for every repository call made inside the block.

        The calls share one session, so make them one after another (no `gather` inside the block).
        """
        async with self.session() as session:
            token = _ambient.set((self, session))
            try:
                yield session
            finally:
                _ambient.reset(token)

    async def ping(self) -> None:
        async with self.session() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.is_sqlite:
            await asyncio.to_thread(_join_sqlite_workers)


def _join_sqlite_workers(timeout: float = 5.0) -> None:
    """Let aiosqlite's worker threads finish while the event loop still runs.

    After a failed connect aiosqlite stops its worker without awaiting it; if the loop closes first,
    the worker's last callback fails with a traceback on stderr.
    """
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout)
