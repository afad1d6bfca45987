"""Engine and session handling; every database failure surfaces as `StoreUnavailable`."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from store.errors import DatabaseMissing, StoreUnavailable
from store.urls import normalize_database_url

# Connection-level failures: the database is down or unreachable, not a bug in a query.
READ_ONLY = "myplan_read_only"
_OUTAGE_ERRORS = (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)
# The server answers, but the database is not there: a setup step was missed, retrying will not help.
POSTGRES_NO_SUCH_DATABASE = "3D000"  # invalid_catalog_name
SQLITE_CANNOT_OPEN = "unable to open database file"

# The session of the enclosing `Database.transaction()` block, if any, with the database it belongs to.
_ambient: ContextVar[tuple[Database, AsyncSession] | None] = ContextVar("store_transaction", default=None)


POOL_SIZE = 25
"""PostgreSQL connections a process keeps (and 10 more in a burst): the server's max_connections bounds
the processes × (pool + 10) that one database serves."""


def create_engine(url: str, *, pool_size: int = POOL_SIZE) -> AsyncEngine:
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Writers queue for SQLite's one write lock holding a pooled connection, so the pool is sized for
        # readers to keep flowing meanwhile.
        engine = create_async_engine(url, pool_size=20, max_overflow=20, pool_timeout=5)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        event.listen(engine.sync_engine, "connect", partial(_remember_worker, engine.sync_engine))
        if parsed.database and parsed.database != ":memory:":
            event.listen(engine.sync_engine, "checkout", _file_must_exist(Path(parsed.database)))
        return engine
    # Opening a PostgreSQL connection costs several round trips and a TLS handshake: keep enough pooled
    # for a busy process, so a burst waits briefly or opens a few short-lived extra ones.
    return create_async_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=10, pool_timeout=5)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    # We issue BEGIN ourselves (below) instead of the driver's deferred one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")  # writers queue for the one write lock under load
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Writers take the write lock at BEGIN: a deferred transaction that reads and then writes gets
    SQLITE_BUSY at once (no busy wait) when another writer went first; IMMEDIATE waits its turn.
    Read-only sessions stay deferred, so in WAL mode they never wait."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _file_must_exist(path: Path) -> Callable[..., None]:
    """A pooled connection keeps its file open even if the file goes away; notice that, as an outage."""

    def check(_dbapi_connection: object, _record: object, _proxy: object) -> None:
        if not path.exists():
            raise DisconnectionError(f"database file {path} is missing")

    return check


@contextmanager
def outages_as_unavailable() -> Iterator[None]:
    """Turn a failure to reach the database into `StoreUnavailable` (for code that uses the engine directly)."""
    try:
        yield
    except _OUTAGE_ERRORS as error:
        if SQLITE_CANNOT_OPEN in str(error):
            raise DatabaseMissing(
                "SQLite cannot open the database file: create its folder, or point DATABASE_URL elsewhere"
            ) from error
        raise StoreUnavailable(_first_line(error)) from error
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == POSTGRES_NO_SUCH_DATABASE:
            raise DatabaseMissing(
                f"{_first_line(error.orig or error)}: create it (createdb NAME), then run myplan db upgrade"
            ) from error
        if error.connection_invalidated:
            raise StoreUnavailable("database connection lost") from error
        raise


class Database:
    """The engine plus a session factory that turns outages into `StoreUnavailable`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = POOL_SIZE) -> Database:
        return cls(create_engine(url, pool_size=pool_size))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @cached_property
    def _read_only_options(self) -> dict[str, Any]:
        """SQLite: a deferred transaction, one snapshot for all its reads. PostgreSQL: no transaction at
        all (under READ COMMITTED each statement sees its own snapshot anyway), which saves the BEGIN
        and COMMIT round trips."""
        return {READ_ONLY: True} if self.is_sqlite else {READ_ONLY: True, "isolation_level": "AUTOCOMMIT"}

    @asynccontextmanager
    async def session(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block succeeds, rolled back otherwise.

        `read_only` sessions promise not to write (on SQLite they do not take the write lock).
        Inside a `transaction()` block it is that block's session, so repository calls made there
        commit or roll back together.
        """
        ambient = _ambient.get()
        if ambient is not None and ambient[0] is self:
            yield ambient[1]
            return
        with outages_as_unavailable():
            async with self._sessions() as session, session.begin():
                if read_only:
                    await session.connection(execution_options=self._read_only_options)
                yield session

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
        await dispose_engine(self.engine)


async def dispose_engine(engine: AsyncEngine) -> None:
    """Close the engine's connections; on SQLite, also let their worker threads finish (see below)."""
    await engine.dispose()
    if engine.dialect.name == "sqlite":
        for thread, owner in list(_OPEN_SQLITE_WORKERS.items()):
            if owner is engine.sync_engine:
                del _OPEN_SQLITE_WORKERS[thread]
        await asyncio.to_thread(_join_sqlite_workers)


_OPEN_SQLITE_WORKERS: weakref.WeakKeyDictionary[threading.Thread, Engine] = weakref.WeakKeyDictionary()
"""The aiosqlite worker thread (one a connection) of each SQLite engine in the process not disposed of."""


def _remember_worker(engine: Engine, dbapi_connection: Any, _record: object) -> None:
    thread = getattr(getattr(dbapi_connection, "_connection", None), "_thread", None)
    if isinstance(thread, threading.Thread):
        _OPEN_SQLITE_WORKERS[thread] = engine


def _join_sqlite_workers(budget: float = 1.0) -> None:
    """Let aiosqlite's worker threads finish while the event loop still runs: those of the databases
    disposed of, and those of failed connects, not those of another database still open.

    After a failed connect aiosqlite stops its worker without awaiting it; if the loop closes first,
    the worker's last callback fails with a traceback on stderr. A connection still held by a task
    that has not finished keeps its thread alive: wait `budget` seconds in all, not for it.
    """
    deadline = time.monotonic() + budget
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name and thread not in _OPEN_SQLITE_WORKERS:
            thread.join(max(0.0, deadline - time.monotonic()))


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
