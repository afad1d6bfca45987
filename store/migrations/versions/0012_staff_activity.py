"""staff activity: the billing platform's staff list, a licence's price, and the once-per-period licence notice

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=op.f(f"fk_{table}_account_id_accounts"), ondelete="CASCADE"
    )


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("licence_price", store.coltypes.Money(), nullable=True))
    op.create_table(
        "staff_lists",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        _account_fk("staff_lists"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_staff_lists")),
    )
    op.create_table(
        "staff_accounts",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("licensed", sa.Boolean(), nullable=False),
        sa.Column("last_active_at", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        _account_fk("staff_accounts"),
        sa.PrimaryKeyConstraint("account_id", "staff_id", name=op.f("pk_staff_accounts")),
    )
    op.create_table(
        "licence_notices",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("renewal", sa.Date(), nullable=False),
        sa.Column("claimed_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_to", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("finished_at", store.coltypes.UTCDateTime(timezone=True), nullable=True),
        _account_fk("licence_notices"),
        sa.PrimaryKeyConstraint("account_id", "period_start", name=op.f("pk_licence_notices")),
    )


def downgrade() -> None:
    op.drop_table("licence_notices")
    op.drop_table("staff_accounts")
    op.drop_table("staff_lists")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("licence_price")
