"""Traffic by destination: hourly aggregates per account, replaced an hour at a time, and what they cost."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from store.clock import utcnow
from store.coltypes import among, total
from store.db import Database
from store.domain.bounds import PLACES
from store.domain.traffic import (
    COST_PLACES,
    DestinationSpend,
    TrafficHour,
    TrafficKind,
    TrafficSeries,
    TrafficWrite,
)
from store.errors import NotFound
from store.tables import AccountRow, TrafficHourRow, TrafficSeriesRow

T = TrafficHourRow
S = TrafficSeriesRow
ONE_DAY = timedelta(days=1)

SERIES_DAYS = 35
"""Days of history a series keeps (the spike baseline looks back 28 days before its window)."""


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
            await _refresh_series(session, account_id, sorted({hour.date() for hour in hours}))
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

    async def series(self, account_id: str, areas: Collection[str]) -> list[TrafficSeries]:
        """The daily history of the account's `areas`, each kind (rows, not ORM objects: read on ingests)."""
        async with self._db.session(read_only=True) as session:
            found = await session.execute(
                select(S.area, S.kind, S.place, S.first_day, S.days).where(
                    S.account_id == account_id, among(S.area, areas)
                )
            )
            return [_series(*row) for row in found]

    async def history_start(self, account_id: str) -> date | None:
        """The first day of the account's traffic (None before any)."""
        async with self._db.session(read_only=True) as session:
            return await session.scalar(select(func.min(S.first_day)).where(S.account_id == account_id))

    async def hours(self, account_id: str, since: datetime, until: datetime) -> list[TrafficHour]:
        """The figures stored with an hour in [since, until), by hour."""
        columns = [getattr(T, name) for name in TrafficHour.model_fields]
        async with self._db.session(read_only=True) as session:
            rows = await session.execute(
                select(*columns)
                .where(*_between(account_id, since, until))
                .order_by(T.hour, T.destination, T.kind)
            )
            return [_figure(dict(row._mapping)) for row in rows]

    async def by_destination(
        self, account_id: str, since: datetime, until: datetime
    ) -> list[DestinationSpend]:
        """The traffic with an hour in [since, until) per area (its rate entry, or its country calling
        code), kind and rate kind applied."""
        entry = T.area
        unpriced = case((T.cost.is_(None), T.quantity), else_=literal(Decimal(0), T.quantity.type))
        # Grouped by rate too, so each group's rate is one value; merged below, the newest rate kept.
        statement = (
            select(
                entry,
                T.iso_code,
                func.min(func.coalesce(T.place, T.area)),
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
                    area=key,
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


def _figure(row: Mapping[str, Any]) -> TrafficHour:
    """Read back as stored (checked when written): constructed, not validated again, for the spike
    judge reads every area's window on each ingest."""
    return TrafficHour.model_construct(**{**row, "line_type": row["line_type"] or None})


async def _refresh_series(session: AsyncSession, account_id: str, days: Sequence[date]) -> None:
    """Each area's daily totals for `days`, recounted from the hours now stored (so a re-sent hour
    corrects them), in the account's series rows; days older than `SERIES_DAYS` before the newest go."""
    on_days = or_(*(and_(T.hour >= _midnight(day), T.hour < _midnight(day + ONE_DAY)) for day in days))
    found = await session.execute(
        select(T.area, T.kind, T.hour, T.quantity, func.coalesce(T.place, T.area)).where(
            T.account_id == account_id, on_days
        )
    )
    totals: dict[tuple[str, str], dict[date, Decimal]] = {}
    places: dict[tuple[str, str], str] = {}
    for area, kind, hour, quantity, place in found:
        daily = totals.setdefault((area, kind), {})
        daily[hour.date()] = daily.get(hour.date(), Decimal(0)) + quantity
        places[(area, kind)] = place
    series = {
        (row.area, row.kind): row
        for row in await session.scalars(select(S).where(S.account_id == account_id))
    }
    for key in totals.keys() | series.keys():
        _merge(session, account_id, key, series.get(key), totals.get(key, {}), days, places.get(key))


def _merge(
    session: AsyncSession,
    account_id: str,
    key: tuple[str, str],
    row: TrafficSeriesRow | None,
    totals: dict[date, Decimal],
    days: Sequence[date],
    place: str | None,
) -> None:
    history = dict(row.days) if row is not None else {}
    for day in days:
        if totals.get(day):
            history[day.isoformat()] = format(totals[day], "f")
        else:
            history.pop(day.isoformat(), None)
    if history:
        oldest = (date.fromisoformat(max(history)) - timedelta(days=SERIES_DAYS)).isoformat()
        history = {day: quantity for day, quantity in history.items() if day >= oldest}
    first = min((day for day in days if totals.get(day)), default=None)
    if row is None:
        if history and first is not None:
            area, kind = key
            session.add(
                S(
                    account_id=account_id,
                    area=area,
                    kind=kind,
                    place=place or area,
                    first_day=first,
                    days=history,
                )
            )
        return
    row.days = history
    if first is not None:
        row.first_day = min(row.first_day, first)
    if place is not None:
        row.place = place


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _series(area: str, kind: TrafficKind, place: str, first_day: date, days: dict[str, str]) -> TrafficSeries:
    """Constructed from what `_merge` wrote, as `_figure` is."""
    return TrafficSeries.model_construct(
        area=area,
        kind=kind,
        place=place,
        first_day=first_day,
        days={date.fromisoformat(day): Decimal(quantity) for day, quantity in days.items()},
    )
