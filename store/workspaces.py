"""Which service account each Slack workspace (team id) is linked to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from store.cache import HotReads
from store.clock import utcnow
from store.db import Database
from store.errors import NotFound
from store.tables import AccountRow, WorkspaceLinkRow


class WorkspaceRepository:
    def __init__(self, db: Database, hot_reads: HotReads) -> None:
        self._db = db
        self._hot = hot_reads

    async def account_for_team(self, team_id: str) -> str | None:
        account_id = self._hot.account_of_team.get(team_id)
        if account_id is None:
            async with self._db.session(read_only=True) as session:
                account_id = await session.scalar(
                    select(WorkspaceLinkRow.account_id).where(WorkspaceLinkRow.team_id == team_id)
                )
            if account_id is not None:
                self._hot.account_of_team[team_id] = account_id
        return account_id

    async def link(
        self, team_id: str, account_id: str, *, by: str | None = None, now: datetime | None = None
    ) -> None:
        """Link the workspace to the account, replacing any earlier link of that workspace."""
        async with self._db.session() as session:
            if await session.get(AccountRow, account_id) is None:
                raise NotFound(f"account {account_id!r}")
            row = await session.get(WorkspaceLinkRow, team_id)
            if row is None:
                row = WorkspaceLinkRow(team_id=team_id)
                session.add(row)
            if row.account_id != account_id:
                row.account_id = account_id
                row.linked_at = now or utcnow()
                row.linked_by = by
        self._hot.forget_team(team_id)

    async def unlink(self, team_id: str) -> bool:
        async with self._db.session() as session:
            result = await session.execute(
                delete(WorkspaceLinkRow).where(WorkspaceLinkRow.team_id == team_id)
            )
        self._hot.forget_team(team_id)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def teams_of(self, account_id: str) -> list[str]:
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(WorkspaceLinkRow.team_id)
                .where(WorkspaceLinkRow.account_id == account_id)
                .order_by(WorkspaceLinkRow.team_id)
            )
            return list(rows)
