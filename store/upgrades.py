"""Upgrade and add-on requests: stored before Sales hears of them, so none is lost."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit import add_audit
from store.clock import utcnow
from store.db import Database
from store.domain.upgrades import (
    MAX_EMAIL_ERROR_CHARS,
    Delivery,
    EmailStatus,
    UpgradeDraft,
    UpgradeRequest,
    UpgradeStatus,
)
from store.errors import NotFound
from store.tables import UpgradeRequestRow

DOUBLE_SUBMIT_WINDOW = timedelta(minutes=1)


def new_request_id() -> str:
    """A short reference people can quote ("UR-3F9A0B1C2D"); random, so it says nothing about other accounts."""
    return "UR-" + secrets.token_hex(5).upper()


def fingerprint(draft: UpgradeDraft) -> str:
    """What makes two submissions "the same request"."""
    parts = [
        draft.requested_by,
        draft.kind.value,
        str(draft.quantity or ""),
        draft.feature.value if draft.feature else "",
        " ".join(draft.note.split()),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _minute(moment: datetime) -> int:
    return int(moment.timestamp() // 60)


class UpgradeRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, draft: UpgradeDraft, *, now: datetime | None = None
    ) -> tuple[UpgradeRequest, bool]:
        """Store the request; (the request, True), or (the earlier one, False) for a double submit
        by the same user within a minute."""
        now = now or utcnow()
        same = fingerprint(draft)
        keys = [f"{same}:{_minute(now)}", f"{same}:{_minute(now) - 1}"]
        try:
            async with self._db.session() as session:
                earlier = await _recent_duplicate(session, draft.account_id, keys, now)
                if earlier is not None:
                    return _domain(earlier), False
                row = _new_row(draft, keys[0], now)
                session.add(row)
                add_audit(
                    session,
                    account_id=draft.account_id,
                    actor=draft.requested_by,
                    action="upgrade.requested",
                    after={
                        "id": row.id,
                        "kind": draft.kind.value,
                        "quantity": draft.quantity,
                        "feature": row.feature,
                    },
                    note=draft.note or None,
                    now=now,
                )
            return _domain(row), True
        except IntegrityError:
            # The same request was stored by a concurrent submission in the meantime.
            async with self._db.session() as session:
                earlier = await _recent_duplicate(session, draft.account_id, keys, now)
                if earlier is None:
                    raise
                return _domain(earlier), False

    async def get(self, account_id: str, request_id: str) -> UpgradeRequest:
        """The account's request; NotFound when it does not exist or belongs to another account."""
        async with self._db.session() as session:
            return _domain(await _row(session, account_id, request_id))

    async def find(self, request_id: str) -> UpgradeRequest:
        """The request with this id, whichever account it is of (for the vendor's Sales, who act on every
        account's requests); NotFound when there is none."""
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(select(UpgradeRequestRow).where(UpgradeRequestRow.id == request_id))
            if row is None:
                raise NotFound(f"upgrade request {request_id!r}")
            return _domain(row)

    async def recent(self, account_id: str, *, limit: int = 10) -> list[UpgradeRequest]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(UpgradeRequestRow)
                .where(UpgradeRequestRow.account_id == account_id)
                .order_by(UpgradeRequestRow.created_at.desc(), UpgradeRequestRow.id)
                .limit(limit)
            )
            return [_domain(row) for row in rows]

    async def record_delivery(
        self,
        account_id: str,
        request_id: str,
        delivery: Delivery,
        *,
        channel: str | None = None,
        ts: str | None = None,
        error: str | None = None,
        now: datetime | None = None,
    ) -> UpgradeRequest:
        async with self._db.session() as session:
            row = await _row(session, account_id, request_id)
            row.delivery = delivery.value
            row.sales_channel = channel
            row.sales_ts = ts
            row.delivery_error = error[:100] if error else None
            row.updated_at = now or utcnow()
            return _domain(row)

    async def record_email(
        self,
        account_id: str,
        request_id: str,
        status: EmailStatus,
        *,
        to: str,
        attempts: int = 0,
        error: str | None = None,
        now: datetime | None = None,
    ) -> UpgradeRequest:
        """Record where the request's email to Sales stands: SENDING before the first attempt (so a process
        that dies while sending leaves a trace), then its outcome, with the attempts made and the last error."""
        now = now or utcnow()
        async with self._db.session() as session:
            row = await _row(session, account_id, request_id)
            row.email_status = status.value
            row.email_to = to
            row.email_at = now
            row.email_attempts = attempts
            row.email_error = error[:MAX_EMAIL_ERROR_CHARS] if error else None
            row.updated_at = now
            return _domain(row)

    async def advance(
        self,
        account_id: str,
        request_id: str,
        status: UpgradeStatus,
        *,
        by: str,
        now: datetime | None = None,
    ) -> tuple[UpgradeRequest, bool]:
        """Move the request on to `status` (acknowledged, then done); (request, False) when it was
        already there or beyond, so a second click changes nothing."""
        now = now or utcnow()
        order = list(UpgradeStatus)
        async with self._db.session() as session:
            row = await _row(session, account_id, request_id, for_update=True)
            if order.index(UpgradeStatus(row.status)) >= order.index(status):
                return _domain(row), False
            if status == UpgradeStatus.ACKNOWLEDGED:
                row.acknowledged_by, row.acknowledged_at = by, now
            elif status == UpgradeStatus.DONE:
                row.done_by, row.done_at = by, now
            before = row.status
            row.status = status.value
            row.updated_at = now
            add_audit(
                session,
                account_id=account_id,
                actor=by,
                action=f"upgrade.{status.value}",
                before={"id": row.id, "status": before},
                after={"id": row.id, "status": status.value},
                now=now,
            )
            return _domain(row), True


async def _row(
    session: AsyncSession, account_id: str, request_id: str, *, for_update: bool = False
) -> UpgradeRequestRow:
    query = select(UpgradeRequestRow).where(
        UpgradeRequestRow.id == request_id, UpgradeRequestRow.account_id == account_id
    )
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(f"upgrade request {request_id!r}")
    return row


async def _recent_duplicate(
    session: AsyncSession, account_id: str, keys: list[str], now: datetime
) -> UpgradeRequestRow | None:
    return await session.scalar(
        select(UpgradeRequestRow)
        .where(
            UpgradeRequestRow.account_id == account_id,
            UpgradeRequestRow.dedupe_key.in_(keys),
            UpgradeRequestRow.created_at > now - DOUBLE_SUBMIT_WINDOW,
        )
        .order_by(UpgradeRequestRow.created_at)
        .limit(1)
    )


def _new_row(draft: UpgradeDraft, dedupe_key: str, now: datetime) -> UpgradeRequestRow:
    return UpgradeRequestRow(
        id=new_request_id(),
        account_id=draft.account_id,
        team_id=draft.team_id,
        requested_by=draft.requested_by,
        kind=draft.kind.value,
        quantity=draft.quantity,
        feature=draft.feature.value if draft.feature else None,
        note=draft.note,
        status=UpgradeStatus.REQUESTED.value,
        evidence=draft.evidence.model_dump(mode="json"),
        dedupe_key=dedupe_key,
        created_at=now,
        updated_at=now,
        delivery=Delivery.PENDING.value,
    )


def _domain(row: UpgradeRequestRow) -> UpgradeRequest:
    return UpgradeRequest.model_validate(row, from_attributes=True)
