"""alert evaluation failures: accounts whose evaluation failed, skipped by sweeps until their retry time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_evaluation_failures",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("first_failed_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retry_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_alert_evaluation_failures_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_alert_evaluation_failures")),
    )
    with op.batch_alter_table("alert_evaluation_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_evaluation_failures_retry_at"), ["retry_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_evaluation_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_evaluation_failures_retry_at"))

    op.drop_table("alert_evaluation_failures")
