"""upgrade request email: the outcome of emailing a request to Sales (SALES_EMAIL)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("upgrade_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("email_to", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("email_at", store.coltypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("email_attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("email_error", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upgrade_requests", schema=None) as batch_op:
        batch_op.drop_column("email_error")
        batch_op.drop_column("email_attempts")
        batch_op.drop_column("email_at")
        batch_op.drop_column("email_to")
        batch_op.drop_column("email_status")
