"""The SQL of quota alerts: the set-based evaluator's statements and the delivery loop's claim.

Dialect differences are small SQL functions compiled per backend (exact Money comparisons, days
between timestamps), so each statement is written once for SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Float, Select, and_, case, cast, exists, func, literal, or_, select, true, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from store.coltypes import Money, among
from store.domain.alerts import (
    ACCOUNT_WIDE,
    EXHAUSTED,
    IN_FLIGHT,
    AlertKind,
    AlertStatus,
    ForecastCandidate,
    ReadingStats,
    Resolution,
)
from store.domain.bounds import EARLIEST, EARLIEST_DATE, LATEST, LATEST_DATE
from store.domain.plan import FEATURE_METER_PREFIX, STAFF_LICENCES, FeatureStatus, Meter
from store.tables import (
    AccountRow,
    AlertEvaluationFailureRow,
    AlertRow,
    AlertRuleRow,
    AlertThresholdRow,
    AllowanceRow,
    FeatureRow,
    SubscriptionRow,
    UsageReadingRow,
)

_LIVE: Final = (AlertStatus.PENDING.value, AlertStatus.SENDING.value, AlertStatus.SENT.value)
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
# Which accounts an evaluation covers
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The accounts one evaluation covers.

    One account (`account_id`) or a list of them (`accounts`, those a pass found due), evaluated whatever
    their failures; or every account whose id is from `first` to `last` (inclusive, in the database's
    order; None: no bound) except those waiting to be retried after a failed evaluation (see
    `AlertEvaluationFailureRow`)."""

    account_id: str | None = None
    first: str | None = None
    last: str | None = None
    accounts: tuple[str, ...] | None = None

    @classmethod
    def everyone(cls) -> Scope:
        return cls()

    @classmethod
    def between(cls, first: str, last: str) -> Scope:
        return cls(first=first, last=last)

    @classmethod
    def of(cls, accounts: Sequence[str]) -> Scope:
        return cls(accounts=tuple(accounts))

    def covers(self, account: Any, now: datetime) -> ColumnElement[bool]:
        """The condition on an account id column."""
        if self.account_id is not None or self.accounts is not None:
            return self.ranged(account)
        failed = AlertEvaluationFailureRow
        waiting = exists().where(failed.account_id == account, failed.retry_at > now)
        conditions: list[ColumnElement[bool]] = [~waiting]
        if self.first is not None:
            conditions.append(account >= self.first)
        if self.last is not None:
            conditions.append(account <= self.last)
        return and_(*conditions)

    def ranged(self, account: Any) -> ColumnElement[bool]:
        """The id range alone (every account for `everyone`)."""
        if self.account_id is not None:
            return account == self.account_id  # type: ignore[no-any-return]
        if self.accounts is not None:
            return among(account, self.accounts)
        conditions: list[ColumnElement[bool]] = [true()]
        if self.first is not None:
            conditions.append(account >= self.first)
        if self.last is not None:
            conditions.append(account <= self.last)
        return and_(*conditions)


def sane_period(subscription: type[SubscriptionRow]) -> ColumnElement[bool]:
    """A billing period that starts in the window of sane dates: an account whose stored period does
    not (PostgreSQL reads ``0001-01-01`` as ``-infinity``) is skipped, not evaluated into nonsense."""
    return subscription.period_start.between(EARLIEST_DATE, LATEST_DATE)


def same_allowance(left: Any, right: Any) -> ColumnElement[bool]:
    """Two allowances (Money) are the same, exactly: on SQLite, where Money is text, 5000 and 5000.0000
    are one allowance too. An alert is claimed once per period *and allowance*."""
    return exact(left) == exact(right)


# ------------------------------------------------------------------------------------------------
# What is watched: every meter's used and available, as one relation
# ------------------------------------------------------------------------------------------------


def _usage(scope: Scope, now: datetime) -> Any:
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
            literal(FEATURE_METER_PREFIX) + f.key,
            cast(f.used, Money()),
            cast(f.limit, Money()),
            f.unit,
            acc.data_as_of,
        )
        .join(acc, acc.id == f.account_id)
        .where(f.status == FeatureStatus.AVAILABLE.value, f.limit.is_not(None))
    )
    # The scope on every table joined, not only the first: so PostgreSQL reads those accounts' rows by
    # their keys instead of scanning every account (a pass over 1% of them costs 1%).
    allowances = allowances.where(scope.covers(a.account_id, now), scope.ranged(acc.id))
    licences = licences.where(scope.covers(s.account_id, now), scope.ranged(acc.id))
    features = features.where(scope.covers(f.account_id, now), scope.ranged(acc.id))
    # A subquery, not a CTE: a statement starting with WITH would not open a transaction under
    # Python's sqlite3 (it only begins one before INSERT/UPDATE/DELETE), so it could not be rolled back.
    return union_all(allowances, licences, features).subquery("usage")


def threshold_candidates(now: datetime, defaults: Sequence[int], scope: Scope) -> Select[Any]:
    """Every (meter, threshold) crossed this period that has no alert yet at the meter's allowance now,
    ordered (so concurrent evaluators insert in the same order and cannot deadlock). A changed allowance
    (an upgrade, a downgrade) starts its thresholds afresh."""
    s, t, al = SubscriptionRow, AlertThresholdRow, AlertRow
    ar, mr, any_rule = (aliased(AlertRuleRow, name=n) for n in ("ar", "mr", "any_rule"))

    # Accounts with settings: the meter's own thresholds if overridden, else the account's.
    u = _usage(scope, now)
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
    u = _usage(scope, now)
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
        same_allowance(al.available, rules.c.available),
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
            sane_period(s),
            ~already,
        )
        .order_by(rules.c.account_id, rules.c.meter, rules.c.percent)
    )


INSERTED_COLUMNS: Final = (
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


def forecast_candidates(now: datetime, min_readings: int, scope: Scope) -> Select[Any]:
    """Allowances not yet forecast this period at their allowance now (a raised or lowered allowance
    changes the run-out date, so it is forecast afresh), not used up, alerts on: their period's reading
    stats (x in days from `now`, so the numbers stay small).

    Only readings dated in the window of sane moments count: one stored before the bounds were
    enforced (``0001-01-01``, ``-infinity`` on PostgreSQL) would make every sum infinite."""
    a, s, r, al, rule = AllowanceRow, SubscriptionRow, UsageReadingRow, AlertRow, AlertRuleRow
    forecast_exists = exists().where(
        al.account_id == a.account_id,
        al.meter == a.meter,
        al.kind == AlertKind.FORECAST.value,
        al.period_start == s.period_start,
        same_allowance(al.available, a.available),
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
            sane_period(s),
            ~forecast_exists,
            ~switched_off,
            scope.covers(a.account_id, now),
            scope.ranged(s.account_id),
        )
    )
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
                r.at >= EARLIEST,
                r.at < LATEST,
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


def candidate_from_row(row: Any) -> ForecastCandidate:
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
# Delivery: what is due
# ------------------------------------------------------------------------------------------------


def claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        AlertRow.status == AlertStatus.PENDING.value,
        and_(AlertRow.status == AlertStatus.SENDING.value, AlertRow.lease_until <= now),
    )


def due_alerts(now: datetime, limit: int, account_id: str | None, *, lock: bool = True) -> Select[Any]:
    """Pending alerts due now (and not held by a snooze, which holds the meter whatever its allowance),
    and alerts whose sending lease ran out, each with whether a more important alert of the same meter,
    period and allowance overtook it (one at another allowance is another thread, and never does)."""
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
        same_allowance(other.available, al.available),
        other.kind == AlertKind.THRESHOLD.value,
    )
    overtaken = case(
        (
            al.kind == AlertKind.THRESHOLD.value,
            exists().where(same_period, other.threshold > al.threshold, other.status.in_(_LIVE)),
        ),
        else_=exists().where(
            same_period,
            or_(other.status.in_(IN_FLIGHT), and_(other.threshold >= EXHAUSTED, other.status.in_(_LIVE))),
        ),
    )
    # An alert that may already be in Slack is looked up, never superseded unseen.
    superseded: ColumnElement[Any] = and_(overtaken, al.may_be_posted.is_(False))
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
    held_overtaken = and_(al.status == AlertStatus.PENDING.value, superseded)
    query = (
        select(
            al.id,
            al.status,
            al.period_end,
            superseded.label("superseded"),
            al.account_id,
            al.meter,
            al.available,
            al.may_be_posted,
        )
        .where(or_(pending_due, lease_over, held_overtaken))
        .order_by(al.next_attempt_at, al.id)
        .limit(limit)
    )
    if account_id is not None:
        query = query.where(al.account_id == account_id)
    return query.with_for_update(skip_locked=True, of=al) if lock else query


def allowances_now(account_ids: Sequence[str], now: datetime) -> Select[Any]:
    """(account_id, meter, available) of every meter the accounts have watched now."""
    u = _usage(Scope.of(account_ids), now)
    return select(u.c.account_id, u.c.meter, u.c.available)


def thread_key(alert: Any) -> tuple[Any, Any, Any, Any]:
    """A meter's alerts of one billing period and allowance share one message: (account, meter, period
    start, allowance). A Decimal allowance: 5000 and 5000.0000 are one key."""
    return alert.account_id, alert.meter, alert.period_start, Decimal(alert.available)


def thread_siblings(alert_ids: Sequence[int], *, lock: bool = False) -> Select[Any]:
    """Every alert of the threads (account, meter, period, allowance) of `alert_ids`, theirs included;
    with `lock`, only those in flight, locked unless another transaction holds them (``SKIP LOCKED``)."""
    al, sib = AlertRow, aliased(AlertRow, name="sibling")
    keys = (
        select(al.account_id, al.meter, al.period_start, al.available)
        .where(al.id.in_(alert_ids))
        .distinct()
        .subquery()
    )
    query = select(sib).join(
        keys,
        and_(
            sib.account_id == keys.c.account_id,
            sib.meter == keys.c.meter,
            sib.period_start == keys.c.period_start,
            same_allowance(sib.available, keys.c.available),
        ),
    )
    if not lock:
        return query
    return query.where(sib.status.in_(IN_FLIGHT)).with_for_update(skip_locked=True, of=sib)


# ------------------------------------------------------------------------------------------------
# Resolution: a meter's message is resolved when its period renews or its allowance grows
# ------------------------------------------------------------------------------------------------


def resolvable(now: datetime, scope: Scope) -> Select[Any]:
    """(alert id, resolution, allowance now) of each meter's message to resolve: the latest alert posted in
    its thread (one per period and allowance), when a new billing period started (or its own ended), or
    when the allowance grew so that usage is below the threshold that alert announced. Not while an alert
    of the thread may be in it unseen (being posted, or its outcome unknown): that alert is looked up in
    the thread, which it would otherwise no longer find open, and posted again as a new message."""
    al, s = AlertRow, SubscriptionRow
    later = aliased(AlertRow, name="later")
    u = _usage(scope, now)
    in_thread = and_(
        later.account_id == al.account_id,
        later.meter == al.meter,
        later.period_start == al.period_start,
        same_allowance(later.available, al.available),
    )
    newer = exists().where(in_thread, later.status == AlertStatus.SENT.value, later.id > al.id)
    unsettled = exists().where(
        in_thread,
        or_(
            later.status == AlertStatus.SENDING.value,
            and_(later.status == AlertStatus.PENDING.value, later.may_be_posted.is_(True)),
        ),
    )
    renewed = or_(s.period_start > al.period_start, al.period_end <= now.date())
    raised = and_(
        exact(u.c.available) > exact(al.available),
        exact(u.c.used) * 100 < al.threshold * exact(u.c.available),
    )
    reason = case(
        (renewed, literal(Resolution.RENEWED.value)), else_=literal(Resolution.ALLOWANCE_RAISED.value)
    )
    query = (
        select(al.id, reason.label("resolution"), u.c.available)
        .select_from(al)
        .join(s, s.account_id == al.account_id)
        .outerjoin(u, and_(u.c.account_id == al.account_id, u.c.meter == al.meter))
        .where(
            al.status == AlertStatus.SENT.value,
            al.message_ts.is_not(None),
            al.resolved_at.is_(None),
            ~newer,
            ~unsettled,
            or_(renewed, raised),
        )
        .order_by(al.id)
    )
    return query.where(scope.ranged(al.account_id))
