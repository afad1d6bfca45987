"""One-time link codes (stored as hashes) and the wrong guesses made with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit import add_audit
from store.cache import HotReads
from store.db import Database
from store.domain.linking import LinkOutcome, Redemption
from store.errors import NotFound
from store.tables import AccountRow, AdministratorRow, LinkCodeRow, LinkFailureRow, WorkspaceLinkRow

# How long used and expired codes, and wrong guesses, are kept (for support questions) before pruning.
KEEP_CODES = timedelta(days=30)
KEEP_FAILURES = timedelta(days=1)


@dataclass(frozen=True)
class Attempt:
    """A try of a link code, counted; `retry_at` when the workspace has tried too many wrong ones."""

    id: int | None
    retry_at: datetime | None


class LinkCodeRepository:
    def __init__(self, db: Database, hot_reads: HotReads) -> None:
        self._db = db
        self._hot = hot_reads

    async def add(
        self, account_id: str, code_hash: str, *, created_by: str, expires_at: datetime, now: datetime
    ) -> None:
        """Store a new code for the account; raises NotFound for an unknown account."""
        async with self._db.session() as session:
            if await session.get(AccountRow, account_id) is None:
                raise NotFound(f"account {account_id!r}")
            await session.execute(delete(LinkCodeRow).where(LinkCodeRow.expires_at < now - KEEP_CODES))
            session.add(
                LinkCodeRow(
                    code_hash=code_hash,
                    account_id=account_id,
                    created_at=now,
                    created_by=created_by,
                    expires_at=expires_at,
                )
            )

    async def redeem(self, code_hash: str, *, team_id: str, user_id: str, now: datetime) -> Redemption:
        """Use the code: link the workspace to its account and make the user an administrator, at most once."""
        redemption = await self._redeem(code_hash, team_id=team_id, user_id=user_id, now=now)
        if redemption.account_id is not None and redemption.outcome is LinkOutcome.LINKED:
            self._hot.forget_team(team_id)
            self._hot.forget_admins(redemption.account_id)
        return redemption

    async def _redeem(self, code_hash: str, *, team_id: str, user_id: str, now: datetime) -> Redemption:
        async with self._db.session() as session:
            code = await session.get(LinkCodeRow, code_hash)
            if code is None:
                return Redemption(outcome=LinkOutcome.UNKNOWN)
            if code.used_at is not None:
                return Redemption(outcome=LinkOutcome.USED)
            if code.expires_at <= now:
                return Redemption(outcome=LinkOutcome.EXPIRED)
            link = await session.get(WorkspaceLinkRow, team_id)
            if link is not None and link.account_id != code.account_id:
                return Redemption(outcome=LinkOutcome.LINKED_ELSEWHERE, account_id=link.account_id)
            # The condition on used_at makes two simultaneous redemptions of one code link only once.
            claimed = await session.execute(
                update(LinkCodeRow)
                .where(LinkCodeRow.code_hash == code_hash, LinkCodeRow.used_at.is_(None))
                .values(used_at=now, used_by_team=team_id, used_by_user=user_id)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return Redemption(outcome=LinkOutcome.USED)
            account_id = code.account_id
            if link is None:
                session.add(
                    WorkspaceLinkRow(team_id=team_id, account_id=account_id, linked_at=now, linked_by=user_id)
                )
            if await session.get(AdministratorRow, (account_id, user_id)) is None:
                session.add(
                    AdministratorRow(
                        account_id=account_id, user_id=user_id, added_at=now, added_by="link code"
                    )
                )
            add_audit(
                session,
                account_id=account_id,
                actor=user_id,
                action="workspace.linked",
                before=None,
                after={"team_id": team_id, "administrator": user_id},
                note="linked from Slack with a link code",
                now=now,
            )
            return Redemption(
                outcome=LinkOutcome.LINKED, account_id=account_id, already_linked=link is not None
            )

    async def attempt(
        self, team_id: str, user_id: str | None, *, now: datetime, window: timedelta, limit: int
    ) -> Attempt:
        """Count a try of a code against the workspace's limit of wrong ones, in one step: the check and
        the count cannot be raced (one try at a time per workspace; SQLite writers are serialized
        anyway). The try counts as wrong until `forgive` says it was right."""
        async with self._db.session() as session:
            if not self._db.is_sqlite:
                await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"link:{team_id}"))))
            await session.execute(delete(LinkFailureRow).where(LinkFailureRow.at < now - KEEP_FAILURES))
            count, earliest = await _wrong_tries(session, team_id, now - window)
            if count >= limit and earliest is not None:
                return Attempt(id=None, retry_at=earliest + window)
            row = LinkFailureRow(team_id=team_id, user_id=user_id, at=now)
            session.add(row)
            await session.flush()
            return Attempt(id=row.id, retry_at=None)

    async def failures_since(self, team_id: str, since: datetime) -> tuple[int, datetime | None]:
        """How many wrong codes the workspace tried since then, and when the earliest of them was."""
        async with self._db.session(read_only=True) as session:
            return await _wrong_tries(session, team_id, since)

    async def forgive(self, attempt: Attempt) -> None:
        """The try was a right code (or not a guess at all): it does not count against the workspace."""
        if attempt.id is None:
            return
        async with self._db.session() as session:
            await session.execute(delete(LinkFailureRow).where(LinkFailureRow.id == attempt.id))


async def _wrong_tries(session: AsyncSession, team_id: str, since: datetime) -> tuple[int, datetime | None]:
    count, earliest = (
        await session.execute(
            select(func.count(), func.min(LinkFailureRow.at)).where(
                LinkFailureRow.team_id == team_id, LinkFailureRow.at > since
            )
        )
    ).one()
    return int(count), earliest
