"""A bounded number of listeners work at once after acking, so acks stay fast under load.

A listener acks, then does its work (database reads, Block Kit, Web API calls) on the same event loop
that reads the next request and acks it. With dozens of jobs in flight every turn of the loop grows and
acks, which Slack wants within 3 seconds, wait behind them. Like bolt's own pool for sync listeners
(ten threads), at most `LISTENER_CONCURRENCY` jobs run at once and the rest queue for a slot. No job
queues longer than `patience` seconds: a trigger_id expires 3 seconds after the click, so one that has
waited that long runs anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

PATIENCE_SECONDS = 1.0


class WorkSlots:
    def __init__(self, size: int, *, patience: float = PATIENCE_SECONDS) -> None:
        self._free = asyncio.Semaphore(size)
        self._patience = patience

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._patience):
                await self._free.acquire()
        except TimeoutError:  # waited long enough: run beside the others
            yield
            return
        try:
            yield
        finally:
            self._free.release()
