"""evaluation marks: the accounts whose alert evaluation is due, and when, so that a worker's pass
evaluates only what changed (or whose time came) instead of every account; an index of the resolved
alert messages not yet shown resolved

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.coltypes

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_evaluation_marks",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", store.coltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_alert_evaluation_marks_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_alert_evaluation_marks")),
    )
    with op.batch_alter_table("alert_evaluation_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_evaluation_marks_due_at"), ["due_at"], unique=False)
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alerts_unshown_resolution", ["resolution_shown_at", "resolution"], unique=False
        )
    # Every account existing before incremental evaluation is due at once: the first pass is a full one.
    epoch = "1970-01-01 00:00:00" if op.get_bind().dialect.name == "sqlite" else "1970-01-01 00:00:00+00"
    op.execute(
        f"INSERT INTO alert_evaluation_marks (account_id, due_at, version) SELECT id, '{epoch}', 0 FROM accounts"
    )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_unshown_resolution")
    with op.batch_alter_table("alert_evaluation_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_evaluation_marks_due_at"))
    op.drop_table("alert_evaluation_marks")
