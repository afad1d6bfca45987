"""Pricing traffic: each hour by the rate table in force then, each destination by its rate table entry.

The table in force at an hour is the newest version whose effective date had come by that hour's date
(UTC). A destination is a dial prefix (``+44``) or an E.164 number, matched as `/rates` matches it: the
longest dial code, phonenumbers' region for a full number. Voice is priced at the line type sent; without
one, at the number's own type when it is a full mobile or landline number, else at the landline rate. SMS
is priced per message. Traffic the table cannot price (no table in force, no entry, or a kind of number it
does not price: premium-rate, toll-free…) is stored with no cost and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.rates.cache import LoadedTable, RateCache
from bot.rates.results import DestinationMatch, PhoneMatch, UnpricedNumber
from bot.traffic.high_risk import is_high_risk
from store.domain.rates import RateRow, RateTableInfo
from store.domain.traffic import LineTypeIn, PricedAs, TrafficHour, TrafficKind

if TYPE_CHECKING:
    from bot.rates.matcher import RateIndex


@dataclass(frozen=True, slots=True)
class Figure:
    """One hour of traffic as the platform sent it (already validated)."""

    hour: datetime
    destination: str
    kind: TrafficKind
    line_type: LineTypeIn | None
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class _Entry:
    row: RateRow | None
    line_type: LineTypeIn | None
    """The number's own line type, when the destination is a full number that has one."""
    unpriced: str | None


def version_in_force(versions: Sequence[RateTableInfo], hour: datetime) -> int | None:
    """The newest version effective by `hour`'s date; None when none was."""
    effective = [info.version for info in versions if info.effective_date <= hour.date()]
    return max(effective, default=None)


async def price_figures(figures: Sequence[Figure], cache: RateCache) -> list[TrafficHour]:
    """Each figure priced by the table in force at its hour."""
    versions = await cache.store.rates.versions()
    in_force = {hour: version_in_force(versions, hour) for hour in {figure.hour for figure in figures}}
    tables: dict[int, LoadedTable | None] = {}
    for version in set(in_force.values()) - {None}:
        assert version is not None
        tables[version] = await cache.version(version)
    entries: dict[tuple[int, str], _Entry] = {}
    priced = []
    for figure in figures:
        version = in_force[figure.hour]
        table = tables.get(version) if version is not None else None
        if table is None:
            priced.append(_unpriced(figure, "no_table"))
            continue
        key = (table.info.version, figure.destination)
        if (entry := entries.get(key)) is None:
            entry = entries[key] = _entry(table.index, figure.destination)
        priced.append(_priced(figure, entry, table.info.version))
    return priced


def _entry(index: RateIndex, destination: str) -> _Entry:
    match = index.lookup(destination)
    if isinstance(match, DestinationMatch):
        return _Entry(match.row, None, None)
    if isinstance(match, PhoneMatch):
        return _Entry(match.row, None if match.line_type == "either" else match.line_type, None)
    if isinstance(match, UnpricedNumber):
        return _Entry(match.row, None, match.kind)
    return _Entry(None, None, "no_rate")


def _priced(figure: Figure, entry: _Entry, version: int) -> TrafficHour:
    row = entry.row
    if row is None or entry.unpriced is not None:
        return _unpriced(figure, entry.unpriced or "no_rate", row, version)
    priced_as: PricedAs = "sms" if figure.kind == "sms" else figure.line_type or entry.line_type or "landline"
    rate = row.rate(priced_as)
    return TrafficHour(
        **_sent(figure),
        area=row.iso_code,
        high_risk=is_high_risk(figure.destination, None),
        iso_code=row.iso_code,
        place=row.destination,
        rate_version=version,
        priced_as=priced_as,
        rate=rate,
        cost=figure.quantity * rate,
    )


def _unpriced(
    figure: Figure, reason: str, row: RateRow | None = None, version: int | None = None
) -> TrafficHour:
    return TrafficHour(
        **_sent(figure),
        area=row.iso_code if row else country_code(figure.destination),
        high_risk=is_high_risk(figure.destination, reason),
        iso_code=row.iso_code if row else None,
        place=row.destination if row else None,
        rate_version=version,
        unpriced=reason,
    )


def country_code(destination: str) -> str:
    """``+`` and the country calling code `destination` begins with (codes are prefix-free: one fits)."""
    import phonenumbers  # loaded with the first rate index anyway; not at start-up

    digits = destination.removeprefix("+")
    for length in (1, 2, 3):
        if phonenumbers.region_codes_for_country_code(int(digits[:length] or 0)):
            return "+" + digits[:length]
    return "+" + digits[:3]


def _sent(figure: Figure) -> dict[str, object]:
    return {
        "hour": figure.hour,
        "destination": figure.destination,
        "kind": figure.kind,
        "line_type": figure.line_type,
        "quantity": figure.quantity,
    }
