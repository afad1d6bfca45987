"""Bodies and path parameters of the ingest API. They validate requests and generate the OpenAPI document.

The account document (`PUT`/`GET /accounts/{account_id}`) and a feature change are the store's own
documents (`store.domain.account`), so what the API accepts is exactly what the store writes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from bot.core.bounds import (
    ACCOUNT_ID_PATTERN,
    MAX_AHEAD,
    MAX_COUNT,
    AccountId,
    Amount,
    BoundedDate,
    Label,
    TeamId,
    Timestamp,
)
from store.domain.plan import FeatureKey
from store.domain.rates import RateRow
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

MAX_RATE_ROWS = 20_000
"""Destinations in one table (every country and region is about 250)."""


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
