"""Quota alerts: rules per account, the set-based evaluator and the alert outbox.

The evaluator is SQL over every account at once (or one account, right after an ingest): one
``INSERT … SELECT … ON CONFLICT DO NOTHING`` claims each crossed (meter, threshold, billing period)
exactly once — the unique constraint on ``alerts`` is the claim, so concurrent evaluators, restarts
and dips below a threshold cannot repeat an alert. Forecast alerts are claimed the same way, from
per-meter reading statistics the database aggregates and a forecaster the caller supplies.

Delivery claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional update everywhere),
marks them ``sending`` under a lease, and records the outcome fenced by the attempt number, so a
loop that died mid-post is taken over once its lease runs out, and a late loop cannot overwrite it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    Float,
    Select,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from store.audit import add_audit
from store.coltypes import Money
from store.db import Database
from store.domain.alerts import (
    ACCOUNT_WIDE,
    EXHAUSTED,
    FEATURE_PREFIX,
    FORECAST_THRESHOLD,
    STAFF_LICENCES,
    Alert,
    AlertKind,
    AlertRules,
    AlertStatus,
    ClaimedAlert,
    Forecast,
    ForecastCandidate,
    ReadingStats,
)
from store.domain.plan import FeatureStatus, Meter
from store.errors import NotFound
from store.tables import (
    AccountRow,
    AlertRow,
    AlertRuleRow,
    AlertThresholdRow,
    AllowanceRow,
    FeatureRow,
    SubscriptionRow,
    UsageReadingRow,
)

log = logging.getLogger(__name__)

Forecaster = Callable[[ForecastCandidate], Forecast | None]

_RETRIES: Final = 3
_RETRYABLE_SQLSTATES: Final = frozenset({"40P01", "40001"})  # deadlock, serialization failure
_LIVE: Final = (AlertStatus.PENDING.value, AlertStatus.SENDING.value, AlertStatus.SENT.value)
_IN_FLIGHT: Final = (AlertStatus.PENDING.value, AlertStatus.SENDING.value)
_SCALE: Final = 10_000  # Money carries 4 decimal places


# ------------------------------------------------------------------------------------------------
# Dialect-specific SQL: exact comparisons of Money columns, time since the period started
# ------------------------------------------------------------------------------------------------


class exact(FunctionElement[Any]):  # noqa: N801 - reads as a SQL function
    """A Money/integer value compared exactly: as is on PostgreSQL (NUMERIC), scaled to an integer on
    SQLite (which stores Money as text and would otherwise compare floats)."""

    inherit_cache = True
    name = "exact"


@compiles(exact)
def _exact_default(element: exact, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(exact, "sqlite")
def _exact_sqlite(element: exact, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(ROUND(CAST({compiler.process(element.clauses, **kw)} AS REAL) * {_SCALE}) AS INTEGER)"


class day_start(FunctionElement[Any]):  # noqa: N801
    """Midnight UTC at the start of a DATE, comparable with stored timestamps."""

    inherit_cache = True
    name = "day_start"


@compiles(day_start)
def _day_start_default(element: day_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP) AT TIME ZONE 'UTC')"


@compiles(day_start, "sqlite")
def _day_start_sqlite(element: day_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"datetime({compiler.process(element.clauses, **kw)})"


class days_after(FunctionElement[Any]):  # noqa: N801
    """Days (fractional, a float) from an origin given in epoch seconds to a timestamp:
    days_after(at, origin_epoch). Float arithmetic on purpose: it is per reading, and only the
    slope of a fit and spans of time are taken from it."""

    inherit_cache = True
    name = "days_after"


@compiles(days_after)
def _days_after_default(element: days_after, compiler: SQLCompiler, **kw: Any) -> str:
    at, origin = (compiler.process(clause, **kw) for clause in element.clauses)
    # date_part (not EXTRACT, which is NUMERIC since PostgreSQL 14) keeps it in fast double precision.
    return f"((date_part('epoch', {at}) - CAST({origin} AS DOUBLE PRECISION)) / 86400.0)"


@compiles(days_after, "sqlite")
def _days_after_sqlite(element: days_after, compiler: SQLCompiler, **kw: Any) -> str:
    at, origin = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({at}) - 2440587.5) - {origin} / 86400.0)"


# ------------------------------------------------------------------------------------------------
# What is watched: every meter's used and available, as one relation
# ------------------------------------------------------------------------------------------------


def _usage(account_id: str | None) -> Any:
    """(account_id, meter, used, available, unit, as_of) of every watched meter: the three allowances,
    staff licences, and each Available feature that has a limit."""
    acc, a, s, f = AccountRow, AllowanceRow, SubscriptionRow, FeatureRow
    allowance_unit = case({m.value: m.unit for m in Meter}, value=a.meter, else_=literal(""))
    allowances = select(
        a.account_id.label("account_id"),
        a.meter.label("meter"),
        a.used.label("used"),
        a.available.label("available"),
        allowance_unit.label("unit"),
        func.coalesce(a.used_at, acc.data_as_of).label("as_of"),
    ).join(acc, acc.id == a.account_id)
    licences = select(
        s.account_id,
        literal(STAFF_LICENCES),
        cast(s.staff_licences_assigned, Money()),
        cast(s.staff_licences_purchased, Money()),
        literal("licences"),
        acc.data_as_of,
    ).join(acc, acc.id == s.account_id)
    features = (
        select(
            f.account_id,
            literal(FEATURE_PREFIX) + f.key,
            cast(f.used, Money()),
            cast(f.limit, Money()),
            f.unit,
            acc.data_as_of,
        )
        .join(acc, acc.id == f.account_id)
        .where(f.status == FeatureStatus.AVAILABLE.value, f.limit.is_not(None))
    )
    if account_id is not None:
        allowances = allowances.where(a.account_id == account_id)
        licences = licences.where(s.account_id == account_id)
        features = features.where(f.account_id == account_id)
    # A subquery, not a CTE: a statement starting with WITH would not open a transaction under
    # Python's sqlite3 (it only begins one before INSERT/UPDATE/DELETE), so it could not be rolled back.
    return union_all(allowances, licences, features).subquery("usage")


def _threshold_candidates(now: datetime, defaults: Sequence[int], account_id: str | None) -> Select[Any]:
    """Every (meter, threshold) crossed this period that has no alert yet, ordered (so concurrent
    evaluators insert in the same order and cannot deadlock)."""
    s, t, al = SubscriptionRow, AlertThresholdRow, AlertRow
    ar, mr, any_rule = (aliased(AlertRuleRow, name=n) for n in ("ar", "mr", "any_rule"))

    # Accounts with settings: the meter's own thresholds if overridden, else the account's.
    u = _usage(account_id)
    rule_meter = case((mr.meter.is_(None), literal(ACCOUNT_WIDE)), else_=u.c.meter)
    configured = (
        select(u, t.percent.label("percent"))
        .select_from(u)
        .join(ar, and_(ar.account_id == u.c.account_id, ar.meter == ACCOUNT_WIDE))
        .outerjoin(mr, and_(mr.account_id == u.c.account_id, mr.meter == u.c.meter))
        .join(t, and_(t.account_id == u.c.account_id, t.meter == rule_meter))
        .where(ar.enabled.is_(True), or_(mr.meter.is_(None), mr.enabled.is_(True)))
    )
    # Accounts never configured: the built-in defaults.
    default_percents = union_all(*(select(literal(p).label("percent")) for p in defaults)).subquery("d")
    u = _usage(account_id)
    unconfigured = (
        select(u, default_percents.c.percent)
        .select_from(u)
        .join(default_percents, true())
        .where(~exists().where(any_rule.account_id == u.c.account_id, any_rule.meter == ACCOUNT_WIDE))
    )
    rules = union_all(configured, unconfigured).subquery("crossable")

    used, available = exact(rules.c.used), exact(rules.c.available)
    already = exists().where(
        al.account_id == rules.c.account_id,
        al.meter == rules.c.meter,
        al.kind == AlertKind.THRESHOLD.value,
        al.threshold == rules.c.percent,
        al.period_start == s.period_start,
    )
    return (
        select(
            rules.c.account_id,
            rules.c.meter,
            literal(AlertKind.THRESHOLD.value),
            rules.c.percent,
            s.period_start,
            s.next_payment_date,
            rules.c.used,
            rules.c.available,
            rules.c.unit,
            rules.c.as_of,
            literal(AlertStatus.PENDING.value),
            literal(0),
            literal(now, AlertRow.next_attempt_at.type),
            literal(now, AlertRow.created_at.type),
        )
        .select_from(rules)
        .join(s, s.account_id == rules.c.account_id)
        .where(
            used * 100 >= rules.c.percent * available,
            or_(available > 0, used > 0),  # a zero allowance with nothing used is not "100% used"
            s.next_payment_date > now.date(),
            ~already,
        )
        .order_by(rules.c.account_id, rules.c.meter, rules.c.percent)
    )


_INSERTED_COLUMNS: Final = (
    "account_id",
    "meter",
    "kind",
    "threshold",
    "period_start",
    "period_end",
    "used",
    "available",
    "unit",
    "as_of",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


def _forecast_candidates(now: datetime, min_readings: int, account_id: str | None) -> Select[Any]:
    """Allowances not yet forecast this period, not used up, alerts on: their period's reading stats
    (x in days from `now`, so the numbers stay small)."""
    a, s, r, al, rule = AllowanceRow, SubscriptionRow, UsageReadingRow, AlertRow, AlertRuleRow
    forecast_exists = exists().where(
        al.account_id == a.account_id,
        al.meter == a.meter,
        al.kind == AlertKind.FORECAST.value,
        al.period_start == s.period_start,
    )
    switched_off = exists().where(
        rule.account_id == a.account_id, rule.meter.in_([ACCOUNT_WIDE, a.meter]), rule.enabled.is_(False)
    )
    wanted = (
        select(a.account_id, a.meter, s.period_start)
        .join(s, s.account_id == a.account_id)
        .where(
            a.meter.in_([m.value for m in Meter]),
            exact(a.used) < exact(a.available),
            s.next_payment_date > now.date(),
            ~forecast_exists,
            ~switched_off,
        )
    )
    if account_id is not None:
        wanted = wanted.where(a.account_id == account_id)
    pairs = wanted.subquery("wanted")
    x = days_after(r.at, literal(now.timestamp()))
    y = cast(r.used, Float)
    stats = (
        select(
            r.account_id,
            r.meter,
            func.count().label("n"),
            func.sum(x).label("sum_x"),
            func.sum(y).label("sum_y"),
            func.sum(x * x).label("sum_xx"),
            func.sum(x * y).label("sum_xy"),
            func.min(x).label("first_x"),
            func.max(x).label("last_x"),
            func.max(r.at).label("last_at"),
        )
        .join(
            pairs,
            and_(
                pairs.c.account_id == r.account_id,
                pairs.c.meter == r.meter,
                r.at >= day_start(pairs.c.period_start),
            ),
        )
        .group_by(r.account_id, r.meter)
        .having(func.count() >= min_readings)
        .subquery("stats")
    )
    return (
        select(stats, a.used, a.available, a.used_at, s.period_start, s.next_payment_date)
        .join(a, and_(a.account_id == stats.c.account_id, a.meter == stats.c.meter))
        .join(s, s.account_id == stats.c.account_id)
    )


_UNITS: Final = {m.value: m.unit for m in Meter}


def _candidate(row: Any) -> ForecastCandidate:
    (account_id, meter, n, sum_x, sum_y, sum_xx, sum_xy, first_x, last_x, last_at, used, available, used_at,
     period_start, period_end) = row  # fmt: skip
    return ForecastCandidate(
        account_id=account_id,
        meter=meter,
        period_start=period_start,
        period_end=period_end,
        used=used,
        available=available,
        unit=_UNITS[meter],
        as_of=used_at or last_at,
        stats=ReadingStats(
            n, float(sum_x), float(sum_y), float(sum_xx), float(sum_xy), float(first_x), float(last_x)
        ),
    )


# ------------------------------------------------------------------------------------------------
# Row ↔ domain
# ------------------------------------------------------------------------------------------------


def _alert(row: Any) -> Alert:
    """An Alert from an AlertRow, or from a result row with the same columns."""
    forecast = None
    if row.forecast_runs_out_at is not None:
        forecast = Forecast(
            runs_out_at=row.forecast_runs_out_at,
            readings=row.forecast_readings or 0,
            days=row.forecast_days or Decimal(0),
        )
    return Alert(
        id=row.id,
        account_id=row.account_id,
        meter=row.meter,
        kind=AlertKind(row.kind),
        threshold=row.threshold,
        period_start=row.period_start,
        period_end=row.period_end,
        used=row.used,
        available=row.available,
        unit=row.unit,
        as_of=row.as_of,
        forecast=forecast,
        status=AlertStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        first_attempt_at=row.first_attempt_at,
        error=row.error,
        team_id=row.team_id,
        channel=row.channel,
        message_ts=row.message_ts,
        created_at=row.created_at,
        sent_at=row.sent_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        snoozed_until=row.snoozed_until,
        snoozed_by=row.snoozed_by,
    )


def _forecast_values(forecast: Forecast | None) -> dict[str, Any]:
    if forecast is None:
        return {}
    return {
        "forecast_runs_out_at": forecast.runs_out_at,
        "forecast_readings": forecast.readings,
        "forecast_days": forecast.days,
    }


class _DryRun(Exception):
    """Raised inside a transaction to roll it back after computing what it would write."""

    def __init__(self, rows: list[Any]) -> None:
        super().__init__("dry run")
        self.rows = rows


def _is_retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


# ------------------------------------------------------------------------------------------------
# The repository
# ------------------------------------------------------------------------------------------------


class AlertRepository:
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

    # ------------------------------------------------------------------------------ evaluation

    async def evaluate(
        self,
        now: datetime,
        forecaster: Forecaster,
        *,
        defaults: Sequence[int],
        min_readings: int,
        account_id: str | None = None,
        dry_run: bool = False,
    ) -> list[Alert]:
        """Claim every newly crossed threshold and every new run-out forecast; returns the new alerts.

        One transaction; `dry_run` computes the same and rolls it back."""
        rows = await self._in_transaction(now, forecaster, defaults, min_readings, account_id, dry_run)
        return [_alert(row) for row in rows]

    async def sweep(
        self, now: datetime, forecaster: Forecaster, *, defaults: Sequence[int], min_readings: int
    ) -> int:
        """`evaluate` for every account, returning only how many alerts were claimed (a cold sweep of
        many accounts can claim hundreds of thousands)."""
        return len(await self._in_transaction(now, forecaster, defaults, min_readings, None, False))

    async def _in_transaction(
        self,
        now: datetime,
        forecaster: Forecaster,
        defaults: Sequence[int],
        min_readings: int,
        account_id: str | None,
        dry_run: bool,
    ) -> list[Any]:
        for attempt in range(1, _RETRIES + 1):
            try:
                async with self._db.session() as session:
                    rows = await self._evaluate(session, now, forecaster, defaults, min_readings, account_id)
                    if dry_run:
                        raise _DryRun(rows)
                    return rows
            except _DryRun as done:
                return done.rows
            except DBAPIError as error:
                if attempt == _RETRIES or not _is_retryable(error):
                    raise
                log.info("alert evaluation met a concurrent evaluator (%s); retrying", error.orig)
        raise AssertionError("unreachable")

    async def _evaluate(
        self,
        session: AsyncSession,
        now: datetime,
        forecaster: Forecaster,
        defaults: Sequence[int],
        min_readings: int,
        account_id: str | None,
    ) -> list[Any]:
        """The rows of the alerts claimed (RETURNING every column)."""
        insert = self._insert()
        table = AlertRow.__table__  # the table, not the entity: plain Core statements, no ORM bulk path
        conflict = ["account_id", "meter", "kind", "threshold", "period_start"]
        thresholds = (
            insert(table)
            .from_select(list(_INSERTED_COLUMNS), _threshold_candidates(now, defaults, account_id))
            .on_conflict_do_nothing(index_elements=conflict)
            .returning(*table.c)
        )
        rows = list(await session.execute(thresholds))

        candidates = [
            _candidate(row)
            for row in await session.execute(_forecast_candidates(now, min_readings, account_id))
        ]
        new_forecasts = [
            {
                "account_id": c.account_id,
                "meter": c.meter,
                "kind": AlertKind.FORECAST.value,
                "threshold": FORECAST_THRESHOLD,
                "period_start": c.period_start,
                "period_end": c.period_end,
                "used": c.used,
                "available": c.available,
                "unit": c.unit,
                "as_of": c.as_of,
                "status": AlertStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                **_forecast_values(forecast),
            }
            for c in candidates
            if (forecast := forecaster(c)) is not None
        ]
        if new_forecasts:
            forecasts = insert(table).on_conflict_do_nothing(index_elements=conflict).returning(*table.c)
            rows += list(await session.execute(forecasts, new_forecasts))
        return rows

    def _insert(self) -> Any:
        return sqlite_insert if self._db.is_sqlite else pg_insert

    # -------------------------------------------------------------------------------- delivery

    async def claim(
        self, now: datetime, *, lease: timedelta, limit: int, account_id: str | None = None
    ) -> list[ClaimedAlert]:
        """Claim up to `limit` alerts due for posting (status → sending, under a lease).

        On the way, pending alerts whose period is over expire, and pending alerts overtaken by a
        higher threshold (or a forecast overtaken by a threshold alert) are superseded."""
        async with self._db.session() as session:
            candidates = (await session.execute(_due(now, limit, account_id))).all()
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
                    .where(AlertRow.id.in_(claim), _claimable(now))
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
                ClaimedAlert(alert=_alert(row), channel=channel, channel_team_id=team, company_name=company)
                for row, channel, company, team in rows
            ]

    async def due(self, now: datetime, *, limit: int = 1000) -> list[Alert]:
        """Alerts a delivery loop would post now (for `--dry-run`), without claiming them."""
        async with self._db.session() as session:
            candidates = (await session.execute(_due(now, limit, None, lock=False))).all()
            ids = [c.id for c in candidates if not (c.status == AlertStatus.PENDING and c.superseded)]
            rows = await session.scalars(select(AlertRow).where(AlertRow.id.in_(ids)).order_by(AlertRow.id))
            return [_alert(row) for row in rows if row.period_end > now.date()]

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
            **_forecast_values(forecast),
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
            return _alert(row)

    async def acknowledge(
        self, account_id: str, alert_id: int, *, by: str, now: datetime
    ) -> tuple[Alert, bool]:
        """Record who acknowledged the alert; (alert, False) when someone already had."""
        async with self._db.session() as session:
            row = await _own_row(session, account_id, alert_id)
            if row.acknowledged_by is not None:
                return _alert(row), False
            row.acknowledged_by, row.acknowledged_at = by, now
            add_audit(
                session,
                account_id=account_id,
                actor=by,
                action="alerts.acknowledge",
                after={"alert": alert_id, "meter": row.meter, "kind": row.kind, "threshold": row.threshold},
                now=now,
            )
            return _alert(row), True

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
            return _alert(row)

    async def snoozed_until(self, account_id: str, meter: str, now: datetime) -> datetime | None:
        async with self._db.session() as session:
            until: datetime | None = await session.scalar(
                select(func.max(AlertRow.snoozed_until)).where(
                    AlertRow.account_id == account_id, AlertRow.meter == meter, AlertRow.snoozed_until > now
                )
            )
            return until

    async def recent(self, account_id: str, *, limit: int = 5) -> list[Alert]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(AlertRow)
                .where(AlertRow.account_id == account_id)
                .order_by(AlertRow.created_at.desc(), AlertRow.id.desc())
                .limit(limit)
            )
            return [_alert(row) for row in rows]

    async def all_of(self, account_id: str) -> list[Alert]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(AlertRow).where(AlertRow.account_id == account_id).order_by(AlertRow.id)
            )
            return [_alert(row) for row in rows]


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


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        AlertRow.status == AlertStatus.PENDING.value,
        and_(AlertRow.status == AlertStatus.SENDING.value, AlertRow.lease_until <= now),
    )


def _due(now: datetime, limit: int, account_id: str | None, *, lock: bool = True) -> Select[Any]:
    """Pending alerts due now (and not held by a snooze), and alerts whose sending lease ran out,
    each with whether a more important alert of the same meter and period overtook it."""
    al = AlertRow
    other = aliased(AlertRow, name="other")
    snooze = aliased(AlertRow, name="snooze")
    snoozed = exists().where(
        snooze.account_id == al.account_id, snooze.meter == al.meter, snooze.snoozed_until > now
    )
    same_period = and_(
        other.account_id == al.account_id,
        other.meter == al.meter,
        other.period_start == al.period_start,
        other.kind == AlertKind.THRESHOLD.value,
    )
    overtaken = case(
        (
            al.kind == AlertKind.THRESHOLD.value,
            exists().where(same_period, other.threshold > al.threshold, other.status.in_(_LIVE)),
        ),
        else_=exists().where(
            same_period,
            or_(other.status.in_(_IN_FLIGHT), and_(other.threshold >= EXHAUSTED, other.status.in_(_LIVE))),
        ),
    )
    pending_due = and_(
        al.status == AlertStatus.PENDING.value,
        al.next_attempt_at <= now,
        or_(
            al.period_end <= now.date(),  # to expire it
            ~snoozed,
            and_(al.kind == AlertKind.THRESHOLD.value, al.threshold >= EXHAUSTED),  # never held back
        ),
    )
    lease_over = and_(al.status == AlertStatus.SENDING.value, al.lease_until <= now)
    # Held by a snooze but already overtaken (say, by the 100% alert that broke through): settle it now.
    held_overtaken = and_(al.status == AlertStatus.PENDING.value, overtaken)
    query = (
        select(al.id, al.status, al.period_end, overtaken.label("superseded"))
        .where(or_(pending_due, lease_over, held_overtaken))
        .order_by(al.next_attempt_at, al.id)
        .limit(limit)
    )
    if account_id is not None:
        query = query.where(al.account_id == account_id)
    return query.with_for_update(skip_locked=True, of=al) if lock else query


async def _set_pending_status(session: AsyncSession, ids: list[int], status: AlertStatus) -> None:
    if ids:
        await session.execute(
            update(AlertRow)
            .where(AlertRow.id.in_(ids), AlertRow.status == AlertStatus.PENDING.value)
            .values(status=status.value, lease_until=None)
            .execution_options(synchronize_session=False)
        )
