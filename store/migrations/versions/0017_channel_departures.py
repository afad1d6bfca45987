"""channel departures: when each channel's last message actually left, so that a post leaving late holds
the next one back (a slot alone spaces the reservations, not the departures)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_pace") as batch:
        batch.add_column(
            sa.Column("last_departed_at", store.coltypes.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_pace") as batch:
        batch.drop_column("last_departed_at")
