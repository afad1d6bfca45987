"""What the weekly digest says changed in its week, from the store: usage added per allowance (from the
readings), features whose status changed, upgrade requests opened, acknowledged or done, and rate table
versions that took effect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from store import Store
from store.domain.digests import FeatureStatusSince
from store.domain.plan import Meter, PlanSnapshot
from store.domain.rates import RateChanges, RateTableInfo, diff_tables
from store.domain.upgrades import UpgradeRequest
from store.usage import Reading

BASELINE_LOOKBACK: Final = timedelta(days=7)
"""How far before the week a reading is looked for to count the week's first increase from."""


@dataclass(frozen=True)
class RateUpdate:
    """A rate table version that took effect in the week, and what it changed against the one before."""

    table: RateTableInfo
    changes: RateChanges


@dataclass(frozen=True)
class WeekChanges:
    usage_added: dict[Meter, Decimal]
    """Per allowance with readings in the week: how much was used in it."""
    features: Sequence[FeatureStatusSince]
    upgrades: Sequence[UpgradeRequest]
    rates: Sequence[RateUpdate]

    @property
    def is_quiet(self) -> bool:
        return not (any(self.usage_added.values()) or self.features or self.upgrades or self.rates)


def usage_added(readings: Sequence[Reading], since: datetime) -> Decimal | None:
    """What was used from `since` on, from a meter's readings (oldest first, some from before `since`):
    the sum of the rises between consecutive readings, a drop being a new period starting from zero.
    None when no reading falls in the week."""
    before = [r for r in readings if r.at < since]
    during = [r for r in readings if r.at >= since]
    if not during:
        return None
    previous = before[-1].used if before else during[0].used
    added = Decimal(0)
    for reading in during:
        added += reading.used - previous if reading.used >= previous else reading.used
        previous = reading.used
    return added


async def week_changes(
    store: Store, plan: PlanSnapshot, zone: ZoneInfo, *, since: datetime, until: datetime
) -> WeekChanges:
    account_id = plan.account.id
    added: dict[Meter, Decimal] = {}
    for allowance in plan.allowances:
        history = await store.usage.history(
            account_id, allowance.meter.value, since=since - BASELINE_LOOKBACK
        )
        amount = usage_added([r for r in history if r.at < until], since)
        if amount is not None:
            added[allowance.meter] = amount
    return WeekChanges(
        usage_added=added,
        features=await store.digests.feature_changes(account_id, since=since, until=until),
        upgrades=await store.digests.upgrade_activity(account_id, since=since, until=until),
        rates=await rate_updates(store, zone, since=since, until=until),
    )


async def rate_updates(store: Store, zone: ZoneInfo, *, since: datetime, until: datetime) -> list[RateUpdate]:
    """Rate table versions effective on a local date of the week, oldest first, each against the one
    before it (the same comparison the import announcement makes)."""
    first, last = since.astimezone(zone).date(), until.astimezone(zone).date()
    updates: list[RateUpdate] = []
    for info in reversed(await store.rates.versions()):
        if not first <= info.effective_date < last:
            continue
        table = await store.rates.table(info.version)
        previous = await store.rates.table(info.version - 1) if info.version > 1 else None
        assert table is not None
        changes = diff_tables(previous.rows if previous is not None else (), table.rows)
        updates.append(RateUpdate(table=info, changes=changes))
    return updates
