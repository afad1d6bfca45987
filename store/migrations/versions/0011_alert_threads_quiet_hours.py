"""alert threads and quiet hours: one message per meter and period (replies, resolution), and each
account's time zone and quiet hours

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALERT_COLUMNS = ("reply_ts", "may_be_posted", "resolved_at", "resolution", "resolved_available",
                  "resolution_shown_at")  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("may_be_posted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("resolved_at", store.coltypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("resolution", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("resolved_available", store.coltypes.Money(), nullable=True))
        batch_op.add_column(
            sa.Column("resolution_shown_at", store.coltypes.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "alert_schedules",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column("quiet_weekends", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_alert_schedules_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_alert_schedules")),
    )


def downgrade() -> None:
    op.drop_table("alert_schedules")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for column in reversed(_ALERT_COLUMNS):
            batch_op.drop_column(column)
