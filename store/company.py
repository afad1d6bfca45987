"""Company Information: read, saved with optimistic locking, every change audited in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Executable, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit import AuditEntry, AuditRepository, add_audit
from store.clock import utcnow
from store.db import Database
from store.domain.company import (
    COMPANY_FIELDS,
    CompanyChange,
    CompanyDetails,
    CompanyInfo,
    CompanyRevision,
    CompanySave,
    diff_company,
)
from store.errors import Conflict
from store.tables import CompanyInfoRow
from store.upserts import insert_for

#: The audit log's action for a Company Information save.
COMPANY_UPDATE: Final = "company.update"


def audit_company_changes(
    session: AsyncSession, account_id: str, actor: str, changes: Sequence[CompanyChange], now: datetime
) -> None:
    """One audit entry for a save: each changed field before and after, in the save's transaction."""
    add_audit(
        session,
        account_id=account_id,
        actor=actor,
        action=COMPANY_UPDATE,
        before={change.field: change.before for change in changes},
        after={change.field: change.after for change in changes},
        now=now,
    )


class CompanyConflict(Conflict):
    """The information moved on since `expected_version`; `current` is what is stored now."""

    def __init__(self, account_id: str, expected_version: int, current: CompanyInfo | None) -> None:
        found = current.version if current else 0
        super().__init__(f"company info of {account_id!r} is at version {found}, not {expected_version}")
        self.current = current


class CompanyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._audit = AuditRepository(db)

    async def get(self, account_id: str) -> CompanyInfo | None:
        """The stored information, or None when the account has none yet (version 0)."""
        async with self._db.session() as session:
            return _info(await session.get(CompanyInfoRow, account_id))

    async def save(
        self,
        account_id: str,
        details: CompanyDetails,
        *,
        expected_version: int,
        actor: str,
        now: datetime | None = None,
    ) -> CompanySave:
        """Store `details` if the information is still at `expected_version` (0: none stored yet).

        Raises CompanyConflict when someone else saved first, unless what they saved is exactly
        `details`. The version check and the write are one atomic compare-and-set, so of two
        concurrent saves from the same version only one can win. The audit entry is written in the
        same transaction: a change is never stored without its record.
        """
        now = now or utcnow()
        async with self._db.session() as session:
            current = _info(await session.get(CompanyInfoRow, account_id))
            changes = tuple(diff_company(current, details))
            if not changes and current is not None:
                return CompanySave(info=current, changes=())  # nothing to write, whatever the version
            found = current.version if current else 0
            if found != expected_version:
                raise CompanyConflict(account_id, expected_version, current)
            values: dict[str, Any] = {field: getattr(details, field) for field in COMPANY_FIELDS}
            values.update(updated_at=now, updated_by=actor, version=expected_version + 1)
            if not await _compare_and_set(session, account_id, expected_version, values):
                # Lost the race just now: re-read what the winner committed, for the user to compare.
                winner = await session.get(CompanyInfoRow, account_id, populate_existing=True)
                raise CompanyConflict(account_id, expected_version, _info(winner))
            audit_company_changes(session, account_id, actor, changes, now)
            saved = CompanyInfo.model_validate(values)
            return CompanySave(info=saved, changes=changes)

    async def history(self, account_id: str, *, limit: int = 10) -> list[CompanyRevision]:
        """The most recent saves, newest first."""
        entries = await self._audit.recent(account_id, action=COMPANY_UPDATE, limit=limit)
        return [_revision(entry) for entry in entries]


async def _compare_and_set(
    session: AsyncSession, account_id: str, expected_version: int, values: dict[str, Any]
) -> bool:
    """`UPDATE … WHERE version = :expected` (or insert the first row); False when another save won.

    On PostgreSQL a concurrent writer blocks on the row lock and then re-checks the WHERE clause
    against the committed row, so it matches nothing once the winner has moved the version.
    """
    statement: Executable
    if expected_version == 0:
        insert = insert_for(session)
        statement = (
            insert(CompanyInfoRow)
            .values(account_id=account_id, **values)
            .on_conflict_do_nothing(index_elements=[CompanyInfoRow.account_id])
        )
    else:
        statement = (
            update(CompanyInfoRow)
            .where(CompanyInfoRow.account_id == account_id, CompanyInfoRow.version == expected_version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _info(row: CompanyInfoRow | None) -> CompanyInfo | None:
    return None if row is None else CompanyInfo.model_validate(row, from_attributes=True)


def _revision(entry: AuditEntry) -> CompanyRevision:
    before, after = entry.before or {}, entry.after or {}
    changes = tuple(
        CompanyChange(field=field, before=before.get(field), after=after.get(field))
        for field in COMPANY_FIELDS
        if field in before or field in after
    )
    return CompanyRevision(actor=entry.actor, at=entry.at, changes=changes)
