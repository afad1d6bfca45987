"""traffic by destination: the billing platform's hourly aggregates priced by the rate table in force that
hour, each area's daily history for spike baselines, spike alerts (an outbox), mutes, and destination blocks
handed to the platform (a webhook outbox)

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

Moment = store.coltypes.UTCDateTime


def _account(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=op.f(f"fk_{table}_account_id_accounts"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "traffic_hours",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("hour", Moment(timezone=True), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("line_type", sa.String(length=16), nullable=False),
        sa.Column("quantity", store.coltypes.Money(), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("high_risk", sa.Boolean(), nullable=False),
        sa.Column("iso_code", sa.String(length=2), nullable=True),
        sa.Column("place", sa.String(length=100), nullable=True),
        sa.Column("rate_version", sa.Integer(), nullable=True),
        sa.Column("priced_as", sa.String(length=16), nullable=True),
        sa.Column("rate", store.coltypes.ExactDecimal(), nullable=True),
        sa.Column("cost", store.coltypes.Money(22, 8), nullable=True),
        sa.Column("unpriced", sa.String(length=16), nullable=True),
        sa.Column("received_at", Moment(timezone=True), nullable=False),
        _account("traffic_hours"),
        sa.PrimaryKeyConstraint(
            "account_id", "hour", "destination", "kind", "line_type", name=op.f("pk_traffic_hours")
        ),
    )
    op.create_table(
        "traffic_series",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        _account("traffic_series"),
        sa.PrimaryKeyConstraint("account_id", "area", "kind", name=op.f("pk_traffic_series")),
    )
    op.create_table(
        "traffic_mutes",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("until", Moment(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=32), nullable=False),
        sa.Column("at", Moment(timezone=True), nullable=False),
        _account("traffic_mutes"),
        sa.PrimaryKeyConstraint("account_id", "area", "kind", name=op.f("pk_traffic_mutes")),
    )
    op.create_table(
        "traffic_spikes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window_start", Moment(timezone=True), nullable=False),
        sa.Column("window_end", Moment(timezone=True), nullable=False),
        sa.Column("quantity", store.coltypes.Money(), nullable=False),
        sa.Column("cost", store.coltypes.Money(22, 8), nullable=False),
        sa.Column("rate", store.coltypes.ExactDecimal(), nullable=True),
        sa.Column("baseline", store.coltypes.Money(), nullable=False),
        sa.Column("baseline_days", sa.Integer(), nullable=False),
        sa.Column("high_risk", sa.Boolean(), nullable=False),
        sa.Column("prefixes", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Moment(timezone=True), nullable=False),
        sa.Column("lease_until", Moment(timezone=True), nullable=True),
        sa.Column("may_be_posted", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", Moment(timezone=True), nullable=False),
        sa.Column("sent_at", Moment(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.Column("message_stale", sa.Boolean(), nullable=False),
        _account("traffic_spikes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_spikes")),
        sa.UniqueConstraint("account_id", "area", "kind", "day", name="uq_traffic_spikes_per_day"),
    )
    op.create_index(
        "ix_traffic_spikes_status_next_attempt_at", "traffic_spikes", ["status", "next_attempt_at"]
    )
    op.create_index("ix_traffic_spikes_message_stale", "traffic_spikes", ["message_stale"])
    op.create_table(
        "destination_blocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("spike_id", sa.Integer(), nullable=True),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("prefixes", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("requested_at", Moment(timezone=True), nullable=False),
        sa.Column("updated_at", Moment(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("webhook_status", sa.String(length=16), nullable=False),
        sa.Column("webhook_attempts", sa.Integer(), nullable=False),
        sa.Column("webhook_next_at", Moment(timezone=True), nullable=False),
        sa.Column("webhook_lease_until", Moment(timezone=True), nullable=True),
        sa.Column("webhook_delivered_at", Moment(timezone=True), nullable=True),
        sa.Column("webhook_error", sa.String(length=200), nullable=True),
        _account("destination_blocks"),
        sa.ForeignKeyConstraint(
            ["spike_id"],
            ["traffic_spikes.id"],
            name=op.f("fk_destination_blocks_spike_id_traffic_spikes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destination_blocks")),
    )
    op.create_index(
        "ix_destination_blocks_webhook", "destination_blocks", ["webhook_status", "webhook_next_at"]
    )


def downgrade() -> None:
    op.drop_table("destination_blocks")
    op.drop_table("traffic_spikes")
    op.drop_table("traffic_mutes")
    op.drop_table("traffic_series")
    op.drop_table("traffic_hours")
