"""The whole-account document: what the demo loader and the ingest API write in one go."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from store.domain.plan import FeatureKey, FeatureStatus, Meter


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AllowanceDoc(_Doc):
    available: Decimal = Field(ge=0)
    used: Decimal = Field(default=Decimal(0), ge=0)


class FeatureDoc(_Doc):
    status: FeatureStatus
    used: int = Field(default=0, ge=0)
    limit: int | None = Field(default=None, ge=0)
    unit: str = Field(min_length=1, max_length=32)
    monthly_fee: Decimal | None = Field(default=None, ge=0)
    create_path: str | None = Field(default=None, max_length=200)
    manage_path: str | None = Field(default=None, max_length=200)
    configure_path: str | None = Field(default=None, max_length=200)
    pending_reason: str | None = Field(default=None, max_length=300)
    status_since: datetime | None = None


class CompanyDoc(_Doc):
    country: str | None = Field(default=None, min_length=2, max_length=2)
    address: str = Field(default="", max_length=200)
    website: str | None = Field(default=None, max_length=200)
    contact_person: str = Field(max_length=100)
    contact_number: str = Field(max_length=32)
    email: str = Field(max_length=254)


class AccountDocument(_Doc):
    """A service account as a whole; `PUT` replaces the stored account with it."""

    company_name: str = Field(min_length=1, max_length=200)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    plan_name: str = Field(min_length=1, max_length=100)
    monthly_fee: Decimal = Field(ge=0)
    period_start: date
    next_payment_date: date
    staff_licences_purchased: int = Field(ge=0)
    staff_licences_assigned: int = Field(ge=0)
    voip_rate_per_min: Decimal = Field(ge=0)
    allowances: dict[Meter, AllowanceDoc]
    features: dict[FeatureKey, FeatureDoc]
    company: CompanyDoc | None = None
    data_as_of: datetime | None = None
