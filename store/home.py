"""Per-user App Home state."""

from __future__ import annotations

from store.clock import utcnow
from store.db import Database
from store.tables import HomeStateRow


class HomeStateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def last_tab(self, team_id: str, user_id: str) -> str | None:
        async with self._db.session(read_only=True) as session:
            row = await session.get(HomeStateRow, (team_id, user_id))
            return row.tab if row else None

    async def remember_tab(self, team_id: str, user_id: str, tab: str) -> None:
        async with self._db.session() as session:
            row = await session.get(HomeStateRow, (team_id, user_id))
            if row is None:
                row = HomeStateRow(team_id=team_id, user_id=user_id)
                session.add(row)
            row.tab = tab
            row.updated_at = utcnow()
