"""The current rate table's in-memory index, rebuilt only when another version becomes current.

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


class RateCache:
    """Holds the index of the newest table version; shared by every listener of one app."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._loaded: LoadedTable | None = None
        self._lock = asyncio.Lock()
        self.builds = 0
        """How many indexes were built (tests check that requests reuse them)."""

    async def current(self) -> LoadedTable | None:
        """The current table and its index, or None when no table has been imported yet."""
        version = await self._store.rates.current_version()
        if version is None:
            return None
        loaded = self._loaded
        if loaded is not None and loaded.info.version == version:
            return loaded
        async with self._lock:  # one build per version, however many requests arrive meanwhile
            loaded = self._loaded
            if loaded is not None and loaded.info.version == version:
                return loaded
            table = await self._store.rates.table(version)
            if table is None:  # cannot happen while versions are only ever added; read it again next time
                return None
            # A 50,000-row table takes about two seconds to index: off the event loop.
            index = await asyncio.to_thread(_build_index, table.rows)
            self._loaded = LoadedTable(table.info, index)
            self.builds += 1
            return self._loaded


def _build_index(rows: Sequence[RateRow]) -> RateIndex:
    """In the worker thread, like the numpy and rapidfuzz imports the build makes: the matcher, with
    phonenumbers, loads with the first index, and no request waits for the import."""
    from bot.rates.matcher import RateIndex

    return RateIndex.build(rows)
