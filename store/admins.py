"""Administrators of each service account, by Slack user id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from store.cache import HotReads
from store.clock import utcnow
from store.db import Database
from store.errors import NotFound
from store.tables import AccountRow, AdministratorRow


class AdminRepository:
    def __init__(self, db: Database, hot_reads: HotReads) -> None:
        self._db = db
        self._hot = hot_reads

    async def add(
        self, account_id: str, user_id: str, *, by: str | None = None, now: datetime | None = None
    ) -> bool:
        """Make the user an administrator; False when they already were one."""
        async with self._db.session() as session:
            if await session.get(AccountRow, account_id) is None:
                raise NotFound(f"account {account_id!r}")
            if await session.get(AdministratorRow, (account_id, user_id)) is not None:
                return False
            session.add(
                AdministratorRow(
                    account_id=account_id, user_id=user_id, added_at=now or utcnow(), added_by=by
                )
            )
        self._hot.forget_admins(account_id)
        return True

    async def remove(self, account_id: str, user_id: str) -> bool:
        async with self._db.session() as session:
            result = await session.execute(
                delete(AdministratorRow).where(
                    AdministratorRow.account_id == account_id, AdministratorRow.user_id == user_id
                )
            )
        self._hot.forget_admins(account_id)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def list(self, account_id: str) -> list[str]:
        """The account's administrators, longest-serving first."""
        admins = self._hot.admins_of_account.get(account_id)
        if admins is None:
            async with self._db.session(read_only=True) as session:
                rows = await session.scalars(
                    select(AdministratorRow.user_id)
                    .where(AdministratorRow.account_id == account_id)
                    .order_by(AdministratorRow.added_at, AdministratorRow.user_id)
                )
                admins = self._hot.admins_of_account[account_id] = tuple(rows)
        return list(admins)

    async def is_admin(self, account_id: str, user_id: str) -> bool:
        return user_id in await self.list(account_id)
