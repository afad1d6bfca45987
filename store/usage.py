"""Usage readings: a time series per meter; the latest reading is the figure the plan shows.

Meters are the allowances (`voice_minutes`, `video_minutes`, `storage_gb`), `staff_licences` (the
subscription's assigned licences) and `feature:<key>` (a feature's `used`). A reading is an absolute
value for the current period: every distinct reading is kept, and a figure moves only to a reading at
least as new as the one it shows, so duplicates and readings that arrive out of order are harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.alert_marks import mark_due
from store.clock import utcnow
from store.db import Database
from store.domain.bounds import EARLIEST, LATEST, is_sane_moment, is_sane_number
from store.domain.plan import FEATURE_METER_PREFIX, STAFF_LICENCES, FeatureKey, Meter, feature_meter
from store.tables import AccountRow, AllowanceRow, FeatureRow, SubscriptionRow, UsageReadingRow

# Readings are looked up for duplicates in chunks, well under every driver's bound-parameter limit.
_LOOKUP_CHUNK = 2000


ALL_METERS: tuple[str, ...] = (
    *(m.value for m in Meter),
    STAFF_LICENCES,
    *(FEATURE_METER_PREFIX + k.value for k in FeatureKey),
)
"""Every meter a reading may name."""


def all_meters() -> list[str]:
    return list(ALL_METERS)


def is_whole_number_meter(meter: str) -> bool:
    """Licences and feature usage are counts; allowances may be fractional (GB)."""
    return meter == STAFF_LICENCES or meter.startswith(FEATURE_METER_PREFIX)


class Reading(BaseModel):
    model_config = ConfigDict(frozen=True)

    meter: str
    used: Decimal
    at: datetime


class RecordResult(BaseModel):
    """What `record` did: readings new to the history, and how many it already held."""

    model_config = ConfigDict(frozen=True)

    recorded: int
    duplicates: int


class UsageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, account_id: str, readings: Iterable[Reading], *, now: datetime | None = None
    ) -> RecordResult:
        """Keep every distinct reading; a figure moves only to a reading at least as new as the one it shows.

        The account's "data as of" time moves forward to the newest reading that moved a figure.
        """
        now = now or utcnow()
        readings = list(readings)
        async with self._db.session() as session:
            figures = await _Figures.load(session, account_id, {r.meter for r in readings})
            seen = await _stored(session, account_id, readings)
            new: list[dict[str, object]] = []
            for reading in readings:
                identity = (reading.meter, reading.at, reading.used)
                if identity in seen:
                    continue
                seen.add(identity)
                new.append(
                    {
                        "account_id": account_id,
                        "meter": reading.meter,
                        "used": reading.used,
                        "at": reading.at,
                        "received_at": now,
                    }
                )
                figures.apply(reading)
            if new:  # one multi-row INSERT: far faster than an ORM object per reading
                await session.execute(insert(UsageReadingRow), new)
                await mark_due(session, [account_id], now)
            return RecordResult(recorded=len(new), duplicates=len(readings) - len(new))

    async def history(self, account_id: str, meter: str, *, since: datetime) -> list[Reading]:
        """The meter's readings from `since` on, oldest first.

        Readings dated outside the window of sane moments (stored before the bounds were enforced:
        ``0001-01-01``, ``-infinity`` on PostgreSQL) are left out, as are figures that are not finite, so
        no chart or forecast is drawn through them."""
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(UsageReadingRow)
                .where(
                    UsageReadingRow.account_id == account_id,
                    UsageReadingRow.meter == meter,
                    UsageReadingRow.at >= max(since, EARLIEST),
                    UsageReadingRow.at < LATEST,
                )
                .order_by(UsageReadingRow.at, UsageReadingRow.id)
            )
            return [
                Reading(meter=r.meter, used=r.used, at=r.at)
                for r in rows
                if is_sane_moment(r.at) and is_sane_number(r.used)
            ]

    async def clear(self, account_id: str) -> None:
        async with self._db.session() as session:
            await session.execute(delete(UsageReadingRow).where(UsageReadingRow.account_id == account_id))


async def _stored(
    session: AsyncSession, account_id: str, readings: Sequence[Reading]
) -> set[tuple[str, datetime, Decimal]]:
    """The (meter, at, used) of stored readings that share a meter and a time with one of `readings`."""
    meters = sorted({r.meter for r in readings})
    moments = sorted({r.at for r in readings})
    found: set[tuple[str, datetime, Decimal]] = set()
    for start in range(0, len(moments), _LOOKUP_CHUNK):
        rows = await session.execute(
            select(UsageReadingRow.meter, UsageReadingRow.at, UsageReadingRow.used).where(
                UsageReadingRow.account_id == account_id,
                UsageReadingRow.meter.in_(meters),
                UsageReadingRow.at.in_(moments[start : start + _LOOKUP_CHUNK]),
            )
        )
        found.update((meter, at, used) for meter, at, used in rows)
    return found


class _Figures:
    """The rows a batch of readings may move, loaded once per batch."""

    def __init__(
        self,
        account: AccountRow | None,
        allowances: dict[str, AllowanceRow],
        features: dict[str, FeatureRow],
        subscription: SubscriptionRow | None,
    ) -> None:
        self.account = account
        self.allowances = allowances
        self.features = features
        self.subscription = subscription

    @classmethod
    async def load(cls, session: AsyncSession, account_id: str, meters: set[str]) -> _Figures:
        allowances = {
            row.meter: row
            for row in await session.scalars(
                select(AllowanceRow).where(AllowanceRow.account_id == account_id)
            )
        }
        features: dict[str, FeatureRow] = {}
        if any(m.startswith(FEATURE_METER_PREFIX) for m in meters):
            features = {
                feature_meter(FeatureKey(row.key)): row
                for row in await session.scalars(
                    select(FeatureRow).where(FeatureRow.account_id == account_id)
                )
            }
        subscription = None
        if STAFF_LICENCES in meters:
            subscription = await session.get(SubscriptionRow, account_id)
        return cls(await session.get(AccountRow, account_id), allowances, features, subscription)

    def apply(self, reading: Reading) -> None:
        """Move the figure the reading is for, if the reading is at least as new as the figure."""
        meter, at = reading.meter, reading.at
        if (allowance := self.allowances.get(meter)) is not None and _newer(at, allowance.used_at):
            allowance.used, allowance.used_at = reading.used, at
        elif (feature := self.features.get(meter)) is not None and _newer(at, feature.used_at):
            feature.used, feature.used_at = int(reading.used), at
        elif meter == STAFF_LICENCES and (sub := self.subscription) and _newer(at, sub.staff_licences_at):
            sub.staff_licences_assigned, sub.staff_licences_at = int(reading.used), at
        else:
            return
        self._moved(at)

    def _moved(self, at: datetime) -> None:
        if self.account is not None and at > self.account.data_as_of:
            self.account.data_as_of = at


def _newer(at: datetime, shown_at: datetime | None) -> bool:
    return shown_at is None or at >= shown_at
