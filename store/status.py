"""What an operator needs to see at a glance (`myplan status`), read in one go; and the worker's passes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import Database
from store.domain.alerts import AlertStatus
from store.domain.traffic import SpikeStatus
from store.domain.upgrades import Delivery, EmailStatus
from store.tables import (
    SLACK_BOTS,
    AccountRow,
    AlertEvaluationFailureRow,
    AlertRow,
    TrafficSpikeRow,
    UpgradeRequestRow,
    WorkerPassRow,
    WorkspaceLinkRow,
)
from store.upserts import insert_for

EVALUATION_PASS: Final = "evaluation"
PRUNE_PASS: Final = "prune"
DAY: Final = timedelta(days=1)


class FailingAccount(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    failures: int
    last_error: str
    since: datetime


class Installations(BaseModel):
    model_config = ConfigDict(frozen=True)

    workspaces: int
    """Workspaces with an installation (OAuth mode; 0 with a single bot token)."""
    expired: int
    """Rotating tokens past their expiry: refreshed on their workspace's next request (or failing to be)."""
    expiring_within_a_day: int
    linked_not_installed: list[str]
    """Linked workspaces without an installation: the app was uninstalled there or its tokens revoked."""


class Outbox(BaseModel):
    model_config = ConfigDict(frozen=True)

    due: int
    leased: int
    failed_last_day: int
    oldest_due_at: datetime | None


class Status(BaseModel):
    model_config = ConfigDict(frozen=True)

    accounts: int
    linked: int
    without_alerts_channel: int
    failing: list[FailingAccount]
    installations: Installations
    alerts: Outbox
    spike_alerts: Outbox
    last_evaluation_pass: datetime | None
    last_prune: datetime | None
    """When a worker last began its daily prune (`bot/retention`)."""
    failed_sales_deliveries: list[str]
    """Upgrade requests whose Sales post or email failed for good (their ids)."""


class StatusRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_pass(self, name: str, at: datetime) -> None:
        """A worker finished a pass of kind `name` at `at`."""
        async with self._db.session() as session:
            insert = insert_for(session)
            await session.execute(
                insert(WorkerPassRow)
                .values(name=name, last_at=at)
                .on_conflict_do_update(index_elements=["name"], set_={"last_at": at})
            )

    async def claim_pass(self, name: str, now: datetime, *, every: timedelta) -> bool:
        """Take the pass `name` if nobody took it in the last `every`; of processes asking at once, one
        gets it (the row's update is atomic)."""
        async with self._db.session() as session:
            insert = insert_for(session)
            taken = await session.execute(
                insert(WorkerPassRow)
                .values(name=name, last_at=now)
                .on_conflict_do_update(
                    index_elements=["name"], set_={"last_at": now}, where=WorkerPassRow.last_at <= now - every
                )
                .returning(WorkerPassRow.name)
            )
            return taken.first() is not None

    async def read(self, now: datetime, *, oauth: bool) -> Status:
        async with self._db.session(read_only=True) as session:
            count = func.count()
            accounts = await session.scalar(select(count).select_from(AccountRow)) or 0
            linked = await session.scalar(select(func.count(func.distinct(WorkspaceLinkRow.account_id)))) or 0
            no_channel = await session.scalar(
                select(count).where(or_(AccountRow.alerts_channel.is_(None), AccountRow.alerts_channel == ""))
            )
            failing = [
                FailingAccount(account_id=a, failures=n, last_error=e, since=f)
                for a, n, e, f in await session.execute(
                    select(
                        AlertEvaluationFailureRow.account_id,
                        AlertEvaluationFailureRow.failures,
                        AlertEvaluationFailureRow.last_error,
                        AlertEvaluationFailureRow.first_failed_at,
                    ).order_by(AlertEvaluationFailureRow.account_id)
                )
            ]
            passes = dict((await session.execute(select(WorkerPassRow.name, WorkerPassRow.last_at))).all())
            sales = list(
                await session.scalars(
                    select(UpgradeRequestRow.id)
                    .where(
                        or_(
                            UpgradeRequestRow.delivery == Delivery.FAILED.value,
                            UpgradeRequestRow.email_status == EmailStatus.FAILED.value,
                        )
                    )
                    .order_by(UpgradeRequestRow.created_at)
                )
            )
            return Status(
                accounts=accounts,
                linked=linked,
                without_alerts_channel=no_channel or 0,
                failing=failing,
                installations=await _installations(session, now, oauth=oauth),
                alerts=await _outbox(
                    session, AlertRow, now, AlertStatus.PENDING, AlertStatus.SENDING, AlertStatus.FAILED
                ),
                spike_alerts=await _outbox(
                    session,
                    TrafficSpikeRow,
                    now,
                    SpikeStatus.PENDING,
                    SpikeStatus.SENDING,
                    SpikeStatus.FAILED,
                ),
                last_evaluation_pass=passes.get(EVALUATION_PASS),
                last_prune=passes.get(PRUNE_PASS),
                failed_sales_deliveries=sales,
            )


async def _outbox(
    session: AsyncSession,
    row: type[AlertRow] | type[TrafficSpikeRow],
    now: datetime,
    pending: AlertStatus | SpikeStatus,
    sending: AlertStatus | SpikeStatus,
    failed: AlertStatus | SpikeStatus,
) -> Outbox:
    """An outbox's rows due now, leased, failed in the last day (claimed then), and the oldest due."""
    due = and_(row.status == pending.value, row.next_attempt_at <= now)
    found = (
        await session.execute(
            select(
                func.count().filter(due),
                func.count().filter(and_(row.status == sending.value, row.lease_until > now)),
                func.count().filter(and_(row.status == failed.value, row.created_at >= now - DAY)),
                func.min(row.next_attempt_at).filter(due),
            )
        )
    ).one()
    return Outbox(due=found[0], leased=found[1], failed_last_day=found[2], oldest_due_at=found[3])


async def _installations(session: AsyncSession, now: datetime, *, oauth: bool) -> Installations:
    """Each workspace's newest bot installation (slack_sdk's table) and its token's expiry."""
    bots = SLACK_BOTS.c
    latest = (
        select(bots.team_id, func.max(bots.installed_at).label("installed_at"))
        .where(bots.team_id.is_not(None))
        .group_by(bots.team_id)
        .subquery()
    )
    current = select(bots.team_id, bots.bot_token_expires_at).join(
        latest, and_(latest.c.team_id == bots.team_id, latest.c.installed_at == bots.installed_at)
    )
    rows = (await session.execute(current)).all()
    naive_now = now.replace(tzinfo=None)  # slack_sdk's table keeps naive UTC times

    def expiry(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=None) if value is not None else None

    expired = sum(1 for _, at in rows if (e := expiry(at)) is not None and e <= naive_now)
    soon = sum(1 for _, at in rows if (e := expiry(at)) is not None and naive_now < e <= naive_now + DAY)
    installed = {team for team, _ in rows}
    linked_teams = list(
        await session.scalars(select(WorkspaceLinkRow.team_id).order_by(WorkspaceLinkRow.team_id))
    )
    return Installations(
        workspaces=len(installed),
        expired=expired,
        expiring_within_a_day=soon,
        linked_not_installed=[t for t in linked_teams if t not in installed] if oauth else [],
    )
