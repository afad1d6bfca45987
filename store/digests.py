"""The weekly digest: each account's schedule (audited like the alert settings), the once-per-week claim,
and what happened in a week that only the store knows (features whose status changed, upgrade requests).

A scheduled digest is claimed by inserting its row, unique per (account, week), and committing it before
anything is posted: a process that loses the insert posts nothing. A digest Slack certainly did not take
(a 429) is put back (`RETRY`) and may be claimed again by a conditional update, one process at a time."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from store.audit import add_audit
from store.db import Database
from store.domain.digests import Digest, DigestAccount, DigestSchedule, DigestStatus, FeatureStatusSince
from store.domain.upgrades import UpgradeRequest
from store.errors import NotFound
from store.tables import (
    AccountRow,
    DigestRow,
    DigestScheduleRow,
    FeatureRow,
    UpgradeRequestRow,
    WorkspaceLinkRow,
)

MAX_ERROR = 200


class DigestRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -------------------------------------------------------------------------------- schedule

    async def schedule(self, account_id: str) -> DigestSchedule:
        async with self._db.session(read_only=True) as session:
            if await session.get(AccountRow, account_id) is None:
                raise NotFound(f"account {account_id!r}")
            return _schedule(await session.get(DigestScheduleRow, account_id))

    async def save_schedule(
        self, account_id: str, schedule: DigestSchedule, *, by: str, now: datetime
    ) -> tuple[DigestSchedule, DigestSchedule]:
        """Replace the account's digest schedule; audited when it changes; returns (before, after)."""
        async with self._db.session() as session:
            if await session.get(AccountRow, account_id, with_for_update=True) is None:
                raise NotFound(f"account {account_id!r}")
            row = await session.get(DigestScheduleRow, account_id)
            before = _schedule(row)
            if before.same_times(schedule):
                return before, before
            if row is None:
                row = DigestScheduleRow(account_id=account_id)
                session.add(row)
            row.enabled, row.weekday, row.hour = schedule.enabled, schedule.weekday, schedule.hour
            row.updated_at, row.updated_by = now, by
            add_audit(
                session,
                account_id=account_id,
                actor=by,
                action="digest.settings",
                before=before.audit_view(),
                after=schedule.audit_view(),
                now=now,
            )
            return before, _schedule(row)

    async def linked_accounts(self) -> list[DigestAccount]:
        """Every account linked to a workspace, with its digest schedule (defaults when never set)."""
        linked = select(WorkspaceLinkRow.account_id).distinct()
        async with self._db.session(read_only=True) as session:
            rows = await session.execute(
                select(AccountRow.id, DigestScheduleRow)
                .outerjoin(DigestScheduleRow, DigestScheduleRow.account_id == AccountRow.id)
                .where(AccountRow.id.in_(linked))
                .order_by(AccountRow.id)
            )
            return [DigestAccount(account_id=account_id, schedule=_schedule(row)) for account_id, row in rows]

    # ---------------------------------------------------------------------------------- claims

    async def claim(self, account_id: str, week: date, *, now: datetime) -> int | None:
        """Claim the scheduled digest of `week` (committed before it returns): its id, or None when another
        process has it or it was already sent. A digest put back as certainly not posted is claimed again."""
        try:
            async with self._db.session() as session:
                row = DigestRow(
                    account_id=account_id,
                    week=week,
                    scheduled_week=week,
                    status=DigestStatus.SENDING.value,
                    attempts=1,
                    claimed_at=now,
                )
                session.add(row)
                await session.flush()
                return row.id
        except IntegrityError:
            pass
        async with self._db.session() as session:
            retaken = await session.execute(
                update(DigestRow)
                .where(
                    DigestRow.account_id == account_id,
                    DigestRow.scheduled_week == week,
                    DigestRow.status == DigestStatus.RETRY.value,
                )
                .values(status=DigestStatus.SENDING.value, attempts=DigestRow.attempts + 1, claimed_at=now)
                .returning(DigestRow.id)
            )
            return retaken.scalar_one_or_none()

    async def start_by_hand(self, account_id: str, week: date, *, now: datetime) -> int:
        """A digest sent by hand: recorded like the others, never counted as the week's scheduled one."""
        async with self._db.session() as session:
            row = DigestRow(
                account_id=account_id,
                week=week,
                status=DigestStatus.SENDING.value,
                attempts=1,
                claimed_at=now,
            )
            session.add(row)
            await session.flush()
            return row.id

    async def finish(
        self,
        digest_id: int,
        status: DigestStatus,
        *,
        now: datetime,
        channel: str | None = None,
        ts: str | None = None,
        error: str | None = None,
    ) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(DigestRow)
                .where(DigestRow.id == digest_id)
                .values(
                    status=status.value,
                    channel=channel,
                    ts=ts,
                    error=error[:MAX_ERROR] if error else None,
                    finished_at=now,
                )
            )

    async def all_of(self, account_id: str) -> list[Digest]:
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(DigestRow).where(DigestRow.account_id == account_id).order_by(DigestRow.id)
            )
            return [_digest(row) for row in rows]

    # --------------------------------------------------------------------------- the week's news

    async def feature_changes(
        self, account_id: str, *, since: datetime, until: datetime
    ) -> list[FeatureStatusSince]:
        """Features whose status changed in [since, until) (their `status_since`), oldest change first."""
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(FeatureRow)
                .where(
                    FeatureRow.account_id == account_id,
                    FeatureRow.status_since >= since,
                    FeatureRow.status_since < until,
                )
                .order_by(FeatureRow.status_since, FeatureRow.key)
            )
            return [FeatureStatusSince(key=r.key, status=r.status, since=r.status_since) for r in rows]

    async def upgrade_activity(
        self, account_id: str, *, since: datetime, until: datetime
    ) -> list[UpgradeRequest]:
        """Upgrade requests opened, acknowledged or done in [since, until), oldest first."""
        request = UpgradeRequestRow
        moments = (request.created_at, request.acknowledged_at, request.done_at)
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(request)
                .where(
                    request.account_id == account_id,
                    or_(*(and_(moment >= since, moment < until) for moment in moments)),
                )
                .order_by(request.created_at, request.id)
            )
            return [UpgradeRequest.model_validate(row, from_attributes=True) for row in rows]


def _schedule(row: DigestScheduleRow | None) -> DigestSchedule:
    if row is None:
        return DigestSchedule()
    return DigestSchedule(
        enabled=row.enabled,
        weekday=row.weekday,
        hour=row.hour,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _digest(row: DigestRow) -> Digest:
    return Digest(
        id=row.id,
        account_id=row.account_id,
        week=row.week,
        scheduled=row.scheduled_week is not None,
        status=DigestStatus(row.status),
        attempts=row.attempts,
        channel=row.channel,
        ts=row.ts,
        error=row.error,
        claimed_at=row.claimed_at,
        finished_at=row.finished_at,
    )
