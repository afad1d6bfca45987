"""The whole-account document: what the demo loader and the ingest API write in one go.

Its fields are constrained to what the columns hold (digits, lengths, 32-bit counts, no control
characters, aware timestamps), so a document that validates can always be stored on SQLite and
PostgreSQL alike, and reading it back gives the same document.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from store.domain.plan import FeatureKey, FeatureStatus, Frozen, Meter

MAX_COUNT = 2**31 - 1
"""Counts (licences, feature usage and limits) are 32-bit integer columns."""

NO_CONTROL_CHARACTERS = r"^[^\u0000-\u001f\u007f]*$"


def _plain_text(value: str) -> str:
    """PostgreSQL text cannot hold NUL, and other control characters only ever arrive by accident."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _dashboard_path(value: str) -> str:
    if not value.startswith("/") or any(ch.isspace() for ch in value):
        raise ValueError("must be a dashboard path starting with /, without spaces")
    return value


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


PlainText = Annotated[
    str, AfterValidator(_plain_text), Field(json_schema_extra={"pattern": NO_CONTROL_CHARACTERS})
]
"""Single-line text without control characters; each field sets its own lengths."""

DashboardPath = Annotated[
    str,
    AfterValidator(_plain_text),
    AfterValidator(_dashboard_path),
    Field(max_length=200, json_schema_extra={"pattern": r"^/[^\u0000-\u0020\u007f]*$"}),
]
"""A path on the vendor dashboard, such as ``/virtual-numbers/new``."""


def _fixed_point(value: Decimal) -> Decimal:
    """`1E+3` → `1000` and `-0` → `0`, so the value reads back (and serialises) the same everywhere."""
    fixed = Decimal(f"{value:f}")
    return abs(fixed) if fixed.is_zero() else fixed


AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,4})?$"

Amount = Annotated[
    Decimal,
    Field(
        ge=0,
        le=Decimal("9999999999.9999"),
        max_digits=14,
        decimal_places=4,
        allow_inf_nan=False,
        json_schema_extra={"pattern": AMOUNT_PATTERN},
    ),
    AfterValidator(_fixed_point),
]
"""An exact non-negative quantity (money, minutes, GB): at most 10 digits before the point and 4 after.

Sent as a JSON number or, better, a string (`"1299.00"`); always returned as a string, so no digit is lost.
"""

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]

Timestamp = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A moment with its UTC offset (``2026-11-27T10:00:00Z``), kept in UTC."""


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AllowanceDoc(_Doc):
    available: Amount
    used: Amount = Decimal(0)


class FeatureDoc(_Doc):
    status: FeatureStatus
    used: Count = 0
    limit: Count | None = None
    unit: PlainText = Field(min_length=1, max_length=32)
    monthly_fee: Amount | None = None
    create_path: DashboardPath | None = None
    manage_path: DashboardPath | None = None
    configure_path: DashboardPath | None = None
    pending_reason: PlainText | None = Field(default=None, max_length=300)
    status_since: Timestamp | None = None


class CompanyDoc(_Doc):
    country: PlainText | None = Field(default=None, min_length=2, max_length=2)
    address: PlainText = Field(default="", max_length=200)
    website: PlainText | None = Field(default=None, max_length=200)
    contact_person: PlainText = Field(max_length=100)
    contact_number: PlainText = Field(max_length=32)
    email: PlainText = Field(max_length=254)


class AccountDocument(_Doc):
    """A service account as a whole; `PUT` replaces the stored account with it."""

    company_name: PlainText = Field(min_length=1, max_length=200)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    plan_name: PlainText = Field(min_length=1, max_length=100)
    monthly_fee: Amount
    period_start: date
    next_payment_date: date
    staff_licences_purchased: Count
    staff_licences_assigned: Count
    voip_rate_per_min: Amount
    allowances: dict[Meter, AllowanceDoc]
    features: dict[FeatureKey, FeatureDoc]
    company: CompanyDoc | None = None
    data_as_of: Timestamp | None = None

    @field_validator("next_payment_date")
    @classmethod
    def _period_ends_after_it_starts(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("period_start")
        if isinstance(start, date) and value <= start:
            raise ValueError("must be after period_start (the billing period ends on the next payment date)")
        return value


class FeatureUpdate(_Doc):
    """A change to one feature's status or usage; fields left out stay as they are.

    `limit`, `monthly_fee`, `pending_reason` and `configure_path` may be set to null to clear them.
    """

    status: FeatureStatus | SkipJsonSchema[None] = None
    used: Count | SkipJsonSchema[None] = None
    limit: Count | None = None
    monthly_fee: Amount | None = None
    pending_reason: PlainText | None = Field(default=None, max_length=300)
    configure_path: DashboardPath | None = None
    at: Timestamp | None = Field(
        default=None,
        description="When the change happened (default: when it is received). A `used` older than the "
        "stored one is kept out, as with usage readings.",
    )

    @model_validator(mode="after")
    def _changes_something(self) -> FeatureUpdate:
        if not self.changes():
            raise ValueError(
                "give at least one of " + ", ".join(sorted(set(type(self).model_fields) - {"at"}))
            )
        return self

    def changes(self) -> dict[str, object]:
        """The fields given, other than `at` (a null status or used means no change)."""
        values = {name: getattr(self, name) for name in self.model_fields_set - {"at"}}
        return {k: v for k, v in values.items() if v is not None or k not in ("status", "used")}


class FeatureStatusChange(Frozen):
    """A feature moved from one status to another (for notices)."""

    account_id: str
    key: FeatureKey
    before: FeatureStatus
    after: FeatureStatus
    at: datetime


class UpsertResult(Frozen):
    created: bool
    status_changes: tuple[FeatureStatusChange, ...] = ()
