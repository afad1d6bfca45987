"""licence notice DMs: one outbox row per administrator of a claimed notice, so that a DM Slack refused for
now is retried, one whose outcome was lost is looked up, and a crashed pass's lease is taken over

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Moment = store.coltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "licence_notice_dms",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("admin_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Moment(timezone=True), nullable=False),
        sa.Column("lease_until", Moment(timezone=True), nullable=True),
        sa.Column("may_be_posted", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("sent_at", Moment(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_licence_notice_dms_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "period_start", "admin_id", name=op.f("pk_licence_notice_dms")),
    )
    op.create_index(
        "ix_licence_notice_dms_status_next_attempt_at",
        "licence_notice_dms",
        ["status", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_table("licence_notice_dms")
