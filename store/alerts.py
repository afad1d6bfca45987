"""Quota alerts: rules per account, the set-based evaluator and the alert outbox.

The evaluator (set-based SQL, with the isolation of an account it cannot evaluate) is in
`store.alert_evaluation`; the repository inherits it.

Delivery claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional update everywhere),
marks them ``sending`` under a lease, and records the outcome fenced by the attempt number, so a
loop that died mid-post is taken over once its lease runs out, and a late loop cannot overwrite it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.alert_evaluation import AlertEvaluation, alert_of, forecast_values
from store.alert_queries import (
    claimable,
    due_alerts,
)
from store.audit import add_audit
from store.db import Database
from store.domain.alerts import (
    ACCOUNT_WIDE,
    Alert,
    AlertRules,
    AlertStatus,
    ClaimedAlert,
    Forecast,
)
from store.errors import NotFound
from store.tables import (
    AccountRow,
    AlertRow,
    AlertRuleRow,
    AlertThresholdRow,
)

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------------
# Row ↔ domain
# ------------------------------------------------------------------------------------------------


# ------------------------------------------------------------------------------------------------


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

    # -------------------------------------------------------------------------------- delivery

    async def claim(
        self, now: datetime, *, lease: timedelta, limit: int, account_id: str | None = None
    ) -> list[ClaimedAlert]:
        """Claim up to `limit` alerts due for posting (status → sending, under a lease).

        On the way, pending alerts whose period is over expire, and pending alerts overtaken by a
        higher threshold (or a forecast overtaken by a threshold alert) are superseded."""
        async with self._db.session() as session:
            candidates = (await session.execute(due_alerts(now, limit, account_id))).all()
            expired = [
                c.id for c in candidates if c.status == AlertStatus.PENDING and c.period_end <= now.date()
            ]
            superseded = [
                c.id
                for c in candidates
                if c.status == AlertStatus.PENDING and c.id not in expired and c.superseded
            ]
            claim = [c.id for c in candidates if c.id not in expired and c.id not in superseded]
            await _set_pending_status(session, expired, AlertStatus.EXPIRED)
            await _set_pending_status(session, superseded, AlertStatus.SUPERSEDED)
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
                    AlertRow, AccountRow.alerts_channel, AccountRow.company_name, AlertRuleRow.channel_team_id
                )
                .join(AccountRow, AccountRow.id == AlertRow.account_id)
                .outerjoin(
                    AlertRuleRow,
                    and_(AlertRuleRow.account_id == AlertRow.account_id, AlertRuleRow.meter == ACCOUNT_WIDE),
                )
                .where(AlertRow.id.in_(claimed))
                .order_by(AlertRow.next_attempt_at, AlertRow.id)
            )
            return [
                ClaimedAlert(alert=alert_of(row), channel=channel, channel_team_id=team, company_name=company)
                for row, channel, company, team in rows
            ]

    async def due(self, now: datetime, *, limit: int = 1000) -> list[Alert]:
        """Alerts a delivery loop would post now (for `--dry-run`), without claiming them."""
        async with self._db.session() as session:
            candidates = (await session.execute(due_alerts(now, limit, None, lock=False))).all()
            ids = [c.id for c in candidates if not (c.status == AlertStatus.PENDING and c.superseded)]
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
    ) -> bool:
        """Record the posted message; False if another loop took the alert over meanwhile."""
        values: dict[str, Any] = {
            "status": AlertStatus.SENT.value,
            "team_id": team_id,
            "channel": channel,
            "message_ts": ts,
            "sent_at": now,
            "lease_until": None,
            "error": None,
            **forecast_values(forecast),
        }
        return await self._finish(alert_id, attempt, values)

    async def mark_retry(self, alert_id: int, attempt: int, *, at: datetime, error: str) -> bool:
        values = {
            "status": AlertStatus.PENDING.value,
            "next_attempt_at": at,
            "lease_until": None,
            "error": error[:200],
        }
        return await self._finish(alert_id, attempt, values)

    async def mark_failed(
        self, alert_id: int, attempt: int, *, error: str, status: AlertStatus = AlertStatus.FAILED
    ) -> bool:
        values = {"status": status.value, "lease_until": None, "error": error[:200]}
        return await self._finish(alert_id, attempt, values)

    async def _finish(self, alert_id: int, attempt: int, values: dict[str, Any]) -> bool:
        async with self._db.session() as session:
            result = await session.execute(
                update(AlertRow)
                .where(
                    AlertRow.id == alert_id,
                    AlertRow.status == AlertStatus.SENDING.value,
                    AlertRow.attempts == attempt,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

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
    if wide is None:
        return AlertRules(channel=account.alerts_channel)
    return AlertRules(
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


async def _set_pending_status(session: AsyncSession, ids: list[int], status: AlertStatus) -> None:
    if ids:
        await session.execute(
            update(AlertRow)
            .where(AlertRow.id.in_(ids), AlertRow.status == AlertStatus.PENDING.value)
            .values(status=status.value, lease_until=None)
            .execution_options(synchronize_session=False)
        )
