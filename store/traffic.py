"""Traffic by destination: hourly aggregates per account, replaced an hour at a time, and what they cost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from store.clock import utcnow
from store.coltypes import total
from store.db import Database
from store.domain.bounds import PLACES
from store.domain.traffic import COST_PLACES, DestinationSpend, TrafficHour, TrafficWrite
from store.errors import NotFound
from store.tables import AccountRow, TrafficHourRow

T = TrafficHourRow


class TrafficRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace_hours(
        self, account_id: str, figures: Sequence[TrafficHour], *, now: datetime | None = None
    ) -> TrafficWrite:
        """Store `figures`, each of their hours replacing what was stored for that hour, in one transaction;
        NotFound for an unknown account. Keys must be unique within `figures`."""
        hours = sorted({figure.hour for figure in figures})
        async with self._db.session() as session:
            await _lock_account(session, account_id)
            replaced = await session.scalar(
                select(func.count()).where(T.account_id == account_id, T.hour.in_(hours))
            )
            await session.execute(delete(T).where(T.account_id == account_id, T.hour.in_(hours)))
            received_at = now or utcnow()
            await session.execute(insert(T), [_row(account_id, figure, received_at) for figure in figures])
        return TrafficWrite(hours=len(hours), stored=len(figures), replaced=replaced or 0)

    async def period_cost(self, account_id: str, since: datetime, until: datetime) -> Decimal:
        """What the account's traffic with an hour in [since, until) cost (unpriced traffic counts 0)."""
        async with self._db.session(read_only=True) as session:
            cost = await session.scalar(
                select(total(T.cost, COST_PLACES)).where(*_between(account_id, since, until))
            )
        return cost if cost is not None else Decimal(0)

    async def accounts_with_traffic(self, since: datetime, until: datetime) -> list[str]:
        """Accounts with traffic with an hour in [since, until), in id order."""
        async with self._db.session(read_only=True) as session:
            found = await session.scalars(
                select(T.account_id)
                .where(T.hour >= since, T.hour < until)
                .group_by(T.account_id)
                .order_by(T.account_id)
            )
            return list(found)

    async def hours(self, account_id: str, since: datetime, until: datetime) -> list[TrafficHour]:
        """The figures stored with an hour in [since, until), by hour."""
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(T).where(*_between(account_id, since, until)).order_by(T.hour, T.destination, T.kind)
            )
            return [_figure(row) for row in rows]

    async def by_destination(
        self, account_id: str, since: datetime, until: datetime
    ) -> list[DestinationSpend]:
        """The traffic with an hour in [since, until) per rate entry (or, without one, per destination as
        sent), kind and rate kind applied."""
        entry = func.coalesce(T.iso_code, T.destination)
        unpriced = case((T.cost.is_(None), T.quantity), else_=literal(Decimal(0), T.quantity.type))
        # Grouped by rate too, so each group's rate is one value; merged below, the newest rate kept.
        statement = (
            select(
                entry,
                T.iso_code,
                func.min(func.coalesce(T.place, T.destination)),
                T.kind,
                T.priced_as,
                T.rate,
                total(T.quantity, PLACES),
                total(T.cost, COST_PLACES),
                total(unpriced, PLACES),
                func.max(T.hour),
            )
            .where(*_between(account_id, since, until))
            .group_by(entry, T.iso_code, T.kind, T.priced_as, T.rate)
            .order_by(func.max(T.hour))
        )
        merged: dict[tuple[str, str, str | None], DestinationSpend] = {}
        async with self._db.session(read_only=True) as session:
            for (
                key,
                iso,
                place,
                kind,
                priced_as,
                rate,
                quantity,
                cost,
                unpriced_quantity,
                _,
            ) in await session.execute(statement):
                earlier = merged.get((key, kind, priced_as))
                merged[(key, kind, priced_as)] = DestinationSpend(
                    iso_code=iso,
                    place=place,
                    kind=kind,
                    priced_as=priced_as,
                    quantity=quantity + (earlier.quantity if earlier else 0),
                    cost=(cost or Decimal(0)) + (earlier.cost if earlier else 0),
                    unpriced_quantity=unpriced_quantity + (earlier.unpriced_quantity if earlier else 0),
                    rate=rate if rate is not None or earlier is None else earlier.rate,
                )
        return list(merged.values())


async def _lock_account(session: AsyncSession, account_id: str) -> None:
    """Writers of one account's traffic queue here (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already
    serialises writers), so two sends of one hour cannot interleave their delete and insert."""
    found = await session.scalar(select(AccountRow.id).where(AccountRow.id == account_id).with_for_update())
    if found is None:
        raise NotFound(f"account {account_id!r}")


def _between(account_id: str, since: datetime, until: datetime) -> tuple[ColumnElement[bool], ...]:
    return (T.account_id == account_id, T.hour >= since, T.hour < until)


def _row(account_id: str, figure: TrafficHour, received_at: datetime) -> dict[str, object]:
    return {
        "account_id": account_id,
        **figure.model_dump(),
        "line_type": figure.line_type or "",
        "received_at": received_at,
    }


def _figure(row: TrafficHourRow) -> TrafficHour:
    return TrafficHour.model_validate(
        {name: getattr(row, name) for name in TrafficHour.model_fields} | {"line_type": row.line_type or None}
    )
