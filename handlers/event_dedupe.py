"""Slack retries an event it thinks we missed (`X-Slack-Retry-Num`); one already handled is only acked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from store import Store
from store.clock import utcnow
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)

# Slack retries three times within minutes; a day of event ids is plenty, pruned at most hourly.
REMEMBER = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)


class HandledEvents:
    """A global middleware (run before authorization, after the signature check) that records each event id
    with one INSERT … ON CONFLICT DO NOTHING and answers a retry of a handled event with an empty 200.

    A first delivery (no `X-Slack-Retry-Num`) is dispatched at once and recorded in the background, so
    its ack never waits for a database write; Slack retries only after an ack failed or took over 3 s,
    by when the record is written. A retry is checked before it is dispatched."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._next_prune = utcnow()
        self._recording: set[asyncio.Task[bool]] = set()

    async def __call__(
        self, body: dict[str, Any], request: AsyncBoltRequest, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str):
            await next()
            return None
        retry = request.headers.get("x-slack-retry-num", [None])[0]
        if retry is None:
            task = asyncio.create_task(self._first_delivery(event_id, body.get("team_id")))
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)
        elif not await self._first_delivery(event_id, body.get("team_id")):
            reason = request.headers.get("x-slack-retry-reason", ["?"])[0]
            log.info("event %s was already handled; acknowledged retry %s (%s)", event_id, retry, reason)
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _first_delivery(self, event_id: str, team_id: str | None) -> bool:
        now = utcnow()
        try:
            first = await self._store.handled_events.first_delivery(event_id, team_id, now=now)
            if now >= self._next_prune:
                self._next_prune = now + PRUNE_EVERY
                await self._store.handled_events.forget_before(now - REMEMBER)
        except StoreUnavailable as error:
            # Better to risk handling an event twice than to drop it.
            log.warning("could not check event %s against handled events: %s", event_id, error)
            return True
        return first
