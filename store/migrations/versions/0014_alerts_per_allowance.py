"""alerts per allowance: an alert is unique per (account, meter, kind, threshold, billing period,
allowance), so a changed allowance (an upgrade or a downgrade within the period) starts its thresholds
afresh

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PER_PERIOD = ("account_id", "meter", "kind", "threshold", "period_start")


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_account_id", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_per_allowance", [*_PER_PERIOD, "available"])


def downgrade() -> None:
    # Alerts of one period at several allowances would break the narrower constraint: only the first
    # claimed of each (meter, kind, threshold, period) is kept.
    op.execute(
        "DELETE FROM alerts WHERE id NOT IN (SELECT MIN(id) FROM alerts GROUP BY "
        + ", ".join(_PER_PERIOD)
        + ")"
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_per_allowance", type_="unique")
        batch_op.create_unique_constraint(op.f("uq_alerts_account_id"), list(_PER_PERIOD))
