"""Per-channel posting slots shared by every process on the database (`channel_pace`).

A caller reserves the channel's next free slot, max(stored slot, now), and moves the stored slot on by the
interval, atomically: concurrent callers, in any process, get slots at least an interval apart. When its
slot comes, the caller records its departure, which succeeds only an interval or more after the last one
(one conditional update): a post that left late, from a process busy when its slot came, holds the next
one back, so the messages themselves, not only their slots, leave an interval apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Interval, case, func, literal, or_, select, update

from store.db import Database
from store.tables import ChannelPaceRow
from store.upserts import insert_for


class ChannelPaceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def reserve(self, team_id: str, channel: str, *, now: datetime, interval: timedelta) -> datetime:
        """The slot reserved for one message to `channel`: the stored next slot, or `now` if that is
        later; the next caller's slot is an interval after it."""
        if self._db.is_sqlite:
            return await self._reserve_locked(team_id, channel, now, interval)
        return await self._reserve_upsert(team_id, channel, now, interval)

    async def _reserve_upsert(
        self, team_id: str, channel: str, now: datetime, interval: timedelta
    ) -> datetime:
        """PostgreSQL: one statement. ON CONFLICT DO UPDATE locks the row and computes from its latest
        version, so concurrent callers queue on the row; a race to create it ends in the update too."""
        step = literal(interval, Interval())  # typed: UTCDateTime would take it for a timestamp
        insert = insert_for(self._db)(ChannelPaceRow).values(
            team_id=team_id, channel=channel, next_slot_at=now + interval
        )
        statement = insert.on_conflict_do_update(
            index_elements=[ChannelPaceRow.team_id, ChannelPaceRow.channel],
            set_={
                "next_slot_at": func.greatest(
                    ChannelPaceRow.next_slot_at + step, insert.excluded.next_slot_at
                )
            },
        ).returning(ChannelPaceRow.next_slot_at)
        async with self._db.session() as session:
            next_slot = (await session.execute(statement)).scalar_one()
        return next_slot - interval

    async def _reserve_locked(
        self, team_id: str, channel: str, now: datetime, interval: timedelta
    ) -> datetime:
        """SQLite: read and write in one short transaction, which holds the database's one write lock from
        its BEGIN IMMEDIATE (`store.db`), so no other process can read the slot in between."""
        async with self._db.session() as session:
            row = await session.get(ChannelPaceRow, (team_id, channel))
            if row is None:
                session.add(ChannelPaceRow(team_id=team_id, channel=channel, next_slot_at=now + interval))
                return now
            slot = max(row.next_slot_at, now)
            row.next_slot_at = slot + interval
            return slot

    async def depart(
        self, team_id: str, channel: str, *, at: datetime, interval: timedelta
    ) -> datetime | None:
        """Record a message to `channel` leaving `at`, unless the last one left less than `interval` before:
        then nothing is recorded and the answer is when this one may leave instead. One conditional update,
        so of two processes departing at once only one can succeed."""
        pace, last = ChannelPaceRow, ChannelPaceRow.last_departed_at
        key = (pace.team_id == team_id, pace.channel == channel)
        # An interval from the last departure either way: processes may record theirs out of order.
        clear = or_(last.is_(None), last <= at - interval, last >= at + interval)
        latest = case((last > at, last), else_=literal(at, last.type))
        async with self._db.session() as session:
            done = await session.execute(
                update(pace).where(*key, clear).values(last_departed_at=latest).returning(pace.channel)
            )
            if done.first() is not None:
                return None
            departed = await session.scalar(select(last).where(*key))
        return None if departed is None else departed + interval
