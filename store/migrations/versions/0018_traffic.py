"""traffic by destination: the billing platform's hourly aggregates, each priced by the rate table in
force that hour

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "traffic_hours",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("hour", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("line_type", sa.String(length=16), nullable=False),
        sa.Column("quantity", store.coltypes.Money(), nullable=False),
        sa.Column("iso_code", sa.String(length=2), nullable=True),
        sa.Column("place", sa.String(length=100), nullable=True),
        sa.Column("rate_version", sa.Integer(), nullable=True),
        sa.Column("priced_as", sa.String(length=16), nullable=True),
        sa.Column("rate", store.coltypes.ExactDecimal(), nullable=True),
        sa.Column("cost", store.coltypes.Money(22, 8), nullable=True),
        sa.Column("unpriced", sa.String(length=16), nullable=True),
        sa.Column("received_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_traffic_hours_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "hour", "destination", "kind", "line_type", name=op.f("pk_traffic_hours")
        ),
    )


def downgrade() -> None:
    op.drop_table("traffic_hours")
