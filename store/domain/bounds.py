"""The bounds of every value the service takes in, defined once.

Every entrance uses these types: the ingest API's bodies (the store's own documents and `bot.api.models`),
the rate CSV reader (`bot.rates.csvio`) and the command line (`bot.cli`, through `bot.core.bounds`). They
live in the store's domain because the documents the API accepts are the store's own (the store is the
lowest layer, so everything above can use them). docs/ingest-bounds.md lists them.

"Not ahead of now" is checked against "now" from the validation context (``context={"now": ...}``, see
`validation_context`), which every entrance passes (the ingest API from its services' clock, so tests
inject it). Without a context, as when the service builds a document itself (the sample account of
`myplan demo`, dated whenever it is asked to be), only the fixed window applies.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, ValidationInfo

# --- time ------------------------------------------------------------------------------------------------

EARLIEST_DATE: Final = date(2000, 1, 1)
LATEST_DATE: Final = date(2099, 12, 31)
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""Nothing the service measures happened before this; ``0001-01-01`` (an unset time in Go) is refused."""
LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
"""Readers treat a stored moment outside [EARLIEST, LATEST) as absurd and skip it."""
MAX_AHEAD: Final = timedelta(minutes=5)
"""How far ahead of now a timestamp may be (clock skew); a later one would pin a figure until then."""

DATE_PATTERN: Final = r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"
TIMESTAMP_PATTERN: Final = r"^20[0-9]{2}-"
"""The years 2000–2099, as the OpenAPI document states them (a pattern is what JSON Schema can say)."""

NOW: Final = "now"
"""The validation context's key for "now"."""


def validation_context(now: datetime) -> dict[str, Any]:
    """The context to validate with, so that "not in the future" means ahead of `now`."""
    return {NOW: now}


def now_of(info: ValidationInfo | None) -> datetime | None:
    """The entrance's "now", when it validates with one."""
    context = info.context if info is not None else None
    if isinstance(context, Mapping) and isinstance(found := context.get(NOW), datetime):
        return found
    return None


def check_date(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}")
    return value


def check_timestamp(value: datetime, now: datetime | None) -> datetime:
    """`value` in UTC, or ValueError when it is before 2000 or (given `now`) more than `MAX_AHEAD` ahead."""
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None
    if value < EARLIEST:
        raise ValueError("must not be before 2000-01-01T00:00:00Z (is the time unset?)")
    if now is not None and value > now + MAX_AHEAD:
        raise ValueError("is more than 5 minutes in the future; send it once it has happened")
    return value


def _timestamp(value: datetime, info: ValidationInfo) -> datetime:
    return check_timestamp(value, now_of(info))


def is_sane_moment(value: datetime | None) -> bool:
    """A stored moment a reader can use (asyncpg reads PostgreSQL's ±infinity as datetime.min/max)."""
    return value is not None and value.tzinfo is not None and EARLIEST <= value < LATEST


def is_sane_date(value: date | None) -> bool:
    return value is not None and EARLIEST_DATE <= value <= LATEST_DATE


BoundedDate = Annotated[
    date,
    AfterValidator(check_date),
    Field(json_schema_extra={"pattern": DATE_PATTERN}),
]

Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_timestamp),
    Field(json_schema_extra={"pattern": TIMESTAMP_PATTERN}),
]
"""A moment with its UTC offset (``2026-11-27T10:00:00Z``), kept in UTC: not before 2000, and not more than
5 minutes ahead of the entrance's now."""

# --- numbers ---------------------------------------------------------------------------------------------

MAX_COUNT: Final = 2**31 - 1
"""Counts (licences, feature usage and limits) are 32-bit integer columns."""

PLACES: Final = 4
"""Money and quantities carry at most this many decimal places (the columns hold 4)."""
MAX_AMOUNT: Final = Decimal("9999999999.9999")
"""Quantities (minutes, GB): what a NUMERIC(14, 4) column holds."""
MAX_FEE: Final = Decimal("9999999.9999")
"""Fees (USD a month): under ten million."""
MAX_RATE: Final = Decimal("999.9999")
"""Prices per minute or message (USD): under a thousand."""


def _places_as_written(value: Decimal) -> Decimal:
    """At most 4 decimal places as written: pydantic counts them once normalised, so "1.00000" and
    "0E-999999999" pass its check, and writing the latter out in fixed point would make a billion zeros."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PLACES:
        raise ValueError(f"must have at most {PLACES} decimal places")
    return value


def _plain(value: Decimal) -> Decimal:
    """No exponent (``1E+2``): a rate is kept as written, and the rate CSV reads plain decimals only."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        raise ValueError("must be a plain decimal number like 0.0123")
    return value


def _fixed_point(value: Decimal) -> Decimal:
    """`1E+3` → `1000` and `-0` → `0`, so the value reads back (and serialises) the same everywhere."""
    fixed = Decimal(f"{value:f}")
    return abs(fixed) if fixed.is_zero() else fixed


def _not_signed(value: Decimal) -> Decimal:
    """Reject ``-0`` too: `ge=0` lets it through, and it would export as ``-0.0``."""
    if value.is_signed():
        raise ValueError("must not be negative")
    return value


def _decimal_pattern(maximum: Decimal) -> str:
    whole = len(str(int(maximum)))
    return rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{PLACES}}})?$"


def _decimal_field(maximum: Decimal) -> Any:
    """At most 4 decimal places and as many whole digits as `maximum` has; finite, from 0 to `maximum`."""
    return Field(
        ge=0,
        le=maximum,
        max_digits=len(str(int(maximum))) + PLACES,
        decimal_places=PLACES,
        allow_inf_nan=False,
        json_schema_extra={"pattern": _decimal_pattern(maximum)},
    )


AMOUNT_PATTERN: Final = _decimal_pattern(MAX_AMOUNT)
RATE_PATTERN: Final = _decimal_pattern(MAX_RATE)

Amount = Annotated[
    Decimal, _decimal_field(MAX_AMOUNT), AfterValidator(_places_as_written), AfterValidator(_fixed_point)
]
"""An exact non-negative quantity (minutes, GB): at most 10 digits before the point and 4 after.

Sent as a JSON number or, better, a string (`"1299.00"`); always returned as a string, so no digit is lost.
"""
Fee = Annotated[
    Decimal, _decimal_field(MAX_FEE), AfterValidator(_places_as_written), AfterValidator(_fixed_point)
]
"""A fee in USD: non-negative, under ten million, at most 4 decimal places."""
Price = Annotated[
    Decimal, _decimal_field(MAX_RATE), AfterValidator(_places_as_written), AfterValidator(_fixed_point)
]
"""A price per minute or message in USD (an account's VoIP rate): under a thousand, 4 decimal places."""
Rate = Annotated[
    Decimal,
    _decimal_field(MAX_RATE),
    AfterValidator(_places_as_written),
    AfterValidator(_plain),
    AfterValidator(_not_signed),
]
"""A rate-table price in USD: like `Price`, but kept exactly as written (``0.0100`` stays ``0.0100``) so an
imported file exports byte for byte."""

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


def is_sane_number(value: Decimal | float | int | None, maximum: Decimal = MAX_AMOUNT) -> bool:
    """A stored number a reader can use: finite, not negative, not above `maximum`."""
    if value is None:
        return False
    if isinstance(value, Decimal):
        return value.is_finite() and 0 <= value <= maximum
    return math.isfinite(value) and 0 <= value <= maximum


# --- text ------------------------------------------------------------------------------------------------

NO_CONTROL_CHARACTERS: Final = r"^[^\u0000-\u001f\u007f-\u009f]*$"
"""No control character (Unicode category Cc); PostgreSQL text cannot hold NUL at all."""


def check_plain_text(value: str) -> str:
    """PostgreSQL text cannot hold NUL, other control characters only ever arrive by accident, and a lone
    surrogate cannot be encoded for the database."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("must not contain control characters")
    return value


PlainText = Annotated[
    str, AfterValidator(check_plain_text), Field(json_schema_extra={"pattern": NO_CONTROL_CHARACTERS})
]
"""Single-line text without control characters; each field sets its own lengths."""

LINE_BREAKS: Final = frozenset("\n\r\t")
"""The control characters multi-line text (a postal address) may hold: line breaks, and a tab."""


def check_multiline_text(value: str) -> str:
    """`check_plain_text`, but for `LINE_BREAKS`."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in LINE_BREAKS for ch in value):
        raise ValueError("must not contain control characters other than line breaks")
    return value


MultilineText = Annotated[
    str,
    AfterValidator(check_multiline_text),
    Field(json_schema_extra={"pattern": r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"}),
]
"""Text that may run over several lines (as a modal's multi-line input gives it); lengths per field."""

MAX_LABEL: Final = 200
Label = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_LABEL),
    AfterValidator(check_plain_text),
    Field(json_schema_extra={"pattern": NO_CONTROL_CHARACTERS}),
]
"""A name for a rate table version."""

# --- identifiers -----------------------------------------------------------------------------------------

ACCOUNT_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
TEAM_ID_PATTERN: Final = r"^[TE][A-Z0-9]{2,31}$"
USER_ID_PATTERN: Final = r"^[UW][A-Z0-9]{2,31}$"

STAFF_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$"
"""A staff account's id on the billing platform: a number, a slug or an email-like login."""

AccountId = Annotated[
    str,
    Field(
        pattern=ACCOUNT_ID_PATTERN,
        max_length=64,
        description="The service account's id (a slug such as `acme`).",
        examples=["demo"],
    ),
]
TeamId = Annotated[
    str,
    Field(
        pattern=TEAM_ID_PATTERN,
        max_length=32,
        description="The Slack workspace (team) id, such as `T0123ABCD`.",
        examples=["T0DEMO"],
    ),
]
UserId = Annotated[
    str, Field(pattern=USER_ID_PATTERN, max_length=32, description="A Slack user id, such as `U0123ABCD`.")
]
StaffId = Annotated[
    str,
    Field(
        pattern=STAFF_ID_PATTERN,
        max_length=64,
        description="The staff account's id on the billing platform, such as `s-1001`.",
        examples=["s-1001"],
    ),
]

# --- rate tables -----------------------------------------------------------------------------------------

MAX_RATE_ROWS: Final = 20_000
"""Destinations in one table (every country and region is about 250), however it arrives."""

# --- staff activity --------------------------------------------------------------------------------------

MAX_STAFF: Final = 5_000
"""Staff accounts in one list (about 120 bytes each: a 1 MiB body holds some 8,000)."""
MAX_DISPLAY_NAME: Final = 100
"""A staff member's display name, as the dashboard shows it."""
