"""The audit log: who changed what, when, with the values before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.clock import utcnow
from store.db import Database
from store.tables import AuditRow


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    account_id: str
    actor: str
    action: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None = None


def add_audit(
    session: AsyncSession,
    *,
    account_id: str,
    actor: str,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    """Write an audit entry in the caller's transaction, so the change and its record stand or fall together."""
    session.add(
        AuditRow(
            account_id=account_id,
            actor=actor,
            action=action,
            at=now or utcnow(),
            before=before,
            after=after,
            note=note,
        )
    )


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def recent(
        self, account_id: str, *, action: str | None = None, limit: int = 10
    ) -> list[AuditEntry]:
        query = select(AuditRow).where(AuditRow.account_id == account_id)
        if action is not None:
            query = query.where(AuditRow.action == action)
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(query.order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit))
            return [AuditEntry.model_validate(row) for row in rows]
