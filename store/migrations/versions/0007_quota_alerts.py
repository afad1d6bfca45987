"""quota alerts: alert rules and thresholds per account, the alert outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 12:41:40.856987
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("meter", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("channel_team_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_alert_rules_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "meter", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "alert_thresholds",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("meter", sa.String(length=64), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_alert_thresholds_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "meter", "percent", name=op.f("pk_alert_thresholds")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("meter", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("used", store.coltypes.Money(), nullable=False),
        sa.Column("available", store.coltypes.Money(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("as_of", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("forecast_runs_out_at", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("forecast_readings", sa.Integer(), nullable=True),
        sa.Column("forecast_days", store.coltypes.Money(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_attempt_at", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=32), nullable=True),
        sa.Column("acknowledged_at", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("snoozed_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_alerts_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "account_id", "meter", "kind", "threshold", "period_start", name=op.f("uq_alerts_account_id")
        ),
    )
    op.create_index("ix_alerts_status_next_attempt_at", "alerts", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alerts_status_next_attempt_at", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_thresholds")
    op.drop_table("alert_rules")
