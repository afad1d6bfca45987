"""What a rate lookup returns: the result dataclasses (`DestinationMatch`, `PhoneMatch`, `UnpricedNumber`,
`Ambiguous`, `NoMatch`, `RatePage`), their union `LookupResult`, and the literal types they use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from store.domain.rates import RateRow

MatchedBy = Literal["name", "iso", "dial_code", "fuzzy"]
LineType = Literal["mobile", "landline", "either"]
UnpricedKind = Literal[
    "toll_free",
    "premium",
    "shared_cost",
    "uan",
    "voicemail",
    "voip",
    "personal",
    "pager",
    "non_geographic",
    "unknown",
    "no_rate",
]


@dataclass(frozen=True, slots=True)
class DestinationMatch:
    """A destination found by name, code or dial code; `others` share its dial code (e.g. +1, +7, +44)."""

    row: RateRow
    matched_by: MatchedBy
    others: tuple[RateRow, ...] = ()


@dataclass(frozen=True, slots=True)
class PhoneMatch:
    """A priceable phone number. `line_type == "either"`: the numbering plan cannot tell, show both rates."""

    row: RateRow
    e164: str
    formatted: str
    line_type: LineType


@dataclass(frozen=True, slots=True)
class UnpricedNumber:
    """A number the table must not price (toll-free, premium…) or cannot (no row); `explanation` says why."""

    formatted: str
    e164: str
    row: RateRow | None
    kind: UnpricedKind
    explanation: str


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """Close to these destinations but not clearly one of them ("did you mean…?"): 1–5 rows, best first."""

    query: str
    suggestions: tuple[RateRow, ...]


@dataclass(frozen=True, slots=True)
class NoMatch:
    """Nothing fits. `closest` are the nearest names (may be empty); `hint` explains number-shaped misses."""

    query: str
    closest: tuple[RateRow, ...] = ()
    hint: str | None = None


LookupResult = DestinationMatch | PhoneMatch | UnpricedNumber | Ambiguous | NoMatch


@dataclass(frozen=True, slots=True)
class RatePage:
    """One page of the table in alphabetical order; `number` is 1-based and already clamped."""

    rows: tuple[RateRow, ...]
    number: int
    size: int
    total_rows: int

    @property
    def total_pages(self) -> int:
        """At least 1, so an empty table still renders as "page 1 of 1"."""
        return max(1, -(-self.total_rows // self.size))
