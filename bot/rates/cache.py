"""Rate table indexes in memory: the current version's, rebuilt only when another version becomes current,
and a few older versions' (traffic is priced by the table in force at its hour).

Every request asks the store for the current version number (one cheap query) and reuses the index
built for it, so a lookup never scans the table, and an import made by another process (the CLI, the
ingest API, another web worker) is seen by the next request here: nothing stale across processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from store import Store
from store.domain.rates import RateRow, RateTableInfo

if TYPE_CHECKING:
    from bot.rates.matcher import RateIndex


@dataclass(frozen=True, slots=True)
class LoadedTable:
    """A table version and the index built over its rows."""

    info: RateTableInfo
    index: RateIndex


MAX_VERSIONS = 4
"""Indexes kept per process: the current table's, and a few older ones that traffic of past hours is
priced with."""


class RateCache:
    """Holds the indexes of the newest table versions used; shared by every listener of one app."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._loaded: dict[int, LoadedTable] = {}
        """Least recently used first."""
        self._lock = asyncio.Lock()
        self.builds = 0
        """How many indexes were built (tests check that requests reuse them)."""

    async def current(self) -> LoadedTable | None:
        """The current table and its index, or None when no table has been imported yet."""
        version = await self.store.rates.current_version()
        return None if version is None else await self.version(version)

    async def version(self, version: int) -> LoadedTable | None:
        """A table version and its index, or None when there is no such version."""
        if (loaded := self._used(version)) is not None:
            return loaded
        async with self._lock:  # one build per version, however many requests arrive meanwhile
            if (loaded := self._used(version)) is not None:
                return loaded
            table = await self.store.rates.table(version)
            if table is None:
                return None
            # A 50,000-row table takes about two seconds to index: off the event loop.
            index = await asyncio.to_thread(_build_index, table.rows)
            self._loaded[version] = LoadedTable(table.info, index)
            self.builds += 1
            while len(self._loaded) > MAX_VERSIONS:
                del self._loaded[next(iter(self._loaded))]
            return self._loaded[version]

    def _used(self, version: int) -> LoadedTable | None:
        loaded = self._loaded.pop(version, None)
        if loaded is not None:
            self._loaded[version] = loaded
        return loaded


def _build_index(rows: Sequence[RateRow]) -> RateIndex:
    """In the worker thread, like the numpy and rapidfuzz imports the build makes: the matcher, with
    phonenumbers, loads with the first index, and no request waits for the import."""
    from bot.rates.matcher import RateIndex

    return RateIndex.build(rows)
