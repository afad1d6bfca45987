"""Requests from Slack already handled, by replay key (an event id, or a digest of a view submission, an
action or a command: `handlers.event_dedupe.replay_key`), so retries and replays are recognised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from store.db import Database
from store.tables import HandledEventRow
from store.upserts import insert_for


class HandledEventRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_delivery(self, event_id: str, team_id: str | None, *, now: datetime) -> bool:
        """Record the request (its replay key) as handled; False when it already was (one INSERT … ON
        CONFLICT DO NOTHING, so two deliveries at once cannot both win)."""
        insert = insert_for(self._db)
        statement = (
            insert(HandledEventRow)
            .values(event_id=event_id, team_id=team_id, received_at=now)
            .on_conflict_do_nothing(index_elements=[HandledEventRow.event_id])
            .returning(HandledEventRow.event_id)
        )
        async with self._db.session() as session:
            return (await session.execute(statement)).first() is not None

    async def forget(self, event_id: str) -> bool:
        """Give a key back (its request was not applied after all); False when it was not recorded."""
        async with self._db.session() as session:
            result = await session.execute(
                delete(HandledEventRow).where(HandledEventRow.event_id == event_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def forget_before(self, moment: datetime) -> int:
        """Drop records older than Slack retries for; returns how many."""
        async with self._db.session() as session:
            result = await session.execute(
                delete(HandledEventRow).where(HandledEventRow.received_at < moment)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
