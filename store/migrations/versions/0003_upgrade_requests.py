"""upgrade requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:31:13
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upgrade_requests",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("feature", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=32), nullable=True),
        sa.Column("acknowledged_at", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=32), nullable=True),
        sa.Column("done_at", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("sales_channel", sa.String(length=32), nullable=True),
        sa.Column("sales_ts", sa.String(length=32), nullable=True),
        sa.Column("delivery_error", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_upgrade_requests_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upgrade_requests")),
        sa.UniqueConstraint("account_id", "dedupe_key", name=op.f("uq_upgrade_requests_account_dedupe")),
    )
    with op.batch_alter_table("upgrade_requests", schema=None) as batch_op:
        batch_op.create_index(
            op.f("ix_upgrade_requests_account_created"), ["account_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("upgrade_requests", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_upgrade_requests_account_created"))

    op.drop_table("upgrade_requests")
