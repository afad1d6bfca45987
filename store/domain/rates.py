"""Rate table domain objects: one row per destination, versioned tables, and the changes between versions.

Money is `Decimal` end to end and is kept exactly as given (``Decimal("0.0100")`` stays ``0.0100``) so an
imported file can be exported byte-for-byte. Rates are USD, non-negative, under 1,000, with at most 4 decimal
places (`store.domain.bounds.Rate`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from store.domain.bounds import MAX_LABEL, NO_CONTROL_CHARACTERS, PLACES, Rate, check_plain_text

RATE_PLACES = PLACES
"""Rates carry at most this many decimal places (the vendor's rate table does)."""

DialCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,4}$")]
"""Country/region calling code without ``+``: 1–4 ASCII digits (``44``, ``852``, ``1876``)."""

IsoCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 code (or a documented non-country region such as ``XK``), upper case."""

MAX_DESTINATION = 100

Destination = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_DESTINATION),
    AfterValidator(check_plain_text),
    Field(json_schema_extra={"pattern": NO_CONTROL_CHARACTERS}),
]
"""A display name: one line, no control characters (it ends up in Slack text and CSV cells)."""

RateKind = Literal["landline", "mobile", "sms"]


class RateRow(BaseModel):
    """One destination's prices. The destination's identity is its ISO code (one row per region)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dial_code: DialCode
    iso_code: IsoCode
    destination: Destination
    landline_per_min: Rate
    mobile_per_min: Rate
    sms_per_message: Rate

    def rate(self, kind: RateKind) -> Decimal:
        """The price of one unit of `kind`, so callers need not spell out field names."""
        if kind == "landline":
            return self.landline_per_min
        if kind == "mobile":
            return self.mobile_per_min
        return self.sms_per_message


class RateTableInfo(BaseModel):
    """One imported version of the service's rate table, without its rows.

    The table is global (one for the whole service); importing a new version keeps the older ones.
    `sample` marks demonstration data, which `myplan demo` may replace but never a real import.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    effective_date: date
    label: str = Field(max_length=MAX_LABEL)
    sample: bool = False
    imported_at: datetime | None = None


class RateTable(RateTableInfo):
    """A table version with its rows, in the order they were imported (so an export reproduces the file)."""

    rows: tuple[RateRow, ...]

    @property
    def info(self) -> RateTableInfo:
        return RateTableInfo.model_validate(self.model_dump(exclude={"rows"}))


class RateChange(BaseModel):
    """One rate of one destination that moved between two table versions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iso_code: IsoCode
    destination: str
    kind: RateKind
    old: Decimal
    new: Decimal

    @property
    def delta(self) -> Decimal:
        """Signed difference, exact (both sides have at most 4 decimal places)."""
        return self.new - self.old


class RateChanges(BaseModel):
    """What a new table version changed: destinations added/removed, individual rates up/down.

    A destination whose landline rate rose while its mobile rate fell appears in both `increased` and
    `decreased`, once per rate, so nothing is hidden by netting.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    added: tuple[RateRow, ...] = ()
    removed: tuple[RateRow, ...] = ()
    increased: tuple[RateChange, ...] = ()
    decreased: tuple[RateChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the new version prices every destination exactly as the old one did."""
        return not (self.added or self.removed or self.increased or self.decreased)


_KINDS: tuple[RateKind, ...] = ("landline", "mobile", "sms")


def _sort_key(row: RateRow) -> tuple[str, str]:
    return (row.destination.casefold(), row.iso_code)


def diff_tables(old_rows: Iterable[RateRow], new_rows: Iterable[RateRow]) -> RateChanges:
    """Compare two versions destination by destination (keyed by ISO code).

    Rates are compared by value, so re-typing ``0.01`` as ``0.0100`` is not a change. Renaming a destination
    or changing only its dial code is not reported. Output is sorted by destination name for stable messages.
    """
    old = {row.iso_code: row for row in old_rows}
    new = {row.iso_code: row for row in new_rows}
    added = sorted((row for code, row in new.items() if code not in old), key=_sort_key)
    removed = sorted((row for code, row in old.items() if code not in new), key=_sort_key)
    up: list[RateChange] = []
    down: list[RateChange] = []
    for row in sorted((row for code, row in new.items() if code in old), key=_sort_key):
        before = old[row.iso_code]
        for kind in _KINDS:
            was, now = before.rate(kind), row.rate(kind)
            if now != was:
                change = RateChange(
                    iso_code=row.iso_code, destination=row.destination, kind=kind, old=was, new=now
                )
                (up if now > was else down).append(change)
    return RateChanges(added=tuple(added), removed=tuple(removed), increased=tuple(up), decreased=tuple(down))


class RateImport(BaseModel):
    """What importing a table did: the version now current, the one before, and what changed between them.

    `created` is False when the rows, label, date and sample flag equal the current version's: a retried
    import then changes nothing (no new version, empty `changes`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: RateTableInfo
    previous: RateTableInfo | None
    changes: RateChanges
    created: bool
    row_count: int = Field(ge=0)


class AccountRateTerms(BaseModel):
    """What a lookup needs from the asking account: its fixed VoIP rate, and its country for national numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    voip_rate_per_min: Decimal
    country: str | None = None


class AlertsTarget(BaseModel):
    """An account linked to Slack with an alerts channel: where rate-table changes are announced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str
    team_id: str
    channel: str


class RatesHomeState(BaseModel):
    """Where a user is in the Home's Rate Table tab, so paging keeps the chosen destination and back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iso_code: IsoCode | None = None
    page: int = Field(default=1, ge=1)
