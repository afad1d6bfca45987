"""Quota alerts: rules per account, the set-based evaluator and the alert outbox.

The evaluator (set-based SQL, with the isolation of an account it cannot evaluate) is in
`store.alert_evaluation`; the repository inherits it.

Delivery claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional update everywhere),
marks them ``sending`` under a lease, and records the outcome fenced by the attempt number, so a
loop that died mid-post is taken over once its lease runs out, and a late loop cannot overwrite it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.alert_evaluation import AlertEvaluation, alert_of, forecast_values, resolve_in
from store.alert_marks import mark_due
from store.alert_queries import (
    Scope,
    allowances_now,
    claimable,
    due_alerts,
    thread_key,
    thread_siblings,
)
from store.audit import add_audit
from store.db import Database
from store.domain.alerts import (
    ACCOUNT_WIDE,
    IN_FLIGHT,
    Alert,
    AlertRules,
    AlertStatus,
    AlertThread,
    ClaimedAlert,
    Forecast,
    QuietHours,
    ResolvedAlert,
)
from store.errors import NotFound
from store.tables import (
    AccountRow,
    AlertRow,
    AlertRuleRow,
    AlertScheduleRow,
    AlertThresholdRow,
)
from store.upserts import insert_for

log = logging.getLogger(__name__)


class AlertRepository(AlertEvaluation):
    def __init__(self, db: Database) -> None:
        self._db = db

    # ----------------------------------------------------------------------------------- rules

    async def rules(self, account_id: str) -> AlertRules:
        async with self._db.session() as session:
            account = await session.get(AccountRow, account_id)
            if account is None:
                raise NotFound(f"account {account_id!r}")
            return await _rules(session, account)

    async def save_rules(
        self, account_id: str, rules: AlertRules, *, by: str, now: datetime
    ) -> tuple[AlertRules, AlertRules]:
        """Replace the account's rules and alerts channel; audited; returns (before, after).

        Alerts still waiting for meters that are now off are cancelled."""
        async with self._db.session() as session:
            account = await session.get(AccountRow, account_id, with_for_update=True)
            if account is None:
                raise NotFound(f"account {account_id!r}")
            before = await _rules(session, account)
            await session.execute(delete(AlertThresholdRow).where(AlertThresholdRow.account_id == account_id))
            await session.execute(delete(AlertRuleRow).where(AlertRuleRow.account_id == account_id))
            session.add(
                AlertRuleRow(
                    account_id=account_id,
                    meter=ACCOUNT_WIDE,
                    enabled=rules.enabled,
                    channel_team_id=rules.channel_team_id,
                    updated_at=now,
                    updated_by=by,
                )
            )
            session.add_all(
                AlertThresholdRow(account_id=account_id, meter=ACCOUNT_WIDE, percent=p)
                for p in rules.thresholds
            )
            for meter, thresholds in rules.overrides.items():
                session.add(
                    AlertRuleRow(
                        account_id=account_id,
                        meter=meter,
                        enabled=bool(thresholds),
                        updated_at=now,
                        updated_by=by,
                    )
                )
                session.add_all(
                    AlertThresholdRow(account_id=account_id, meter=meter, percent=p) for p in thresholds
                )
            account.alerts_channel = rules.channel
            await mark_due(session, [account_id], now)
            if rules.time_zone_set:  # otherwise the time zone and quiet hours stay as they are
                await _save_schedule(session, account_id, rules)
            after = rules.model_copy(update={"updated_at": now, "updated_by": by})
            off = [meter for meter, thresholds in rules.overrides.items() if not thresholds]
            cancel = update(AlertRow).where(
                AlertRow.account_id == account_id, AlertRow.status == AlertStatus.PENDING.value
            )
            if rules.enabled:
                cancel = cancel.where(AlertRow.meter.in_(off))
            await session.execute(
                cancel.values(status=AlertStatus.CANCELLED.value, error="alerts turned off")
            )
            add_audit(
                session,
                account_id=account_id,
                actor=by,
                action="alerts.settings",
                before=before.audit_view(),
                after=after.audit_view(),
                now=now,
            )
            return before, after

    async def learn_time_zone(self, account_id: str, time_zone: str) -> str:
        """The account's time zone: `time_zone` (an administrator's, from Slack) unless one is known."""
        async with self._db.session() as session:
            insert = insert_for(self._db)
            await session.execute(
                insert(AlertScheduleRow.__table__)
                .values(account_id=account_id, time_zone=time_zone, quiet_weekends=False)
                .on_conflict_do_nothing(index_elements=["account_id"])
            )
            row = await session.get(AlertScheduleRow, account_id)
            assert row is not None
            return row.time_zone

    # -------------------------------------------------------------------------------- delivery

    async def claim(
        self, now: datetime, *, lease: timedelta, limit: int, account_id: str | None = None
    ) -> list[ClaimedAlert]:
        """Claim up to `limit` alerts due for posting (status → sending, under a lease).

        On the way, pending alerts whose period is over expire, and pending alerts overtaken by a
        higher threshold (or a forecast overtaken by a threshold alert) are superseded. A pending alert at
        an allowance the meter no longer has (an upgrade applied before it went out) is withdrawn: it was
        never posted, and should that allowance come back (a mistaken change corrected), the crossing is
        claimed afresh."""
        async with self._db.session() as session:
            candidates = (await session.execute(due_alerts(now, limit, account_id))).all()
            expired = [
                c.id for c in candidates if c.status == AlertStatus.PENDING and c.period_end <= now.date()
            ]
            withdrawn = await _outdated(session, [c for c in candidates if c.id not in expired], now)
            superseded = [
                c.id
                for c in candidates
                if c.status == AlertStatus.PENDING
                and c.id not in expired
                and c.id not in withdrawn
                and c.superseded
            ]
            settled = {*expired, *superseded, *withdrawn}
            rest = [c.id for c in candidates if c.id not in settled]
            await _set_pending_status(session, expired, AlertStatus.EXPIRED)
            await _set_pending_status(session, superseded, AlertStatus.SUPERSEDED)
            await _withdraw(session, withdrawn)
            threads = await _Threads.read(session, rest) if rest else _Threads([], set())
            claim = [alert_id for alert_id in rest if threads.may_claim(alert_id)]
            if not claim:
                return []
            claimed = list(
                await session.scalars(
                    update(AlertRow)
                    .where(AlertRow.id.in_(claim), claimable(now))
                    .values(
                        status=AlertStatus.SENDING.value,
                        attempts=AlertRow.attempts + 1,
                        lease_until=now + lease,
                        first_attempt_at=func.coalesce(AlertRow.first_attempt_at, now),
                    )
                    .returning(AlertRow.id)
                    .execution_options(synchronize_session=False)
                )
            )
            rows = await session.execute(
                select(
                    AlertRow,
                    AccountRow.alerts_channel,
                    AccountRow.company_name,
                    AlertRuleRow.channel_team_id,
                    AlertScheduleRow,
                )
                .join(AccountRow, AccountRow.id == AlertRow.account_id)
                .outerjoin(
                    AlertRuleRow,
                    and_(AlertRuleRow.account_id == AlertRow.account_id, AlertRuleRow.meter == ACCOUNT_WIDE),
                )
                .outerjoin(AlertScheduleRow, AlertScheduleRow.account_id == AlertRow.account_id)
                .where(AlertRow.id.in_(claimed))
                .order_by(AlertRow.next_attempt_at, AlertRow.id)
                .execution_options(populate_existing=True)  # _Threads loaded them before the claim
            )
            return [
                ClaimedAlert(
                    alert=alert_of(row),
                    # An attempt whose outcome is unknown is looked up where it went, until settled.
                    channel=row.channel if row.may_be_posted and row.channel else channel,
                    channel_team_id=row.team_id if row.may_be_posted and row.channel else team,
                    company_name=company,
                    thread=threads.thread_of(row.id),
                    **_schedule_of(schedule),
                )
                for row, channel, company, team, schedule in rows
            ]

    async def due(self, now: datetime, *, limit: int = 1000) -> list[Alert]:
        """Alerts a delivery loop would post now (for `--dry-run`), without claiming them."""
        async with self._db.session() as session:
            candidates = (await session.execute(due_alerts(now, limit, None, lock=False))).all()
            outdated = await _outdated(session, candidates, now)
            ids = [
                c.id
                for c in candidates
                if not (c.status == AlertStatus.PENDING and (c.superseded or c.id in outdated))
            ]
            rows = await session.scalars(select(AlertRow).where(AlertRow.id.in_(ids)).order_by(AlertRow.id))
            return [alert_of(row) for row in rows if row.period_end > now.date()]

    async def mark_sent(
        self,
        alert_id: int,
        attempt: int,
        *,
        team_id: str,
        channel: str,
        ts: str,
        now: datetime,
        forecast: Forecast | None = None,
        reply_ts: str | None = None,
    ) -> bool:
        """Record the posted message (`ts`; with `reply_ts`, the reply in the thread of that message which
        the alert updated); False if another loop took the alert over meanwhile."""
        values: dict[str, Any] = {
            "status": AlertStatus.SENT.value,
            "team_id": team_id,
            "channel": channel,
            "message_ts": ts,
            "reply_ts": reply_ts,
            "sent_at": now,
            "lease_until": None,
            "error": None,
            "may_be_posted": False,
            **forecast_values(forecast),
        }
        # A posted alert is an input of the account's next evaluation: it may be resolved already.
        return await self._finish(alert_id, attempt, values, mark_at=now)

    async def mark_retry(
        self,
        alert_id: int,
        attempt: int,
        *,
        at: datetime,
        error: str,
        unknown_outcome_in: tuple[str | None, str] | None = None,
    ) -> bool:
        """Put the alert back until `at`. `unknown_outcome_in`: the (team, channel) of an attempt whose
        outcome is unknown: the alert may be in Slack all the same, so nothing else of its meter and period
        is posted before it is looked up, and it is looked up (and posted) there though the account's
        alerts channel change meanwhile."""
        values: dict[str, Any] = {
            "status": AlertStatus.PENDING.value,
            "next_attempt_at": at,
            "lease_until": None,
            "error": error[:200],
            "may_be_posted": unknown_outcome_in is not None,
        }
        if unknown_outcome_in is not None:
            values["team_id"], values["channel"] = unknown_outcome_in
        return await self._finish(alert_id, attempt, values)

    async def mark_failed(
        self, alert_id: int, attempt: int, *, error: str, status: AlertStatus = AlertStatus.FAILED
    ) -> bool:
        values = {"status": status.value, "lease_until": None, "error": error[:200]}
        return await self._finish(alert_id, attempt, values)

    async def _finish(
        self, alert_id: int, attempt: int, values: dict[str, Any], *, mark_at: datetime | None = None
    ) -> bool:
        async with self._db.session() as session:
            account_id = await session.scalar(
                update(AlertRow)
                .where(
                    AlertRow.id == alert_id,
                    AlertRow.status == AlertStatus.SENDING.value,
                    AlertRow.attempts == attempt,
                )
                .values(**values)
                .returning(AlertRow.account_id)
                .execution_options(synchronize_session=False)
            )
            if account_id is not None and mark_at is not None:
                await mark_due(session, [account_id], mark_at)
            return account_id is not None

    # ------------------------------------------------------------------------------ resolution

    async def resolve(self, now: datetime, *, account_id: str | None = None) -> list[ResolvedAlert]:
        """Resolve every meter's message whose billing period renewed or whose allowance grew below the
        threshold it announced (one account's, or every account's); returns the messages to update: those,
        and any resolved earlier whose update has not been shown yet (`resolution_shown` records it)."""
        async with self._db.session() as session:
            scope = Scope(account_id=account_id) if account_id is not None else Scope.everyone()
            await resolve_in(session, now, scope)
            return await _unshown(session, account_id)

    async def unshown_resolutions(self) -> list[ResolvedAlert]:
        """Messages resolved (by `resolve`, or by a pass of `evaluate_due`) whose update is not shown yet."""
        async with self._db.session(read_only=True) as session:
            return await _unshown(session, None)

    async def resolution_shown(self, alert_id: int, now: datetime) -> None:
        """The resolved message was updated in Slack (or cannot be: it is gone)."""
        async with self._db.session() as session:
            await session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(resolution_shown_at=now)
                .execution_options(synchronize_session=False)
            )

    # ------------------------------------------------------------------------- people's actions

    async def get(self, account_id: str, alert_id: int) -> Alert:
        """The account's alert; NotFound for an unknown id or another account's alert."""
        async with self._db.session() as session:
            row = await session.get(AlertRow, alert_id)
            if row is None or row.account_id != account_id:
                raise NotFound(f"alert {alert_id}")
            return alert_of(row)

    async def acknowledge(
        self, account_id: str, alert_id: int, *, by: str, now: datetime
    ) -> tuple[Alert, bool]:
        """Record who acknowledged the alert; (alert, False) when someone already had."""
        async with self._db.session() as session:
            row = await _own_row(session, account_id, alert_id)
            if row.acknowledged_by is not None:
                return alert_of(row), False
            row.acknowledged_by, row.acknowledged_at = by, now
            add_audit(
                session,
                account_id=account_id,
                actor=by,
                action="alerts.acknowledge",
                after={"alert": alert_id, "meter": row.meter, "kind": row.kind, "threshold": row.threshold},
                now=now,
            )
            return alert_of(row), True

    async def snooze(
        self, account_id: str, alert_id: int, *, by: str, until: datetime, now: datetime
    ) -> Alert:
        """Snooze the alert's meter until `until` (recorded on the alert the snooze was chosen on)."""
        async with self._db.session() as session:
            row = await _own_row(session, account_id, alert_id)
            before = row.snoozed_until
            row.snoozed_until, row.snoozed_by = until, by
            add_audit(
                session,
                account_id=account_id,
                actor=by,
                action="alerts.snooze",
                before={"snoozed_until": before.isoformat() if before else None},
                after={"alert": alert_id, "meter": row.meter, "snoozed_until": until.isoformat()},
                now=now,
            )
            return alert_of(row)

    async def recent(self, account_id: str, *, limit: int = 5) -> list[Alert]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(AlertRow)
                .where(AlertRow.account_id == account_id)
                .order_by(AlertRow.created_at.desc(), AlertRow.id.desc())
                .limit(limit)
            )
            return [alert_of(row) for row in rows]

    async def all_of(self, account_id: str) -> list[Alert]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(AlertRow).where(AlertRow.account_id == account_id).order_by(AlertRow.id)
            )
            return [alert_of(row) for row in rows]


async def _unshown(session: AsyncSession, account_id: str | None) -> list[ResolvedAlert]:
    query = (
        select(AlertRow, AccountRow.company_name)
        .join(AccountRow, AccountRow.id == AlertRow.account_id)
        .where(AlertRow.resolution.is_not(None), AlertRow.resolution_shown_at.is_(None))
        .order_by(AlertRow.id)
    )
    if account_id is not None:
        query = query.where(AlertRow.account_id == account_id)
    return [
        ResolvedAlert(alert=alert_of(row), company_name=company)
        for row, company in await session.execute(query)
    ]


async def _rules(session: AsyncSession, account: AccountRow) -> AlertRules:
    rules = {
        row.meter: row
        for row in await session.scalars(select(AlertRuleRow).where(AlertRuleRow.account_id == account.id))
    }
    thresholds: dict[str, list[int]] = {}
    for row in await session.scalars(
        select(AlertThresholdRow)
        .where(AlertThresholdRow.account_id == account.id)
        .order_by(AlertThresholdRow.percent)
    ):
        thresholds.setdefault(row.meter, []).append(row.percent)
    wide = rules.pop(ACCOUNT_WIDE, None)
    found = await session.get(AlertScheduleRow, account.id)
    schedule = _schedule_of(found) | {"time_zone_set": found is not None}
    if wide is None:
        return AlertRules(channel=account.alerts_channel, **schedule)
    return AlertRules(
        **schedule,
        enabled=wide.enabled,
        channel=account.alerts_channel,
        channel_team_id=wide.channel_team_id,
        thresholds=tuple(thresholds.get(ACCOUNT_WIDE, ())),
        overrides={
            meter: tuple(thresholds.get(meter, ())) if row.enabled else ()
            for meter, row in sorted(rules.items())
        },
        updated_at=wide.updated_at,
        updated_by=wide.updated_by,
    )


async def _own_row(session: AsyncSession, account_id: str, alert_id: int) -> AlertRow:
    row = await session.get(AlertRow, alert_id, with_for_update=True)
    if row is None or row.account_id != account_id:
        raise NotFound(f"alert {alert_id}")
    return row


async def _outdated(session: AsyncSession, candidates: Sequence[Any], now: datetime) -> set[int]:
    """Ids of the pending `due_alerts` candidates, never possibly posted, whose allowance is no longer
    their meter's (or whose meter is watched no more): news of an allowance the account no longer has.
    The new allowance's thresholds are evaluated afresh."""
    unseen = [c for c in candidates if c.status == AlertStatus.PENDING and not c.may_be_posted]
    if not unseen:
        return set()
    rows = await session.execute(allowances_now(sorted({c.account_id for c in unseen}), now))
    current = {(account, meter): Decimal(available) for account, meter, available in rows}
    return {c.id for c in unseen if current.get((c.account_id, c.meter)) != Decimal(c.available)}


async def _withdraw(session: AsyncSession, ids: set[int]) -> None:
    """Remove pending alerts that were never possibly posted (so nothing of them is in Slack)."""
    if ids:
        await session.execute(
            delete(AlertRow)
            .where(
                AlertRow.id.in_(ids),
                AlertRow.status == AlertStatus.PENDING.value,
                AlertRow.may_be_posted.is_(False),
            )
            .execution_options(synchronize_session=False)
        )


async def _set_pending_status(session: AsyncSession, ids: list[int], status: AlertStatus) -> None:
    if ids:
        await session.execute(
            update(AlertRow)
            .where(AlertRow.id.in_(ids), AlertRow.status == AlertStatus.PENDING.value)
            .values(status=status.value, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def _schedule_of(row: AlertScheduleRow | None) -> dict[str, Any]:
    """The time zone and quiet hours fields of `ClaimedAlert` (and `AlertRules`) from a schedule row."""
    if row is None:
        return {}
    quiet = None
    if row.quiet_start is not None and row.quiet_end is not None:
        quiet = QuietHours(start=row.quiet_start, end=row.quiet_end, weekends=row.quiet_weekends)
    return {"time_zone": row.time_zone, "quiet": quiet}


async def _save_schedule(session: AsyncSession, account_id: str, rules: AlertRules) -> None:
    row = await session.get(AlertScheduleRow, account_id)
    if row is None:
        row = AlertScheduleRow(account_id=account_id)
        session.add(row)
    quiet = rules.quiet
    row.time_zone = rules.time_zone
    row.quiet_start = quiet.start if quiet else None
    row.quiet_end = quiet.end if quiet else None
    row.quiet_weekends = quiet.weekends if quiet else False


class _Threads:
    """The alerts of the threads (account, meter, period, allowance) a claim is about: a changed allowance
    starts a thread of its own, whose first alert posts a new message.

    One pass at a time works on a thread: an alert is claimed only if this transaction could lock every
    alert of its thread in flight (another holding one is working on that thread), and only once every
    earlier alert of its thread is settled (none sending, none that may be in Slack unseen). So a later
    crossing always finds the message of the first, and two passes never post two first messages."""

    def __init__(self, rows: list[AlertRow], locked: set[int]) -> None:
        self._locked = locked
        self._by_key: dict[tuple[Any, ...], list[AlertRow]] = {}
        self._key_of: dict[int, tuple[Any, ...]] = {}
        for row in rows:
            self._by_key.setdefault(thread_key(row), []).append(row)
            self._key_of[row.id] = thread_key(row)

    @classmethod
    async def read(cls, session: AsyncSession, alert_ids: list[int]) -> _Threads:
        locked = set((await session.execute(thread_siblings(alert_ids, lock=True))).scalars().all())
        fresh = thread_siblings(alert_ids).execution_options(populate_existing=True)
        rows = list((await session.execute(fresh)).scalars().all())
        return cls(rows, {row.id for row in locked})

    def _siblings(self, alert_id: int) -> list[AlertRow]:
        key = self._key_of.get(alert_id)
        return self._by_key.get(key, []) if key is not None else []

    def may_claim(self, alert_id: int) -> bool:
        siblings = self._siblings(alert_id)
        if any(row.status in IN_FLIGHT and row.id not in self._locked for row in siblings):
            return False
        return not any(
            row.id < alert_id
            and (
                row.status == AlertStatus.SENDING.value
                or (row.status == AlertStatus.PENDING.value and row.may_be_posted)
            )
            for row in siblings
        )

    def thread_of(self, alert_id: int) -> AlertThread | None:
        """The message of the alert's meter this period at its allowance (shown by the latest alert posted),
        if any and not resolved: a resolved message stays resolved, and a later crossing posts anew."""
        posted = [
            row
            for row in self._siblings(alert_id)
            if row.status == AlertStatus.SENT.value and row.message_ts and row.channel and row.team_id
        ]
        if not posted:
            return None
        latest = max(posted, key=lambda row: row.id)
        if latest.resolved_at is not None:
            return None
        return AlertThread(  # each is set: filtered above
            team_id=str(latest.team_id),
            channel=str(latest.channel),
            ts=str(latest.message_ts),
            shown=latest.id,
        )
