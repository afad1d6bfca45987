"""Usage readings: a time series per meter; the latest reading is the allowance's `used`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select

from store.clock import utcnow
from store.db import Database
from store.tables import AllowanceRow, UsageReadingRow


class Reading(BaseModel):
    model_config = ConfigDict(frozen=True)

    meter: str
    used: Decimal
    at: datetime


class UsageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, account_id: str, readings: Iterable[Reading], *, now: datetime | None = None
    ) -> None:
        """Keep every reading; an allowance moves only to a reading newer than the one it shows."""
        now = now or utcnow()
        async with self._db.session() as session:
            allowances = {
                row.meter: row
                for row in await session.scalars(
                    select(AllowanceRow).where(AllowanceRow.account_id == account_id)
                )
            }
            for reading in readings:
                session.add(
                    UsageReadingRow(
                        account_id=account_id,
                        meter=reading.meter,
                        used=reading.used,
                        at=reading.at,
                        received_at=now,
                    )
                )
                allowance = allowances.get(reading.meter)
                if allowance is not None and (allowance.used_at is None or reading.at >= allowance.used_at):
                    allowance.used = reading.used
                    allowance.used_at = reading.at

    async def history(self, account_id: str, meter: str, *, since: datetime) -> list[Reading]:
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(UsageReadingRow)
                .where(
                    UsageReadingRow.account_id == account_id,
                    UsageReadingRow.meter == meter,
                    UsageReadingRow.at >= since,
                )
                .order_by(UsageReadingRow.at, UsageReadingRow.id)
            )
            return [Reading(meter=r.meter, used=r.used, at=r.at) for r in rows]

    async def clear(self, account_id: str) -> None:
        async with self._db.session() as session:
            await session.execute(delete(UsageReadingRow).where(UsageReadingRow.account_id == account_id))
