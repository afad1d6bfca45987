"""Bodies and path parameters of the ingest API. They validate requests and generate the OpenAPI document.

The account document (`PUT`/`GET /accounts/{account_id}`) and a feature change are the store's own
documents (`store.domain.account`), so what the API accepts is exactly what the store writes.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.core.bounds import (
    ACCOUNT_ID_PATTERN,
    MAX_AHEAD,
    MAX_COUNT,
    MAX_RATE_ROWS,
    AccountId,
    Amount,
    BoundedDate,
    Label,
    PlainText,
    TeamId,
    Timestamp,
)
from store.domain.plan import FeatureKey
from store.domain.rates import RateRow
from store.domain.traffic import BlockState, DestinationBlock
from store.usage import ALL_METERS, is_whole_number_meter

MAX_READINGS = 10_000
"""Readings in one batch (a 1 MiB body holds about 14,000)."""

MAX_CLOCK_SKEW = MAX_AHEAD
"""How far in the future a reading may be dated; later ones would pin a meter until that time."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- path parameters ------------------------------------------------------------------------------------


class AccountPath(BaseModel):
    account_id: AccountId


class FeaturePath(AccountPath):
    feature: FeatureKey


# --- usage ----------------------------------------------------------------------------------------------


_KNOWN_METERS = frozenset(ALL_METERS)


def _known_meter(meter: str) -> str:
    if meter not in _KNOWN_METERS:
        raise ValueError(f"unknown meter {meter!r}; expected one of: {', '.join(ALL_METERS)}")
    return meter


UsageMeter = Annotated[str, AfterValidator(_known_meter), Field(json_schema_extra={"enum": list(ALL_METERS)})]


class ReadingIn(_Body):
    """One absolute reading of a meter for the current billing period."""

    meter: UsageMeter = Field(
        description="`voice_minutes`, `video_minutes`, `storage_gb` (the allowances), `staff_licences` "
        "(assigned licences) or `feature:<key>` (a feature's usage)."
    )
    used: Amount = Field(description="The amount used so far this period (a whole number for counts).")
    at: Timestamp = Field(
        description="When the reading was taken (from 2000 on, and at most 5 minutes ahead of the server's "
        "clock); the newest reading of a meter wins."
    )

    @field_validator("used")
    @classmethod
    def _whole_for_counts(cls, used: Decimal, info: ValidationInfo) -> Decimal:
        meter = info.data.get("meter")
        if isinstance(meter, str) and is_whole_number_meter(meter):
            if used != used.to_integral_value():
                raise ValueError(f"must be a whole number for {meter}")
            if used > MAX_COUNT:
                raise ValueError(f"must be at most {MAX_COUNT} for {meter}")
        return used


class UsageBatch(_Body):
    """Readings to record; a batch is accepted whole or rejected whole."""

    readings: list[ReadingIn] = Field(min_length=1, max_length=MAX_READINGS)


class UsageResult(BaseModel):
    received: int = Field(description="Readings in the batch.")
    recorded: int = Field(description="Readings new to the history.")
    duplicates: int = Field(description="Readings the history already held (ignored).")


# --- workspace links ------------------------------------------------------------------------------------


class LinkRequest(_Body):
    team_id: TeamId
    replace: bool = Field(
        default=False,
        description="Move the workspace from the account it is linked to now (otherwise that is a 409).",
    )


class Link(BaseModel):
    team_id: str
    account_id: str
    previous_account_id: str | None = Field(
        default=None, description="The account the workspace was linked to before, when it moved."
    )


# --- errors ---------------------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str = Field(
        description="Where: a dotted path into the body (`readings.0.at`) or a parameter name."
    )
    message: str


class ErrorBody(BaseModel):
    error: str = Field(description="A stable code: `invalid`, `not_found`, `unauthorized`, …")
    message: str = Field(description="What went wrong, for a person.")
    errors: list[FieldError] = Field(default_factory=list, description="The invalid fields (422 only).")


__all__ = [
    "ACCOUNT_ID_PATTERN",
    "MAX_READINGS",
    "AccountPath",
    "ErrorBody",
    "FeatureKey",
    "FeaturePath",
    "FieldError",
    "Link",
    "LinkRequest",
    "ReadingIn",
    "UsageBatch",
    "UsageResult",
]


# --- rate table -----------------------------------------------------------------------------------------


class RateTableIn(_Body):
    """A whole rate table, replacing the current one (the previous versions are kept)."""

    effective_date: BoundedDate | None = Field(
        default=None, description="Defaults to today (UTC); from 2000-01-01 to 2099-12-31."
    )
    label: Label = Field(default="Rate table", description="A name for this version (one line).")
    rows: list[RateRow] = Field(min_length=1, max_length=MAX_RATE_ROWS)


class RateChangeCounts(BaseModel):
    added: int
    removed: int
    increased: int
    decreased: int


class RateTableOut(BaseModel):
    version: int
    effective_date: date
    label: str
    destinations: int
    created: bool = Field(description="False when the table equals the current one: nothing was stored.")
    changes: RateChangeCounts


# --- link codes -----------------------------------------------------------------------------------------


class LinkCodeOut(BaseModel):
    code: str = Field(description="One-time code; a workspace admin runs `/plan link CODE` in Slack.")
    account_id: str
    expires_at: datetime


# --- traffic by destination -----------------------------------------------------------------------------

MAX_TRAFFIC_ROWS = 10_000
"""Figures in one batch (a 1 MiB body holds about 9,000)."""
MAX_MINUTES_AN_HOUR = Decimal(10_000_000)
MAX_MESSAGES_AN_HOUR = 100_000_000
"""An hour's figures for one destination: far above any contact centre's, low enough that no sum overflows."""
DESTINATION_PATTERN = r"^\+[1-9][0-9]{0,14}$"


def _on_the_hour(hour: datetime) -> datetime:
    if (hour.minute, hour.second, hour.microsecond) != (0, 0, 0):
        raise ValueError("must be the start of an hour (minutes and seconds 0)")
    return hour


_DESTINATION = re.compile(DESTINATION_PATTERN)


def _dialled(destination: str) -> str:
    """+ and digits, beginning with a country calling code (a lazy import: phonenumbers is 1 MB)."""
    import phonenumbers

    if not _DESTINATION.match(destination):
        raise ValueError("must be + and 1 to 15 digits: a dial prefix (+44) or an E.164 number")
    if not any(phonenumbers.region_codes_for_country_code(int(destination[1:n])) for n in (2, 3, 4)):
        raise ValueError("does not begin with a country calling code")
    return destination


class TrafficIn(_Body):
    """One hour's traffic of one kind to one destination."""

    hour: Annotated[Timestamp, AfterValidator(_on_the_hour)] = Field(
        description="The hour's start (UTC offset given; minutes and seconds 0)."
    )
    destination: Annotated[
        str, AfterValidator(_dialled), Field(json_schema_extra={"pattern": DESTINATION_PATTERN})
    ] = Field(description="A dial prefix (`+44`, `+4420`) or an E.164 number (`+442079460018`).")
    kind: Literal["voice", "sms"]
    line_type: Literal["landline", "mobile"] | None = Field(
        default=None,
        description="The voice rate applied; without it, the number's own type or the landline rate.",
    )
    minutes: Annotated[Amount, Field(le=MAX_MINUTES_AN_HOUR)] | None = Field(
        default=None, description="Voice: minutes that hour."
    )
    messages: Annotated[int, Field(ge=0, le=MAX_MESSAGES_AN_HOUR)] | None = Field(
        default=None, description="SMS: messages that hour."
    )

    @model_validator(mode="after")
    def _one_quantity(self) -> TrafficIn:
        wanted, other = ("minutes", "messages") if self.kind == "voice" else ("messages", "minutes")
        if getattr(self, wanted) is None:
            raise ValueError(f"{self.kind} traffic needs {wanted}")
        if getattr(self, other) is not None:
            raise ValueError(f"{self.kind} traffic has {wanted}, not {other}")
        return self

    @property
    def quantity(self) -> Decimal:
        return self.minutes if self.minutes is not None else Decimal(self.messages or 0)

    @property
    def key(self) -> tuple[datetime, str, str, str | None]:
        return (self.hour, self.destination, self.kind, self.line_type)


class TrafficBatch(_Body):
    """Hourly traffic by destination. Every hour in the batch replaces that hour's figures whole."""

    traffic: list[TrafficIn] = Field(min_length=1, max_length=MAX_TRAFFIC_ROWS)

    def repeated(self) -> list[int]:
        """Positions of figures repeating an earlier one's hour, destination, kind and line type."""
        seen: set[tuple[datetime, str, str, str | None]] = set()
        repeats = []
        for position, figure in enumerate(self.traffic):
            if figure.key in seen:
                repeats.append(position)
            seen.add(figure.key)
        return repeats


class TrafficResult(BaseModel):
    received: int = Field(description="Figures in the batch.")
    hours: int = Field(description="Hours replaced whole.")
    replaced: int = Field(description="Figures of those hours stored before (now replaced).")
    unpriced: int = Field(
        description="Figures stored without a cost: no rate table in force that hour, no entry for the "
        "destination, or a number the table does not price (premium-rate, toll-free…)."
    )
    cost: Decimal = Field(description="What the batch's priced figures cost, USD.")


# --- destination blocks ---------------------------------------------------------------------------------


class BlockPath(AccountPath):
    block_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


class BlockStateIn(_Body):
    state: Literal[BlockState.CONFIRMED, BlockState.LIFTED] = Field(
        description="`confirmed`: the platform blocks the destination; `lifted`: it no longer does."
    )
    note: Annotated[PlainText, Field(max_length=200)] | None = Field(
        default=None, description="Why, for the audit log (one line, up to 200 characters)."
    )


class DestinationBlocks(BaseModel):
    blocks: list[DestinationBlock]
