"""Best-effort work after a request has been answered: Slack notices, the usage hook.

A failure is logged, never raised: the request it follows has already been stored and answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]]


class BackgroundWork:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, name: str, work: Work) -> None:
        task = asyncio.get_running_loop().create_task(self._run(name, work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, name: str, work: Work) -> None:
        try:
            await work()
        except Exception:  # best effort: the log is where a failure goes
            log.warning("%s failed", name, exc_info=True)

    async def drain(self, grace: float = 10.0) -> None:
        """Let running work finish (on shutdown); what is still running after `grace` seconds is cancelled."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log.warning("cancelled %d unfinished background task(s) at shutdown", len(pending))
