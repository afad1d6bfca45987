"""Per-user App Home state."""

from __future__ import annotations

from store.clock import utcnow
from store.db import Database
from store.tables import HomeStateRow
from store.upserts import insert_for


class HomeStateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def last_tab(self, team_id: str, user_id: str) -> str | None:
        async with self._db.session(read_only=True) as session:
            row = await session.get(HomeStateRow, (team_id, user_id))
            return row.tab if row else None

    async def remember_tab(self, team_id: str, user_id: str, tab: str) -> None:
        """One upsert statement, so the write lock is held as briefly as possible (every tab click writes)."""
        insert = insert_for(self._db)
        values = {"team_id": team_id, "user_id": user_id, "tab": tab, "updated_at": utcnow()}
        statement = (
            insert(HomeStateRow)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[HomeStateRow.team_id, HomeStateRow.user_id],
                set_={"tab": tab, "updated_at": values["updated_at"]},
            )
        )
        async with self._db.session() as session:
            await session.execute(statement)
