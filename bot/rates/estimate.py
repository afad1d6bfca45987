"""Cost estimates: "<query> 12 min", "<query> 1h 5m", "<query> 90s", "<query> 300 sms".

Calls are billed per STARTED minute (90 s → 2 minutes; 0 s → nothing). Arithmetic is exact `Decimal`: a rate
has at most 4 decimal places and is multiplied by a whole number, so the cost is exact too. `format_usd`
rounds (half-up) only when displaying, never inside the computation.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from bot.rates.results import LineType
from store.domain.rates import RateRow

_UNIT_SECONDS: Final = {"h": 3600, "m": 60, "s": 1}
_WHOLE = r"(?:[0-9]{1,3}(?:,[0-9]{3}){1,2}|[0-9]{1,7})"
"""Up to 9,999,999, with or without thousands separators."""
_NUMBER = rf"{_WHOLE}(?:\.[0-9]{{1,4}})?"
_DURATION_UNIT = r"(?:h|hrs?|hours?|m|mins?|minutes?|s|secs?|seconds?)"
_SMS_UNIT = r"(?:sms(?:es)?|messages?|msgs?|texts?)"
_DURATION_PART = rf"({_NUMBER})\s*({_DURATION_UNIT})\.?"
_DURATION_TAIL = re.compile(rf"(?:^|\s)((?:{_DURATION_PART}\s*)+)$", re.IGNORECASE)
_DURATION_PARTS = re.compile(_DURATION_PART, re.IGNORECASE)
_SMS_TAIL = re.compile(rf"(?:^|\s)({_WHOLE})\s*{_SMS_UNIT}$", re.IGNORECASE)
_ANY_AMOUNT_TAIL = re.compile(
    rf"(?:^|\s)([0-9][0-9.,]*\s*(?:{_DURATION_UNIT}|{_SMS_UNIT})\.?)$", re.IGNORECASE
)
"""An amount with a unit in any form, to tell the user when it is not one we read."""
AMOUNTS_READ: Final = (
    "minutes, hours or seconds up to 9,999,999 (4 decimal places), or whole SMS up to 9,999,999"
)
_FILLER_TAIL = re.compile(r"(?:\s+(?:for|x|×|@))+$|[\s,:;]+$", re.IGNORECASE)
_MAX_TEXT: Final = 300  # a rate query is never longer; also keeps regex work bounded


@dataclass(frozen=True, slots=True)
class CallDuration:
    """A call length in whole seconds (fractions round up: a started second is a started minute anyway)."""

    seconds: int

    @property
    def started_minutes(self) -> int:
        """Billable minutes: every started minute counts."""
        return math.ceil(self.seconds / 60)

    def describe(self) -> str:
        """E.g. "12 min 1 s (13 started minutes)", so the user sees why the count is higher."""
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        parts = [
            f"{value} {unit}" for value, unit in ((hours, "h"), (minutes, "min"), (seconds, "s")) if value
        ]
        billed = self.started_minutes
        return f"{' '.join(parts) or '0 s'} ({billed} started minute{'s' if billed != 1 else ''})"


@dataclass(frozen=True, slots=True)
class SmsCount:
    """A number of SMS messages, each billed at the per-message rate."""

    count: int

    def describe(self) -> str:
        """E.g. "300 SMS"."""
        return f"{self.count} SMS"


Quantity = CallDuration | SmsCount
CostKind = Literal["landline", "mobile", "sms", "voip"]


@dataclass(frozen=True, slots=True)
class CostLine:
    """One priced line of an estimate: `units` × `unit_rate` = `cost`, exact."""

    kind: CostKind
    units: int
    unit_rate: Decimal
    cost: Decimal


@dataclass(frozen=True, slots=True)
class Estimate:
    """Cost of `quantity` to `row`'s destination, one line per applicable rate."""

    row: RateRow
    quantity: Quantity
    lines: tuple[CostLine, ...]


def _duration(text: str) -> CallDuration:
    """Sum the "1h 5m 30s" parts; fractional parts ("1.5 min") round up to the next whole second."""
    total = Decimal(0)
    for amount, unit in _DURATION_PARTS.findall(text):
        total += Decimal(amount.replace(",", "")) * _UNIT_SECONDS[unit[0].lower()]
    return CallDuration(math.ceil(total))


def _strip_filler(text: str) -> str:
    """Drop a trailing "for", "x", comma… so "UK for 12 min" queries "UK"."""
    return _FILLER_TAIL.sub("", text).strip()


def parse_rate_query(text: str) -> tuple[str, Quantity | None]:
    """Split a trailing duration or SMS count off a `/rates` query.

    A bare trailing number is NOT a quantity (it may be the end of a phone number); a unit is required.
    Returns the remaining query (possibly empty) and the quantity, or the whole text and None.
    """
    text = text[:_MAX_TEXT].strip()
    sms = _SMS_TAIL.search(text)
    if sms is not None:
        return _strip_filler(text[: sms.start()]), SmsCount(int(sms.group(1).replace(",", "")))
    duration = _DURATION_TAIL.search(text)
    if duration is not None:
        return _strip_filler(text[: duration.start()]), _duration(duration.group(1))
    return text, None


def split_unread_amount(query: str) -> tuple[str, str | None]:
    """A query `parse_rate_query` gave back whole, less a trailing amount with a unit that it could not
    read ("10000000 min", "2.5 sms"), and that amount; else the query and None. So "Germany 10000000 min"
    looks up Germany and says why there is no estimate, rather than looking up all of it."""
    unread = _ANY_AMOUNT_TAIL.search(query)
    if unread is None:
        return query, None
    return _strip_filler(query[: unread.start()]), unread.group(1)


def estimate(
    row: RateRow, quantity: Quantity, line_type: LineType | None = None, voip_per_min: Decimal | None = None
) -> Estimate:
    """Price `quantity` for `row`.

    Calls: the landline and/or mobile line per `line_type` (None or "either" → both, because the number's
    type is unknown or the numbering plan cannot tell), plus the account's fixed VoIP rate if given.
    SMS: one line at the per-message rate.
    """
    if isinstance(quantity, SmsCount):
        lines = [_line("sms", quantity.count, row.sms_per_message)]
    else:
        minutes = quantity.started_minutes
        kinds: tuple[Literal["landline", "mobile"], ...] = ("landline", "mobile")
        if line_type in ("landline", "mobile"):
            kinds = (line_type,)
        lines = [_line(kind, minutes, row.rate(kind)) for kind in kinds]
        if voip_per_min is not None:
            lines.append(_line("voip", minutes, voip_per_min))
    return Estimate(row, quantity, tuple(lines))


def _line(kind: CostKind, units: int, rate: Decimal) -> CostLine:
    return CostLine(kind, units, rate, rate * units)


def format_usd(amount: Decimal, places: int = 4) -> str:
    """Display form, e.g. "$0.1599": rounded half-up to `places` for the eye only."""
    return f"${amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,}"
