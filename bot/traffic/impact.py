"""Rate-change impact: what a newly imported rate table would change in an account's bill.

The projection is the account's traffic of the 30 days before the import, repriced: for each rate entry and
rate kind it went to (landline or mobile minutes, SMS messages), the quantity times the new rate less the
old one, where the old rate is the entry's rate of that kind in the table that was current before the
import and the new rate is the imported table's. The last 30 days stand for a month, as they are: an account
with only a week of traffic is projected from that week, not scaled up.

Traffic the projection cannot reprice is kept and listed, never dropped: traffic to entries the new table
no longer has (`removed`), to entries the previous table did not have (`not_in_previous`: priced by an older
version), and traffic no table priced (`unpriced`: premium-rate, satellite or unlisted numbers, or hours
before any table). Money is `Decimal` and exact: a quantity (at most 4 places) times a rate difference (at
most 4) has at most 8 places; rounding is for display only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final, Literal

from store import Store
from store.domain.rates import RateImport, RateRow
from store.domain.traffic import DestinationSpend, PricedAs, TrafficKind

WINDOW: Final = timedelta(days=30)
"""The traffic a projection is made from: this long before the import."""

NotProjectedReason = Literal["removed", "not_in_previous", "unpriced"]


@dataclass(frozen=True, slots=True)
class ComparedTables:
    """The table current before the import and the imported one, each by ISO code (its entries' identity)."""

    old: Mapping[str, RateRow]
    new: Mapping[str, RateRow]

    @classmethod
    def of(cls, old_rows: Iterable[RateRow], new_rows: Iterable[RateRow]) -> ComparedTables:
        return cls({row.iso_code: row for row in old_rows}, {row.iso_code: row for row in new_rows})


@dataclass(frozen=True, slots=True)
class DestinationImpact:
    """One entry's traffic of one rate kind in the window, and the rates it is projected at."""

    iso_code: str | None
    place: str
    """The destination's name: the imported table's, else the previous table's, else as the traffic has it."""
    kind: TrafficKind
    priced_as: PricedAs | None
    quantity: Decimal
    """Minutes (voice) or messages (SMS)."""
    cost: Decimal
    """What that traffic cost in the window, at the rates it was priced at."""
    old_rate: Decimal | None = None
    new_rate: Decimal | None = None
    reason: NotProjectedReason | None = None
    """Why it is not in the projection (None: it is)."""

    @property
    def change(self) -> Decimal:
        """The projected change for the month: quantity × (new − old); 0 when not projected."""
        if self.old_rate is None or self.new_rate is None:
            return Decimal(0)
        return self.quantity * (self.new_rate - self.old_rate)


@dataclass(frozen=True, slots=True)
class Impact:
    """An account's projected monthly change from one import, with what it is made of."""

    changed: tuple[DestinationImpact, ...] = ()
    """Entries whose rate moved, the largest change (either way) first."""
    unchanged: tuple[DestinationImpact, ...] = ()
    """Entries priced alike by both tables."""
    not_projected: tuple[DestinationImpact, ...] = ()
    """Traffic the projection cannot reprice: removed entries first, then the rest; the costliest first."""
    total: Decimal = field(default=Decimal(0))
    """The sum of the changes, exact."""

    @property
    def has_traffic(self) -> bool:
        return bool(self.changed or self.unchanged or self.not_projected)

    @property
    def removed(self) -> tuple[DestinationImpact, ...]:
        return tuple(d for d in self.not_projected if d.reason == "removed")

    @property
    def mostly(self) -> DestinationImpact | None:
        """The largest contributor in the total's direction (None when the changes cancel out or there are
        none): a rise of 40 here and a fall of 50 there is "mostly" the fall."""
        if not self.total:
            return None
        return next((d for d in self.changed if (d.change > 0) == (self.total > 0)), None)


def project(spends: Sequence[DestinationSpend], tables: ComparedTables) -> Impact:
    """The impact of moving from `tables.old` to `tables.new` on traffic `spends` (pure)."""
    changed: list[DestinationImpact] = []
    unchanged: list[DestinationImpact] = []
    not_projected: list[DestinationImpact] = []
    for spend in spends:
        priced = spend.quantity - spend.unpriced_quantity
        if spend.unpriced_quantity:
            not_projected.append(_impact(spend, spend.unpriced_quantity, Decimal(0), reason="unpriced"))
        if not priced:
            continue
        old, new = tables.old.get(spend.iso_code or ""), tables.new.get(spend.iso_code or "")
        if spend.priced_as is None or (old is None and new is None):
            # Priced by some older table, by neither of these two: the import changes nothing for it.
            not_projected.append(_impact(spend, priced, spend.cost, reason="not_in_previous"))
        elif new is None:
            assert old is not None
            not_projected.append(
                _impact(
                    spend,
                    priced,
                    spend.cost,
                    old.destination,
                    old_rate=old.rate(spend.priced_as),
                    reason="removed",
                )
            )
        elif old is None:
            not_projected.append(
                _impact(
                    spend,
                    priced,
                    spend.cost,
                    new.destination,
                    new_rate=new.rate(spend.priced_as),
                    reason="not_in_previous",
                )
            )
        else:
            impact = _impact(
                spend,
                priced,
                spend.cost,
                new.destination,
                old_rate=old.rate(spend.priced_as),
                new_rate=new.rate(spend.priced_as),
            )
            (changed if impact.change else unchanged).append(impact)
    return Impact(
        changed=tuple(sorted(changed, key=lambda d: (-abs(d.change), *_order(d)))),
        unchanged=tuple(sorted(unchanged, key=_order)),
        not_projected=tuple(
            sorted(not_projected, key=lambda d: (d.reason != "removed", -d.cost, -d.quantity, *_order(d)))
        ),
        total=sum((d.change for d in changed), Decimal(0)),
    )


async def compared_tables(store: Store, imported: RateImport) -> ComparedTables:
    """The two tables `imported` moved between (none before a first import)."""
    new = await store.rates.table(imported.table.version)
    old = await store.rates.table(imported.previous.version) if imported.previous is not None else None
    return ComparedTables.of(old.rows if old is not None else (), new.rows if new is not None else ())


async def rate_change_impact(
    store: Store,
    account_id: str,
    imported: RateImport,
    now: datetime,
    *,
    tables: ComparedTables | None = None,
) -> Impact:
    """The account's projected monthly change from `imported`, from its traffic of the 30 days to `now`.

    `tables` saves reading the two tables again when several accounts are projected for one import.
    """
    spends = await store.traffic.by_destination(account_id, now - WINDOW, now)
    if not spends:
        return Impact()
    return project(spends, tables if tables is not None else await compared_tables(store, imported))


def _impact(
    spend: DestinationSpend,
    quantity: Decimal,
    cost: Decimal,
    name: str | None = None,
    *,
    old_rate: Decimal | None = None,
    new_rate: Decimal | None = None,
    reason: NotProjectedReason | None = None,
) -> DestinationImpact:
    return DestinationImpact(
        iso_code=spend.iso_code,
        place=name or spend.place,
        kind=spend.kind,
        priced_as=spend.priced_as if reason != "unpriced" else None,
        quantity=quantity,
        cost=cost,
        old_rate=old_rate,
        new_rate=new_rate,
        reason=reason,
    )


def _order(impact: DestinationImpact) -> tuple[str, str, str]:
    return (impact.place.casefold(), impact.kind, impact.priced_as or "")
