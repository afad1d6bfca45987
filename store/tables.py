"""SQLAlchemy models: the schema. Alembic migrations in `store/migrations` create it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.coltypes import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money(), dict[str, Any]: JSON()}


def _account_fk() -> Mapped[str]:
    return mapped_column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    voip_rate_per_min: Mapped[Decimal]
    alerts_channel: Mapped[str | None] = mapped_column(String(32))
    data_as_of: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    account_id: Mapped[str] = _account_fk()
    plan_name: Mapped[str] = mapped_column(String(100))
    monthly_fee: Mapped[Decimal]
    period_start: Mapped[date] = mapped_column(Date)
    next_payment_date: Mapped[date] = mapped_column(Date)
    staff_licences_purchased: Mapped[int] = mapped_column(Integer)
    staff_licences_assigned: Mapped[int] = mapped_column(Integer)
    # When `staff_licences_assigned` was measured, so an older usage reading cannot overwrite it.
    staff_licences_at: Mapped[datetime | None]


class AllowanceRow(Base):
    """A metered allowance of the current billing period (voice/video minutes, storage)."""

    __tablename__ = "allowances"

    account_id: Mapped[str] = _account_fk()
    meter: Mapped[str] = mapped_column(String(32), primary_key=True)
    available: Mapped[Decimal]
    used: Mapped[Decimal]
    used_at: Mapped[datetime | None]


class UsageReadingRow(Base):
    """Every reading ever received, so charts and forecasts can replay the period."""

    __tablename__ = "usage_readings"
    __table_args__ = (Index("ix_usage_readings_account_meter_at", "account_id", "meter", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"))
    meter: Mapped[str] = mapped_column(String(64))
    used: Mapped[Decimal]
    at: Mapped[datetime]
    received_at: Mapped[datetime]


class FeatureRow(Base):
    __tablename__ = "features"

    account_id: Mapped[str] = _account_fk()
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    status_since: Mapped[datetime]
    used: Mapped[int] = mapped_column(Integer, default=0)
    # When `used` was measured, so an older usage reading cannot overwrite it.
    used_at: Mapped[datetime | None]
    limit: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(32))
    monthly_fee: Mapped[Decimal | None]
    create_path: Mapped[str | None] = mapped_column(String(200))
    manage_path: Mapped[str | None] = mapped_column(String(200))
    configure_path: Mapped[str | None] = mapped_column(String(200))
    pending_reason: Mapped[str | None] = mapped_column(String(300))


class CompanyInfoRow(Base):
    __tablename__ = "company_info"

    account_id: Mapped[str] = _account_fk()
    country: Mapped[str | None] = mapped_column(String(2))
    address: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str | None] = mapped_column(String(200))
    contact_person: Mapped[str] = mapped_column(String(100))
    contact_number: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime | None]
    updated_by: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)


class WorkspaceLinkRow(Base):
    """A Slack workspace (team id) is linked to exactly one service account."""

    __tablename__ = "workspace_links"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    linked_at: Mapped[datetime]
    linked_by: Mapped[str | None] = mapped_column(String(32))


class AdministratorRow(Base):
    __tablename__ = "administrators"

    account_id: Mapped[str] = _account_fk()
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_at: Mapped[datetime]
    added_by: Mapped[str | None] = mapped_column(String(32))


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(Text)


class HomeStateRow(Base):
    """Which App Home tab each user last looked at, so the Home opens where they left it."""

    __tablename__ = "home_state"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tab: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class IdempotencyKeyRow(Base):
    """A write made with an `Idempotency-Key`: a retry gets this response instead of applying it again.

    Inserted in the same transaction as the change, so of two concurrent retries only one commits.
    """

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request: Mapped[str] = mapped_column(String(600))  # "PUT /api/v1/accounts/acme"
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
