"""Idempotency keys: the response to a write, kept so that a retry with the same key is answered, not re-applied.

`claim` inserts the key in the caller's transaction (see `Database.transaction`), so the change and
its key commit together: of two concurrent requests with one key, the second fails to claim it and
rolls back whatever it did, then replays the first one's response.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from store.clock import utcnow
from store.db import Database
from store.errors import StoreError
from store.tables import IdempotencyKeyRow

KEY_LIFETIME = timedelta(hours=24)
"""How long a key is remembered; after that it may be used again (as with Stripe's API)."""


class KeyAlreadyClaimed(StoreError):
    """Another request committed this key first; the caller's transaction must roll back."""


class IdempotencyRecord(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    key: str
    request: str
    body_sha256: str
    status: int
    response: str
    created_at: datetime


class IdempotencyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, key: str, *, now: datetime | None = None) -> IdempotencyRecord | None:
        """The live record of `key`, if any (expired ones are ignored)."""
        async with self._db.session() as session:
            row = await session.get(IdempotencyKeyRow, key)
            if row is None or row.created_at < (now or utcnow()) - KEY_LIFETIME:
                return None
            return IdempotencyRecord.model_validate(row)

    async def claim(self, record: IdempotencyRecord) -> None:
        """Insert the key in the current transaction; raises KeyAlreadyClaimed if it is taken."""
        async with self._db.session() as session:
            await session.execute(
                delete(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.key == record.key,
                    IdempotencyKeyRow.created_at < record.created_at - KEY_LIFETIME,
                )
            )
            session.add(IdempotencyKeyRow(**record.model_dump()))
            try:
                await session.flush()
            except IntegrityError as error:
                raise KeyAlreadyClaimed(record.key) from error

    async def purge(self, *, now: datetime | None = None) -> int:
        """Forget expired keys; returns how many."""
        async with self._db.session() as session:
            result = await session.execute(
                delete(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.created_at < (now or utcnow()) - KEY_LIFETIME
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
