"""SQLAlchemy models: the schema. Alembic migrations in `store/migrations` create it."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
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
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.coltypes import ExactDecimal, Money, UTCDateTime

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
    # Where the account's upgrade requests go in the Sales workspace, and who manages it there.
    sales_channel: Mapped[str | None] = mapped_column(String(32))
    account_manager: Mapped[str | None] = mapped_column(String(32))


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
    # What one staff licence costs a month (in the account's currency); null: the plan's fee per licence.
    licence_price: Mapped[Decimal | None]


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


class UpgradeRequestRow(Base):
    """An upgrade or add-on request to Sales, with the usage evidence posted to the sales channel."""

    __tablename__ = "upgrade_requests"
    __table_args__ = (
        # A double submit (same user, same request, same minute) lands on the same key: one request.
        UniqueConstraint("account_id", "dedupe_key", name="uq_upgrade_requests_account_dedupe"),
        Index("ix_upgrade_requests_account_created", "account_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int | None] = mapped_column(Integer)
    feature: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(32))
    done_at: Mapped[datetime | None]
    delivery: Mapped[str] = mapped_column(String(16))
    sales_channel: Mapped[str | None] = mapped_column(String(32))
    sales_ts: Mapped[str | None] = mapped_column(String(32))
    delivery_error: Mapped[str | None] = mapped_column(String(100))
    # The email to Sales (SALES_EMAIL): null when the request was not emailed.
    email_status: Mapped[str | None] = mapped_column(String(16))
    email_to: Mapped[str | None] = mapped_column(String(254))
    email_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    email_error: Mapped[str | None] = mapped_column(String(200))


class LinkCodeRow(Base):
    """A one-time code that links a Slack workspace to an account; only a hash of the code is kept."""

    __tablename__ = "link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_team: Mapped[str | None] = mapped_column(String(32))
    used_by_user: Mapped[str | None] = mapped_column(String(32))


class LinkFailureRow(Base):
    """A wrong link code tried from a workspace, so repeated guesses can be throttled."""

    __tablename__ = "link_failures"
    __table_args__ = (Index("ix_link_failures_team_at", "team_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]


class HandledEventRow(Base):
    """Events API deliveries already handled, so Slack's retries of them are not handled twice."""

    __tablename__ = "handled_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(index=True)


# Slack installations (OAuth mode): slack_sdk's SQLAlchemy stores read and write these tables. Their
# columns are slack_sdk's own; they are declared on our metadata so that our Alembic migrations create
# them (the stores' create_tables() is never called).
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(
    Base.metadata, SQLAlchemyInstallationStore.default_bots_table_name
)
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, SQLAlchemyOAuthStateStore.default_table_name
)
# The OAuth flow looks a state up by its value.
Index("ix_slack_oauth_states_state", SLACK_OAUTH_STATES.c.state)


class RateTableRow(Base):
    """One imported version of the service-wide rate table; older versions are kept."""

    __tablename__ = "rate_tables"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    effective_date: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200))
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime]


class RateRowRow(Base):
    """One destination's rates in one table version, in file order (`position`) so exports match imports."""

    __tablename__ = "rate_rows"
    __table_args__ = (UniqueConstraint("version", "iso_code", name="uq_rate_rows_version_iso_code"),)

    version: Mapped[int] = mapped_column(
        Integer, ForeignKey("rate_tables.version", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    dial_code: Mapped[str] = mapped_column(String(4))
    iso_code: Mapped[str] = mapped_column(String(2))
    destination: Mapped[str] = mapped_column(String(100))
    landline_per_min: Mapped[Decimal] = mapped_column(ExactDecimal())
    mobile_per_min: Mapped[Decimal] = mapped_column(ExactDecimal())
    sms_per_message: Mapped[Decimal] = mapped_column(ExactDecimal())


class RatesHomeStateRow(Base):
    """Where each user is in the Home's Rate Table tab: the chosen destination and the page shown."""

    __tablename__ = "rates_home_state"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    iso_code: Mapped[str | None] = mapped_column(String(2))
    page: Mapped[int] = mapped_column(Integer, default=1)
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
    """The alert outbox: one row per (meter, kind, threshold, billing period, allowance), written when
    claimed.

    The unique constraint is what makes an alert happen once per period and allowance (`available`: a
    changed allowance, an upgrade or a downgrade, starts its thresholds afresh), across restarts and
    concurrent evaluators; `status` then tracks its delivery (see store.domain.alerts.AlertStatus).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "meter",
            "kind",
            "threshold",
            "period_start",
            "available",
            name="uq_alerts_per_allowance",
        ),
        Index("ix_alerts_status_next_attempt_at", "status", "next_attempt_at"),
        # Resolved messages not yet shown resolved (shown_at NULL, resolution not): found in the index,
        # without reading every alert.
        Index("ix_alerts_unshown_resolution", "resolution_shown_at", "resolution"),
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
    # The meter's one message per period: a later crossing updates the message the first one posted
    # (its ts is then this row's `message_ts` too) and adds `reply_ts` in its thread.
    reply_ts: Mapped[str | None] = mapped_column(String(32))
    # The last attempt's outcome is unknown (a 5xx, a timeout): it may be in Slack, so it is looked up
    # before anything else of its meter and period is posted.
    may_be_posted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The thread was resolved (a new period, a bigger allowance); the message says so once shown.
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_available: Mapped[Decimal | None]
    resolution_shown_at: Mapped[datetime | None]


class AlertScheduleRow(Base):
    """An account's local time for alerts: its time zone (learned from an administrator's Slack profile
    until an administrator chooses one) and optional quiet hours, when warnings wait."""

    __tablename__ = "alert_schedules"

    account_id: Mapped[str] = _account_fk()
    time_zone: Mapped[str] = mapped_column(String(64))
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    quiet_weekends: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AlertEvaluationFailureRow(Base):
    """An account whose alert evaluation failed: sweeps skip it until `retry_at` (backing off with each
    failure), and the row goes once an evaluation of it succeeds. `myplan alerts status` lists them."""

    __tablename__ = "alert_evaluation_failures"

    account_id: Mapped[str] = _account_fk()
    failures: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500))
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    retry_at: Mapped[datetime] = mapped_column(index=True)


class AlertEvaluationMarkRow(Base):
    """When an account's alert evaluation is next due: now, when its usage, plan or alert settings changed
    or an alert of it was posted; later, when its billing period rolls over or a failed evaluation is to
    be retried. A worker's pass evaluates the accounts due (by the index on `due_at`) and moves each mark
    on; `version` changes with every marking, so a mark set while its account was being evaluated stays."""

    __tablename__ = "alert_evaluation_marks"

    account_id: Mapped[str] = _account_fk()
    due_at: Mapped[datetime] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer)


class StaffListRow(Base):
    """When the billing platform last sent an account's staff list (licence hygiene's "as of")."""

    __tablename__ = "staff_lists"

    account_id: Mapped[str] = _account_fk()
    received_at: Mapped[datetime]


class StaffAccountRow(Base):
    """A staff account of a service account, as last sent by the billing platform."""

    __tablename__ = "staff_accounts"

    account_id: Mapped[str] = _account_fk()
    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # as sent, so GET returns the list PUT sent
    display_name: Mapped[str] = mapped_column(String(100))
    licensed: Mapped[bool] = mapped_column(Boolean)
    last_active_at: Mapped[datetime | None]


class LicenceNoticeRow(Base):
    """The licence hygiene notice of one billing period, inserted (claimed) with one `LicenceNoticeDmRow`
    per administrator before anything is sent: the primary key is what makes it go out once per period
    however many workers run."""

    __tablename__ = "licence_notices"

    account_id: Mapped[str] = _account_fk()
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    renewal: Mapped[date] = mapped_column(Date)
    claimed_at: Mapped[datetime]
    sent_to: Mapped[int] = mapped_column(Integer, default=0)  # administrators who got the DM so far
    error: Mapped[str | None] = mapped_column(String(200))  # why there was nobody to send it to
    finished_at: Mapped[datetime | None]


class LicenceNoticeDmRow(Base):
    """One administrator's DM of a period's licence notice: an outbox row (migration 0021). `status` is
    pending, sending (leased until `lease_until`, fenced by `attempts`), sent or failed; `may_be_posted`
    says an earlier attempt's outcome is unknown, so the DM is looked up before it is posted again."""

    __tablename__ = "licence_notice_dms"
    __table_args__ = (Index("ix_licence_notice_dms_status_next_attempt_at", "status", "next_attempt_at"),)

    account_id: Mapped[str] = _account_fk()
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    admin_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    may_be_posted: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None]


class DigestScheduleRow(Base):
    """When an account's weekly digest is due, on its own clock (`alert_schedules.time_zone`); an account
    without a row gets the defaults (on, Monday, 09:00)."""

    __tablename__ = "digest_schedules"

    account_id: Mapped[str] = _account_fk()
    enabled: Mapped[bool] = mapped_column(Boolean)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 is Monday
    hour: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(32))


class DigestRow(Base):
    """A weekly digest, inserted (claimed) and committed before it is posted. A scheduled one is unique per
    account and week (`scheduled_week`, the local date it was due): what makes it go out once per week
    however many workers run. One sent by hand (`myplan digest send`) has no `scheduled_week`."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("account_id", "scheduled_week", name="uq_digests_account_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)
    scheduled_week: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ChannelPaceRow(Base):
    """A channel's next free posting slot, shared by every process on the database: a post reserves the
    slot (max of this and now) and moves it on by the pacing interval in one atomic update, so two
    processes never take slots less than an interval apart (`store.pacing`). `team_id` is "" when the
    channel is paced across workspaces (a Slack Connect channel has one id in all of them).
    `last_departed_at`: when the channel's last message left, so one leaving late (a process busy when its
    slot came) holds the next one back."""

    __tablename__ = "channel_pace"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_slot_at: Mapped[datetime]
    last_departed_at: Mapped[datetime | None]


class TrafficHourRow(Base):
    """One hour of an account's traffic to one destination (`store.domain.traffic.TrafficHour`). The
    platform re-sends an hour whole: the hour's rows are replaced together. `line_type` is "" when not
    given (a key column cannot be NULL)."""

    __tablename__ = "traffic_hours"

    account_id: Mapped[str] = _account_fk()
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    destination: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    line_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    quantity: Mapped[Decimal]
    area: Mapped[str] = mapped_column(String(8))
    high_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    iso_code: Mapped[str | None] = mapped_column(String(2))
    place: Mapped[str | None] = mapped_column(String(100))
    rate_version: Mapped[int | None] = mapped_column(Integer)
    priced_as: Mapped[str | None] = mapped_column(String(16))
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    cost: Mapped[Decimal | None] = mapped_column(Money(22, 8))
    unpriced: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime]


class TrafficSeriesRow(Base):
    """One area's traffic of one kind for an account, a total a day (UTC) for the last `SERIES_DAYS`: the
    spike baseline's history in one row, kept up to date as hours arrive (`store.traffic`)."""

    __tablename__ = "traffic_series"

    account_id: Mapped[str] = _account_fk()
    area: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    place: Mapped[str] = mapped_column(String(100))
    first_day: Mapped[date] = mapped_column(Date)
    days: Mapped[dict[str, Any]]
    """ISO date → that day's quantity (a decimal string); days without traffic are left out."""


class TrafficSpikeRow(Base):
    """A spike alert's outbox row, claimed once per account, area, kind and day (the unique constraint),
    in the transaction that stored the traffic; `status` then tracks its delivery, `version` the changes
    its message must show (a block, a mute), `shown_version` what it shows, and `message_stale` (indexed)
    that a posted message is behind."""

    __tablename__ = "traffic_spikes"
    __table_args__ = (
        UniqueConstraint("account_id", "area", "kind", "day", name="uq_traffic_spikes_per_day"),
        Index("ix_traffic_spikes_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_traffic_spikes_message_stale", "message_stale"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"))
    area: Mapped[str] = mapped_column(String(8))
    place: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    quantity: Mapped[Decimal]
    cost: Mapped[Decimal] = mapped_column(Money(22, 8))
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    baseline: Mapped[Decimal]
    baseline_days: Mapped[int] = mapped_column(Integer)
    high_risk: Mapped[bool] = mapped_column(Boolean)
    prefixes: Mapped[str] = mapped_column(String(200))
    """The window's destinations as sent, most traffic first (what a block covers), comma-separated."""
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    may_be_posted: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)
    shown_version: Mapped[int] = mapped_column(Integer, default=0)
    message_stale: Mapped[bool] = mapped_column(Boolean, default=False)


class TrafficMuteRow(Base):
    """No spike alerts for an account's area and kind until `until`: "It's expected" (7 days) or a
    snooze."""

    __tablename__ = "traffic_mutes"

    account_id: Mapped[str] = _account_fk()
    area: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    until: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class DestinationBlockRow(Base):
    """A destination an administrator blocked from a spike alert, handed to the billing platform: polled
    (`GET …/destination-blocks`) and, with `BLOCKS_WEBHOOK_URL`, pushed by the webhook outbox (the
    `webhook_*` columns) until acknowledged. The platform confirms or lifts it (`state`)."""

    __tablename__ = "destination_blocks"
    __table_args__ = (Index("ix_destination_blocks_webhook", "webhook_status", "webhook_next_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"))
    spike_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("traffic_spikes.id", ondelete="SET NULL")
    )
    area: Mapped[str] = mapped_column(String(8))
    place: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))
    prefixes: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(200))
    webhook_status: Mapped[str] = mapped_column(String(16))
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0)
    webhook_next_at: Mapped[datetime]
    webhook_lease_until: Mapped[datetime | None]
    webhook_delivered_at: Mapped[datetime | None]
    webhook_error: Mapped[str | None] = mapped_column(String(200))


class WorkerPassRow(Base):
    """When a worker last finished a pass (one row per kind of pass: `evaluation`), for `myplan status`."""

    __tablename__ = "worker_passes"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_at: Mapped[datetime]


class UsageRollupRow(Base):
    """How far an account's usage readings are rolled up to one a day (`bot/retention/rollup.py`): the
    readings before `rolled_up_before` are, so each prune starts where the last one stopped."""

    __tablename__ = "usage_rollups"

    account_id: Mapped[str] = _account_fk()
    rolled_up_before: Mapped[datetime]
