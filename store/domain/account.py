"""The whole-account document: what the demo loader and the ingest API write in one go.

Its fields are constrained to what the columns hold (digits, lengths, 32-bit counts, no control
characters, aware timestamps), so a document that validates can always be stored on SQLite and
PostgreSQL alike, and reading it back gives the same document.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from store.domain.bounds import (
    AMOUNT_PATTERN,
    MAX_COUNT,
    NO_CONTROL_CHARACTERS,
    Amount,
    BoundedDate,
    Count,
    Fee,
    MultilineText,
    PlainText,
    Price,
    Timestamp,
    UserId,
    check_plain_text,
)
from store.domain.plan import FeatureKey, FeatureStatus, Frozen, Meter


def _dashboard_path(value: str) -> str:
    if not value.startswith("/") or any(ch.isspace() for ch in value):
        raise ValueError("must be a dashboard path starting with /, without spaces")
    return value


DashboardPath = Annotated[
    str,
    AfterValidator(check_plain_text),
    AfterValidator(_dashboard_path),
    Field(max_length=200, json_schema_extra={"pattern": r"^/[^\u0000-\u0020\u007f-\u009f]*$"}),
]
"""A path on the vendor dashboard, such as ``/virtual-numbers/new``."""


CHANNEL_ID_PATTERN = r"^[CG][A-Z0-9]{2,31}$"

ChannelId = Annotated[
    str,
    Field(
        pattern=CHANNEL_ID_PATTERN,
        max_length=32,
        description="A Slack channel id, such as `C0123ABCD`.",
    ),
]
"""A channel id (public `C…` or private `G…`)."""


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
    monthly_fee: Fee | None = None
    create_path: DashboardPath | None = None
    manage_path: DashboardPath | None = None
    configure_path: DashboardPath | None = None
    pending_reason: PlainText | None = Field(default=None, max_length=300)
    status_since: Timestamp | None = None


class CompanyDoc(_Doc):
    country: PlainText | None = Field(default=None, min_length=2, max_length=2)
    address: MultilineText = Field(default="", max_length=200)
    website: PlainText | None = Field(default=None, max_length=200)
    contact_person: PlainText = Field(max_length=100)
    contact_number: PlainText = Field(max_length=32)
    email: PlainText = Field(max_length=254)


class AccountDocument(_Doc):
    """A service account as a whole; `PUT` replaces the stored account with it."""

    company_name: PlainText = Field(min_length=1, max_length=200)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    plan_name: PlainText = Field(min_length=1, max_length=100)
    monthly_fee: Fee
    period_start: BoundedDate
    next_payment_date: BoundedDate
    staff_licences_purchased: Count
    staff_licences_assigned: Count
    licence_price: Fee | None = Field(
        default=None,
        description="What one staff licence costs a month, in `currency` (licence hygiene prices unused "
        "licences with it); null: the plan's `monthly_fee` divided by `staff_licences_purchased`.",
    )
    voip_rate_per_min: Price
    allowances: dict[Meter, AllowanceDoc]
    features: dict[FeatureKey, FeatureDoc]
    company: CompanyDoc | None = None
    data_as_of: Timestamp | None = None
    sales_channel: ChannelId | None = Field(
        default=None,
        description="The channel in the vendor's Sales workspace that receives this account's upgrade and "
        "add-on requests (invite the app to it); null: `SALES_CHANNEL`.",
    )
    account_manager: UserId | None = Field(
        default=None,
        description="The account's manager, a Slack user id in the vendor's Sales workspace: mentioned in "
        "the account's requests to Sales.",
    )

    @field_validator("next_payment_date")
    @classmethod
    def _period_ends_after_it_starts(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("period_start")
        if isinstance(start, date) and value <= start:
            raise ValueError("must be after period_start (the billing period ends on the next payment date)")
        return value


class FeatureUpdate(_Doc):
    """A change to one feature's status or usage; fields left out stay as they are.

    `limit`, `monthly_fee`, `pending_reason` and `configure_path` may be set to null to clear them; a null
    `status` or `used` changes nothing.
    """

    status: FeatureStatus | None = None
    used: Count | None = None
    limit: Count | None = None
    monthly_fee: Fee | None = None
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


__all__ = [
    "AMOUNT_PATTERN",
    "MAX_COUNT",
    "NO_CONTROL_CHARACTERS",
    "AccountDocument",
    "AllowanceDoc",
    "Amount",
    "ChannelId",
    "CompanyDoc",
    "Count",
    "DashboardPath",
    "FeatureDoc",
    "FeatureStatusChange",
    "FeatureUpdate",
    "Fee",
    "PlainText",
    "Price",
    "Timestamp",
    "UpsertResult",
]
