"""worker passes: when a worker last finished each kind of pass, for `myplan status`

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_passes",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_passes")),
    )


def downgrade() -> None:
    op.drop_table("worker_passes")
