"""The subscription plan as the bot sees it: account, subscription, allowances, features."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Meter(StrEnum):
    """The metered allowances of a billing period."""

    VOICE_MINUTES = "voice_minutes"
    VIDEO_MINUTES = "video_minutes"
    STORAGE_GB = "storage_gb"

    @property
    def label(self) -> str:
        return _METER_LABELS[self][0]

    @property
    def unit(self) -> str:
        return _METER_LABELS[self][1]


_METER_LABELS = {
    Meter.VOICE_MINUTES: ("Voice call minutes", "min"),
    Meter.VIDEO_MINUTES: ("Video call minutes", "min"),
    Meter.STORAGE_GB: ("Storage", "GB"),
}


class FeatureStatus(StrEnum):
    AVAILABLE = "available"
    PENDING = "pending"
    PROCESSING = "processing"
    LOCKED = "locked"


class FeatureGroup(StrEnum):
    CUSTOMERS = "customers"
    ENGAGEMENT = "engagement"


class FeatureKey(StrEnum):
    VIRTUAL_NUMBERS = "virtual_numbers"
    DIRECTORY = "directory"
    OMNICHANNELS = "omnichannels"
    EXTERNAL_CONTACTS = "external_contacts"
    DESTINATIONS = "destinations"
    STAFF_ACCOUNTS = "staff_accounts"
    CAMPAIGNS = "campaigns"

    @property
    def info(self) -> FeatureInfo:
        return FEATURE_CATALOGUE[self]


class FeatureInfo(NamedTuple):
    name: str
    group: FeatureGroup


# In the order the vendor's My Plan page lists them.
FEATURE_CATALOGUE: dict[FeatureKey, FeatureInfo] = {
    FeatureKey.VIRTUAL_NUMBERS: FeatureInfo("Virtual Numbers", FeatureGroup.CUSTOMERS),
    FeatureKey.DIRECTORY: FeatureInfo("Directory", FeatureGroup.CUSTOMERS),
    FeatureKey.OMNICHANNELS: FeatureInfo("Omnichannels", FeatureGroup.CUSTOMERS),
    FeatureKey.EXTERNAL_CONTACTS: FeatureInfo("External Contacts", FeatureGroup.CUSTOMERS),
    FeatureKey.DESTINATIONS: FeatureInfo("Destinations", FeatureGroup.ENGAGEMENT),
    FeatureKey.STAFF_ACCOUNTS: FeatureInfo("Staff Accounts", FeatureGroup.ENGAGEMENT),
    FeatureKey.CAMPAIGNS: FeatureInfo("Campaigns", FeatureGroup.ENGAGEMENT),
}


class Account(Frozen):
    id: str
    company_name: str
    currency: str = "USD"
    voip_rate_per_min: Decimal
    alerts_channel: str | None = None
    data_as_of: datetime
    sales_channel: str | None = None
    """Where the account's requests to Sales go (a channel of the Sales workspace); None: SALES_CHANNEL."""
    account_manager: str | None = None
    """The account's manager in the Sales workspace (a Slack user id), mentioned in its Sales posts."""


class Subscription(Frozen):
    plan_name: str
    monthly_fee: Decimal
    period_start: date
    next_payment_date: date
    staff_licences_purchased: int
    staff_licences_assigned: int
    licence_price: Decimal | None = None
    """One staff licence a month, when the billing platform states it (`bot.licences` derives it otherwise)."""


class Allowance(Frozen):
    meter: Meter
    available: Decimal
    used: Decimal
    used_at: datetime | None = None
    """When `used` was measured (None: not known; the account's "as of" time stands in)."""


class Feature(Frozen):
    key: FeatureKey
    status: FeatureStatus
    status_since: datetime
    used: int = 0
    limit: int | None = None
    unit: str
    monthly_fee: Decimal | None = None
    create_path: str | None = None
    manage_path: str | None = None
    configure_path: str | None = None
    pending_reason: str | None = None

    @property
    def name(self) -> str:
        return self.key.info.name

    @property
    def group(self) -> FeatureGroup:
        return self.key.info.group


class PlanSnapshot(Frozen):
    """Everything `/plan` and the Plan Monitoring tab show, read in one transaction."""

    account: Account
    subscription: Subscription
    allowances: tuple[Allowance, ...] = Field(default=())
    features: tuple[Feature, ...] = Field(default=())

    def allowance(self, meter: Meter) -> Allowance | None:
        return next((a for a in self.allowances if a.meter == meter), None)


STAFF_LICENCES: Final = "staff_licences"
"""The meter of assigned staff licences (of those purchased)."""
FEATURE_METER_PREFIX: Final = "feature:"
"""A feature's usage is metered as `feature:<key>`."""


def feature_meter(key: FeatureKey) -> str:
    return FEATURE_METER_PREFIX + key.value
