"""Retention: what the prune reads and removes, an account's rows (or a page of accounts') at a time, as
each table's index begins with the account, and a bounded batch per call, each in a transaction of its own so that no ingest waits on
more than one batch (`bot/retention/prune.py` applies the policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, delete, func, inspect, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from store.coltypes import among
from store.db import Database
from store.domain.alerts import DEFAULT_TIME_ZONE, IN_FLIGHT
from store.domain.bounds import EARLIEST, LATEST
from store.domain.traffic import SpikeStatus
from store.tables import (
    AccountRow,
    AlertRow,
    AlertScheduleRow,
    AuditRow,
    Base,
    SubscriptionRow,
    TrafficHourRow,
    TrafficSpikeRow,
    UsageReadingRow,
    UsageRollupRow,
)
from store.upserts import insert_for


@dataclass(frozen=True)
class AccountClock:
    """What an account's retention moments are measured from."""

    account_id: str
    period_start: date | None
    next_payment_date: date | None
    """None without a subscription: there are no periods to count."""
    time_zone: str
    rolled_up_before: datetime | None


@dataclass(frozen=True)
class StoredReading:
    id: int
    meter: str
    used: Decimal
    at: datetime


_UNFINISHED_SPIKES = (SpikeStatus.PENDING.value, SpikeStatus.SENDING.value)


class RetentionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def accounts(self, *, after: str | None, limit: int) -> list[AccountClock]:
        """Accounts by id, from after `after`."""
        query = (
            select(
                AccountRow.id,
                SubscriptionRow.period_start,
                SubscriptionRow.next_payment_date,
                AlertScheduleRow.time_zone,
                UsageRollupRow.rolled_up_before,
            )
            .outerjoin(SubscriptionRow, SubscriptionRow.account_id == AccountRow.id)
            .outerjoin(AlertScheduleRow, AlertScheduleRow.account_id == AccountRow.id)
            .outerjoin(UsageRollupRow, UsageRollupRow.account_id == AccountRow.id)
            .order_by(AccountRow.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(AccountRow.id > after)
        async with self._db.session(read_only=True) as session:
            return [
                AccountClock(account_id, start, end, zone or DEFAULT_TIME_ZONE, rolled)
                for account_id, start, end, zone, rolled in await session.execute(query)
            ]

    # ------------------------------------------------------------------------------ usage readings

    async def readings(
        self, account_id: str, *, start: datetime, end: datetime, limit: int | None
    ) -> list[StoredReading]:
        """Up to `limit` (None: all) of the account's readings from `start` to `end`, oldest first, from
        the sane moments on."""
        r = UsageReadingRow
        query = (
            select(r.id, r.meter, r.used, r.at)
            .where(r.account_id == account_id, r.at >= max(start, EARLIEST), r.at < end)
            .order_by(r.at, r.id)
            .limit(limit)
        )
        async with self._db.session(read_only=True) as session:
            rows = await (await session.connection()).execute(query)  # plain rows: no ORM loading
            return [StoredReading(*row) for row in rows]

    async def last_used_before(self, account_id: str, moment: datetime) -> dict[str, Decimal]:
        """Each meter's reading just before `moment` (from the sane moments on)."""
        r = UsageReadingRow
        ranked = (
            select(
                r.meter,
                r.used,
                func.row_number().over(partition_by=r.meter, order_by=(r.at.desc(), r.id.desc())).label("n"),
            )
            .where(r.account_id == account_id, r.at >= EARLIEST, r.at < moment)
            .subquery()
        )
        async with self._db.session(read_only=True) as session:
            rows = await session.execute(select(ranked.c.meter, ranked.c.used).where(ranked.c.n == 1))
            return dict(rows.all())

    async def roll_up(self, account_id: str, drop: list[int], *, rolled_up_before: datetime) -> None:
        """Remove the readings `drop` and record that the account's readings are rolled up to
        `rolled_up_before`, together."""
        async with self._db.session() as session:
            if drop:
                await session.execute(
                    delete(UsageReadingRow).where(
                        UsageReadingRow.account_id == account_id, among(UsageReadingRow.id, drop)
                    )
                )
            insert = insert_for(session)
            await session.execute(
                insert(UsageRollupRow)
                .values(account_id=account_id, rolled_up_before=rolled_up_before)
                .on_conflict_do_update(
                    index_elements=["account_id"], set_={"rolled_up_before": rolled_up_before}
                )
            )

    async def old_readings(self, account_id: str, before: datetime, *, limit: int | None) -> int:
        """Remove up to `limit` of the account's readings dated before `before` (and any dated outside
        the sane moments); how many. `limit` None: only count them, removing nothing."""
        r = UsageReadingRow
        where = and_(r.account_id == account_id, (r.at < before) | (r.at >= LATEST))
        return await self._remove(UsageReadingRow, where, limit)

    # ---------------------------------------------------------------------------------- alerts

    async def superseded_alerts(self, account_id: str, ended_by: date, *, limit: int | None) -> int:
        """Compact the account's alerts of the periods that ended by `ended_by`: of each meter, kind and
        period only the alert of the highest threshold stays (where the meter got to). Alerts still being
        delivered stay too. How many went (`limit` None: would go)."""
        a = AlertRow
        ranked = (
            select(
                a.id,
                func.row_number()
                .over(
                    partition_by=(a.meter, a.kind, a.period_start), order_by=(a.threshold.desc(), a.id.desc())
                )
                .label("n"),
            )
            .where(a.account_id == account_id, a.period_end <= ended_by, a.status.not_in(IN_FLIGHT))
            .subquery()
        )
        return await self._remove(AlertRow, a.id.in_(select(ranked.c.id).where(ranked.c.n > 1)), limit)

    # ------------------------------------------------------------------ traffic and audit (by time)

    async def old_traffic(self, accounts: list[str], before: datetime, *, limit: int | None) -> int:
        t = TrafficHourRow
        return await self._remove(t, and_(among(t.account_id, accounts), t.hour < before), limit)

    async def old_spike_alerts(self, accounts: list[str], before: date, *, limit: int | None) -> int:
        """Spike alerts of days before `before`, but for any still being delivered (a block made from one
        keeps its record: its `spike_id` becomes null)."""
        s = TrafficSpikeRow
        unfinished = s.status.in_(_UNFINISHED_SPIKES)
        return await self._remove(s, and_(among(s.account_id, accounts), s.day < before, ~unfinished), limit)

    async def old_audit(self, accounts: list[str], before: datetime, *, limit: int | None) -> int:
        a = AuditRow
        return await self._remove(a, and_(among(a.account_id, accounts), a.at < before), limit)

    # ---------------------------------------------------------------------------------- the batch

    async def _remove(self, model: type[Base], where: ColumnElement[bool], limit: int | None) -> int:
        """Delete up to `limit` rows of `model` matching `where` in one transaction, by primary key;
        `limit` None counts them instead."""
        async with self._db.session(read_only=limit is None) as session:
            if limit is None:
                return await session.scalar(select(func.count()).select_from(model).where(where)) or 0
            return await _delete_batch(session, model, where, limit)


async def _delete_batch(
    session: AsyncSession, model: type[Base], where: ColumnElement[bool], limit: int
) -> int:
    key = inspect(model).primary_key
    chosen = select(*key).where(where).limit(limit)
    matches = key[0].in_(chosen) if len(key) == 1 else tuple_(*key).in_(chosen)
    result = await session.execute(delete(model).where(matches))
    return int(getattr(result, "rowcount", 0) or 0)
