"""Staff-account activity per service account, and the licence hygiene notice: its once-per-period claim and
its DMs' outbox (one row per administrator, leased and fenced like the spike alerts')."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.clock import utcnow
from store.db import Database
from store.domain.staff import (
    LicenceNoticeClaim,
    LicenceNoticeDm,
    StaffAccountDoc,
    StaffActivity,
    StaffList,
)
from store.errors import NotFound
from store.tables import (
    AccountRow,
    LicenceNoticeDmRow,
    LicenceNoticeRow,
    StaffAccountRow,
    StaffListRow,
    SubscriptionRow,
    WorkspaceLinkRow,
)

MAX_NOTICE_ERROR = 200
N, D = LicenceNoticeRow, LicenceNoticeDmRow
DM_PENDING: Final = "pending"
DM_SENDING: Final = "sending"
DM_SENT: Final = "sent"
DM_FAILED: Final = "failed"
"""A notice DM's states: pending (due at `next_attempt_at`), sending (leased), and the two final ones."""


class StaffRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace(
        self, account_id: str, staff: Sequence[StaffAccountDoc], *, now: datetime | None = None
    ) -> None:
        """Replace the account's whole staff list in one transaction (ids must be unique); NotFound for
        an unknown account."""
        async with self._db.session() as session:
            if await session.get(AccountRow, account_id) is None:
                raise NotFound(f"account {account_id!r}")
            await session.execute(delete(StaffAccountRow).where(StaffAccountRow.account_id == account_id))
            if staff:
                await session.execute(
                    insert(StaffAccountRow),
                    [
                        {
                            "account_id": account_id,
                            "staff_id": member.id,
                            "position": position,
                            "display_name": member.display_name,
                            "licensed": member.licensed,
                            "last_active_at": member.last_active_at,
                        }
                        for position, member in enumerate(staff)
                    ],
                )
            received = await session.get(StaffListRow, account_id)
            if received is None:
                session.add(StaffListRow(account_id=account_id, received_at=now or utcnow()))
            else:
                received.received_at = now or utcnow()

    async def activity(self, account_id: str) -> StaffActivity:
        """The stored list, in the order it was sent; NotFound for an unknown account."""
        async with self._db.session(read_only=True) as session:
            if await session.get(AccountRow, account_id) is None:
                raise NotFound(f"account {account_id!r}")
            received = await session.get(StaffListRow, account_id)
            rows = await session.scalars(
                select(StaffAccountRow)
                .where(StaffAccountRow.account_id == account_id)
                .order_by(StaffAccountRow.position)
            )
            # Built without validation: a row stored before a bound was tightened still reads back.
            staff = tuple(
                StaffAccountDoc.model_construct(
                    id=row.staff_id,
                    display_name=row.display_name,
                    licensed=row.licensed,
                    last_active_at=row.last_active_at,
                )
                for row in rows
            )
            return StaffActivity(received_at=received.received_at if received else None, staff=staff)

    async def document(self, account_id: str) -> StaffList:
        """The list as the document `PUT` accepts; putting it again changes nothing."""
        return StaffList.model_construct(staff=list((await self.activity(account_id)).staff))

    async def notices_due(self, *, renewing_from: date, renewing_until: date) -> list[LicenceNoticeClaim]:
        """Linked accounts renewing in [renewing_from, renewing_until] whose period has no notice yet."""
        already = exists().where(
            LicenceNoticeRow.account_id == SubscriptionRow.account_id,
            LicenceNoticeRow.period_start == SubscriptionRow.period_start,
        )
        linked = exists().where(WorkspaceLinkRow.account_id == SubscriptionRow.account_id)
        async with self._db.session(read_only=True) as session:
            rows = await session.execute(
                select(
                    SubscriptionRow.account_id,
                    SubscriptionRow.period_start,
                    SubscriptionRow.next_payment_date,
                )
                .where(
                    SubscriptionRow.next_payment_date >= renewing_from,
                    SubscriptionRow.next_payment_date <= renewing_until,
                    ~already,
                    linked,
                )
                .order_by(SubscriptionRow.account_id)
            )
            return [
                LicenceNoticeClaim(account_id=account, period_start=start, renewal=renewal)
                for account, start, renewal in rows
            ]

    async def claim_notice(
        self,
        claim: LicenceNoticeClaim,
        *,
        team_id: str | None,
        admins: Sequence[str],
        error: str | None,
        now: datetime,
    ) -> bool:
        """Insert the period's notice row and, when there is a workspace to send from, a pending DM row per
        administrator, in one transaction; False when another process claimed the period first. `error`:
        why nobody is told (no administrators, no workspace)."""
        try:
            async with self._db.session() as session:
                session.add(
                    LicenceNoticeRow(
                        account_id=claim.account_id,
                        period_start=claim.period_start,
                        renewal=claim.renewal,
                        claimed_at=now,
                        sent_to=0,
                        error=error,
                        finished_at=now if error else None,
                    )
                )
                await session.flush()  # the period first: a process that loses it inserts no DM
                if team_id is not None:
                    session.add_all(_pending_dm(claim, team_id, admin, now) for admin in admins)
        except IntegrityError:
            return False
        return True

    async def claim_notice_dms(self, now: datetime, *, lease: timedelta, limit: int) -> list[LicenceNoticeDm]:
        """Notice DMs due (pending and due, or sending with a lapsed lease), leased to the caller until
        `now + lease`, each with its attempt number one up. One taken over from a pass whose lease lapsed
        may have been posted by that pass: it is marked so, and looked up before it is posted again."""
        async with self._db.session() as session:
            due = (
                select(D, N.renewal, N.claimed_at)
                .join(N, (N.account_id == D.account_id) & (N.period_start == D.period_start))
                .where(
                    or_(
                        (D.status == DM_PENDING) & (D.next_attempt_at <= now),
                        (D.status == DM_SENDING) & (D.lease_until <= now),
                    )
                )
                .order_by(D.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True, of=D)
            )
            claimed = []
            for row, renewal, claimed_at in (await session.execute(due)).all():
                row.may_be_posted = row.may_be_posted or row.status == DM_SENDING
                row.status, row.lease_until, row.attempts = DM_SENDING, now + lease, row.attempts + 1
                claimed.append(_dm(row, renewal, claimed_at))
            return claimed

    async def notice_dm_sent(self, dm: LicenceNoticeDm, *, channel: str, ts: str, now: datetime) -> bool:
        """Attempt `dm.attempts` delivered the DM (and the period counts it); False, recording nothing, when
        that attempt is no longer the DM's (another pass took it over and looks the DM up)."""
        async with self._db.session() as session:
            if not await _finish_dm(
                session,
                dm,
                status=DM_SENT,
                channel=channel,
                message_ts=ts,
                sent_at=now,
                lease_until=None,
                error=None,
            ):
                return False
            await session.execute(
                update(N)
                .where(N.account_id == dm.account_id, N.period_start == dm.period_start)
                .values(sent_to=N.sent_to + 1)
            )
            return True

    async def notice_dm_retry(
        self, dm: LicenceNoticeDm, *, reason: str, at: datetime, may_be_posted: bool
    ) -> bool:
        """Put back for `at`; `may_be_posted` once any attempt's outcome was unknown (it stays so). False as
        `notice_dm_sent`."""
        values: dict[str, Any] = {
            "status": DM_PENDING,
            "next_attempt_at": at,
            "lease_until": None,
            "error": reason[:MAX_NOTICE_ERROR],
        }
        if may_be_posted:
            values["may_be_posted"] = True
        async with self._db.session() as session:
            return await _finish_dm(session, dm, **values)

    async def notice_dm_failed(self, dm: LicenceNoticeDm, reason: str) -> bool:
        """Given up on, never tried again. False as `notice_dm_sent`."""
        async with self._db.session() as session:
            return await _finish_dm(
                session, dm, status=DM_FAILED, lease_until=None, error=reason[:MAX_NOTICE_ERROR]
            )

    async def notice_sent_to(self, account_id: str, period_start: date) -> int | None:
        """How many administrators the period's notice has reached (None: not claimed)."""
        async with self._db.session(read_only=True) as session:
            row = await session.get(LicenceNoticeRow, (account_id, period_start))
            return None if row is None else row.sent_to


def _pending_dm(claim: LicenceNoticeClaim, team_id: str, admin: str, now: datetime) -> LicenceNoticeDmRow:
    return LicenceNoticeDmRow(
        account_id=claim.account_id,
        period_start=claim.period_start,
        admin_id=admin,
        team_id=team_id,
        status=DM_PENDING,
        attempts=0,
        next_attempt_at=now,
        may_be_posted=False,
    )


def _dm(row: LicenceNoticeDmRow, renewal: date, claimed_at: datetime) -> LicenceNoticeDm:
    return LicenceNoticeDm(
        account_id=row.account_id,
        period_start=row.period_start,
        renewal=renewal,
        claimed_at=claimed_at,
        admin_id=row.admin_id,
        team_id=row.team_id,
        attempts=row.attempts,
        may_be_posted=row.may_be_posted,
    )


async def _finish_dm(session: AsyncSession, dm: LicenceNoticeDm, **values: Any) -> bool:
    """The outcome of attempt `dm.attempts`, recorded only while that attempt holds the DM (sending, not
    taken over since), so a late pass never overwrites the pass that took the DM over."""
    finished = await session.scalar(
        update(D)
        .where(
            D.account_id == dm.account_id,
            D.period_start == dm.period_start,
            D.admin_id == dm.admin_id,
            D.status == DM_SENDING,
            D.attempts == dm.attempts,
        )
        .values(**values)
        .returning(D.admin_id)
        .execution_options(synchronize_session=False)
    )
    return finished is not None
