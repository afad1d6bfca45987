"""Evaluation marks: whose alert evaluation is due, and when (the rows of `AlertEvaluationMarkRow`).

Every write that can change what an account's evaluation finds marks the account due now, in the same
transaction as the write: usage readings, the account document (plan, allowances, features, billing
period), alert settings, and a posted alert (which a raised allowance or a new period may resolve). A
worker's pass evaluates the accounts due, by the index on `due_at`, and moves each mark on to the next
moment that matters with no write at all: the day its billing period (or a posted alert's period) ends,
or the retry of a failed evaluation. A pass with nothing due reads one empty index range.

A pass claims the marks it evaluates by putting them off for a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so concurrent passes share the work; one that dies leaves them due again when the lease ends),
and moves a mark on only at the version it claimed: one set while its account was being evaluated keeps
the account due, so a change is never lost to a pass that did not see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, case, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.coltypes import among
from store.domain.alerts import AlertStatus
from store.tables import (
    AccountRow,
    AlertEvaluationFailureRow,
    AlertEvaluationMarkRow,
    AlertRow,
    SubscriptionRow,
)
from store.upserts import insert_for

_MARKS = cast(Table, AlertEvaluationMarkRow.__table__)


@dataclass(frozen=True)
class Mark:
    """A due mark as a pass read it."""

    account_id: str
    version: int
    retry_at: datetime | None
    """When the account's last evaluation failed: not before this."""


async def mark_due(session: AsyncSession, account_ids: Iterable[str], now: datetime) -> None:
    """Mark the accounts (those that exist) due for evaluation now, in the caller's transaction."""
    ids = sorted(set(account_ids))  # one order for every writer: concurrent markers cannot deadlock
    if not ids:
        return
    insert = insert_for(session)
    statement = insert(_MARKS).from_select(
        ["account_id", "due_at", "version"],
        select(AccountRow.id, literal(now, _MARKS.c.due_at.type), literal(0))
        .where(among(AccountRow.id, ids))
        .order_by(AccountRow.id),
    )
    sooner = case(
        (_MARKS.c.due_at < statement.excluded.due_at, _MARKS.c.due_at), else_=statement.excluded.due_at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id"], set_={"due_at": sooner, "version": _MARKS.c.version + 1}
        )
    )


async def claim_due(session: AsyncSession, now: datetime, limit: int, lease: timedelta) -> list[Mark]:
    """Claim up to `limit` marks due by `now`, the longest due first: each is put off by `lease` (so another
    pass skips it, and takes it over if this one dies) at the version read, which `move_on` then needs."""
    m, failed = AlertEvaluationMarkRow, AlertEvaluationFailureRow
    due = (
        select(m.account_id, m.version)
        .where(m.due_at <= now)
        .order_by(m.due_at)  # the index's own order: read in it and stopped at `limit`, never sorted
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed: dict[str, int] = {account_id: version for account_id, version in await session.execute(due)}  # noqa: C416
    if not claimed:
        return []
    await session.execute(
        update(_MARKS).where(among(_MARKS.c.account_id, claimed)).values(due_at=now + lease)
    )
    retries = select(failed.account_id, failed.retry_at).where(among(failed.account_id, claimed))
    retry_at: dict[str, datetime] = {account_id: at for account_id, at in await session.execute(retries)}  # noqa: C416
    return [Mark(account_id, version, retry_at.get(account_id)) for account_id, version in claimed.items()]


async def move_on(session: AsyncSession, marks: Sequence[Mark], now: datetime) -> None:
    """Move each evaluated account's mark (at the version read) to its next due moment: the end of its
    billing period or of a posted alert's period, or a failed evaluation's retry; gone when none is ahead."""
    if not marks:
        return
    ahead = await _next_due(session, [mark.account_id for mark in marks], now)
    due = [
        {"a": mark.account_id, "v": mark.version, "d": ahead[mark.account_id]}
        for mark in marks
        if mark.account_id in ahead
    ]
    done = [{"a": mark.account_id, "v": mark.version} for mark in marks if mark.account_id not in ahead]
    same = (_MARKS.c.account_id == bindparam("a"), _MARKS.c.version == bindparam("v"))
    if due:
        await session.execute(update(_MARKS).where(*same).values(due_at=bindparam("d")), due)
    if done:
        await session.execute(delete(_MARKS).where(*same), done)


async def _next_due(session: AsyncSession, account_ids: list[str], now: datetime) -> dict[str, datetime]:
    """The next moment each account's evaluation can change with no write: the earliest period end (its
    billing period's, or a posted and unresolved alert's) after today, or its failed evaluation's retry."""
    s, al, failed = SubscriptionRow, AlertRow, AlertEvaluationFailureRow
    today = now.date()
    ends: dict[str, list[date]] = {}
    periods = select(s.account_id, s.next_payment_date).where(among(s.account_id, account_ids))
    posted = (
        select(al.account_id, func.min(al.period_end))
        .where(
            among(al.account_id, account_ids),
            al.status == AlertStatus.SENT.value,
            al.resolved_at.is_(None),
            al.period_end > today,
        )
        .group_by(al.account_id)
    )
    for statement in (periods, posted):
        for account_id, end in await session.execute(statement):
            if end is not None and end > today:
                ends.setdefault(account_id, []).append(end)
    due = {account_id: datetime.combine(min(days), time(), UTC) for account_id, days in ends.items()}
    retries = select(failed.account_id, failed.retry_at).where(
        among(failed.account_id, account_ids), failed.retry_at > now
    )
    for account_id, retry_at in await session.execute(retries):
        due[account_id] = min(retry_at, due.get(account_id, retry_at))
    return due
