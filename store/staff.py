"""Staff-account activity per service account, and the licence hygiene notice's once-per-period claim."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from store.clock import utcnow
from store.db import Database
from store.domain.staff import LicenceNoticeClaim, StaffAccountDoc, StaffActivity, StaffList
from store.errors import NotFound
from store.tables import (
    AccountRow,
    LicenceNoticeRow,
    StaffAccountRow,
    StaffListRow,
    SubscriptionRow,
    WorkspaceLinkRow,
)

MAX_NOTICE_ERROR = 200


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

    async def claim_notice(self, claim: LicenceNoticeClaim, *, now: datetime) -> bool:
        """Insert the period's notice row and commit it; False when another process claimed it first."""
        try:
            async with self._db.session() as session:
                session.add(
                    LicenceNoticeRow(
                        account_id=claim.account_id,
                        period_start=claim.period_start,
                        renewal=claim.renewal,
                        claimed_at=now,
                        sent_to=0,
                    )
                )
                await session.flush()
        except IntegrityError:
            return False
        return True

    async def record_notice(
        self, claim: LicenceNoticeClaim, *, sent_to: int, error: str | None, now: datetime
    ) -> None:
        """How the claimed notice went: how many administrators got it, and why not the others."""
        async with self._db.session() as session:
            await session.execute(
                update(LicenceNoticeRow)
                .where(
                    LicenceNoticeRow.account_id == claim.account_id,
                    LicenceNoticeRow.period_start == claim.period_start,
                )
                .values(sent_to=sent_to, error=error[:MAX_NOTICE_ERROR] if error else None, finished_at=now)
            )

    async def notice_sent_to(self, account_id: str, period_start: date) -> int | None:
        """How many administrators the period's notice reached (None: not claimed)."""
        async with self._db.session(read_only=True) as session:
            row = await session.get(LicenceNoticeRow, (account_id, period_start))
            return None if row is None else row.sent_to
