"""usage roll-ups: how far each account's usage readings are rolled up to one a day (retention)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 16:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_rollups",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("rolled_up_before", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_usage_rollups_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_usage_rollups")),
    )


def downgrade() -> None:
    op.drop_table("usage_rollups")
