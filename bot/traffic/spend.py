"""Where the money goes: this period's traffic by destination, against the same days of the last period.

The comparison is like for like: this period so far (its start to now) against the same span from the
start of the previous period, taken as the period's own length before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from bot.alerts.rules import midnight
from store import Store
from store.domain.plan import Subscription
from store.domain.traffic import DestinationSpend

TOP: Final = 5
"""Destinations shown by cost, and by volume of each kind."""

SpendKey = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime
    until: datetime


@dataclass(frozen=True, slots=True)
class Compared:
    """One destination's spend this period, and the same days' last period (None: no traffic then)."""

    now: DestinationSpend
    before: DestinationSpend | None


@dataclass(frozen=True, slots=True)
class SpendReport:
    window: Window
    total: Decimal
    total_before: Decimal
    by_cost: tuple[Compared, ...]
    by_volume: dict[str, tuple[Compared, ...]]
    """Per kind ("voice", "sms"), the largest quantities."""
    unpriced: tuple[DestinationSpend, ...]

    @property
    def is_empty(self) -> bool:
        return not self.by_cost and not self.unpriced and not any(self.by_volume.values())


def windows(subscription: Subscription, now: datetime) -> tuple[Window, Window]:
    """This period so far, and the same span of the previous one."""
    start = midnight(subscription.period_start)
    length = midnight(subscription.next_payment_date) - start
    elapsed = min(max(now - start, timedelta(0)), length)
    return Window(start, start + elapsed), Window(start - length, start - length + elapsed)


async def spend_report(
    store: Store, account_id: str, subscription: Subscription, now: datetime
) -> SpendReport:
    current, previous = windows(subscription, now)
    spent = await store.traffic.by_destination(account_id, current.since, current.until)
    before = {
        _key(s): s for s in await store.traffic.by_destination(account_id, previous.since, previous.until)
    }
    return report(current, spent, before)


def report(
    window: Window, spent: Sequence[DestinationSpend], before: dict[SpendKey, DestinationSpend]
) -> SpendReport:
    compared = [Compared(s, before.get(_key(s))) for s in spent]
    priced = [c for c in compared if c.now.cost]
    by_cost = sorted(priced, key=lambda c: (-c.now.cost, c.now.place))[:TOP]
    by_volume = {
        kind: tuple(
            sorted((c for c in compared if c.now.kind == kind), key=lambda c: (-c.now.quantity, c.now.place))[
                :TOP
            ]
        )
        for kind in ("voice", "sms")
    }
    return SpendReport(
        window=window,
        total=sum((s.cost for s in spent), Decimal(0)),
        total_before=sum((s.cost for s in before.values()), Decimal(0)),
        by_cost=tuple(by_cost),
        by_volume=by_volume,
        unpriced=tuple(s for s in spent if s.unpriced_quantity),
    )


def _key(spend: DestinationSpend) -> SpendKey:
    return (spend.area, spend.kind, spend.priced_as)
