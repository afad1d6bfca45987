"""SQLAlchemy models: the schema. Alembic migrations in `store/migrations` create it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
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


class AlertRuleRow(Base):
    """An account's alert rule: meter "*" is the account-wide rule, other meters are overrides.

    An account without a "*" row gets the built-in defaults (on, 80/90/100%). A meter override with
    `enabled` false turns that meter off; otherwise its thresholds replace the account's.
    """

    __tablename__ = "alert_rules"

    account_id: Mapped[str] = _account_fk()
    meter: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # "*" row only: the workspace the alerts channel (accounts.alerts_channel) belongs to.
    channel_team_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(32))


class AlertThresholdRow(Base):
    """One threshold (percent) of a rule, as rows so the evaluator can join them."""

    __tablename__ = "alert_thresholds"

    account_id: Mapped[str] = _account_fk()
    meter: Mapped[str] = mapped_column(String(64), primary_key=True)
    percent: Mapped[int] = mapped_column(Integer, primary_key=True)


class AlertRow(Base):
    """The alert outbox: one row per (meter, kind, threshold, billing period), written when claimed.

    The unique constraint is what makes an alert happen once per period, across restarts and
    concurrent evaluators; `status` then tracks its delivery (see store.domain.alerts.AlertStatus).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("account_id", "meter", "kind", "threshold", "period_start"),
        Index("ix_alerts_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"))
    meter: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # What was measured when the alert was claimed.
    used: Mapped[Decimal]
    available: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[datetime]
    forecast_runs_out_at: Mapped[datetime | None]
    forecast_readings: Mapped[int | None] = mapped_column(Integer)
    forecast_days: Mapped[Decimal | None]
    # Delivery.
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # What people did with it.
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    snoozed_by: Mapped[str | None] = mapped_column(String(32))
