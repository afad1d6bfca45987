"""Quota alert evaluation: the set-based evaluator, and the isolation of an account it cannot evaluate.

The evaluator is SQL over every account at once (or one account, right after an ingest): one
``INSERT … SELECT … ON CONFLICT DO NOTHING`` claims each crossed (meter, threshold, billing period,
allowance) exactly once — the unique constraint on ``alerts`` is the claim, so concurrent evaluators,
restarts and dips below a threshold cannot repeat an alert, while a changed allowance (an upgrade, a
downgrade) starts its thresholds afresh. Forecast alerts are claimed the same way (once per period and
allowance), from per-meter reading statistics the database aggregates and a forecaster the caller
supplies.

One account cannot stop the others' alerts: when the set-based evaluation of every account fails, the
accounts are evaluated in halves, and halves of halves, until the failing ones stand alone; they are
skipped, recorded in ``alert_evaluation_failures`` and tried again after a wait that doubles with each
failure, while everything else is claimed as usual (`failing_accounts` lists them for the operator).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import delete, exists, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from store.alert_marks import Mark, claim_due, move_on
from store.alert_queries import (
    INSERTED_COLUMNS,
    Scope,
    candidate_from_row,
    forecast_candidates,
    resolvable,
    sane_period,
    threshold_candidates,
)
from store.db import Database
from store.domain.alerts import (
    FORECAST_THRESHOLD,
    Alert,
    AlertKind,
    AlertStatus,
    DuePass,
    EvaluationFailure,
    Forecast,
    ForecastCandidate,
    Resolution,
    SweepResult,
)
from store.errors import StoreUnavailable
from store.tables import (
    AlertEvaluationFailureRow,
    AlertRow,
    SubscriptionRow,
)
from store.upserts import insert_for

log = logging.getLogger(__name__)

Forecaster = Callable[[ForecastCandidate], Forecast | None]

_RETRIES: Final = 3
_RETRYABLE_SQLSTATES: Final = frozenset({"40P01", "40001"})  # deadlock, serialization failure

EVALUATION_RETRY_BASE: Final = timedelta(minutes=1)
EVALUATION_RETRY_CAP: Final = timedelta(hours=1)
"""An account whose evaluation failed is tried again after 1 minute, then 2, 4… at most hourly."""
MARK_BATCH: Final = 1000
"""Accounts one transaction of a pass evaluates (so a pass after a mass change commits as it goes)."""
PASS_BATCHES_AT_ONCE: Final = 2
"""Batches a pass evaluates at once on PostgreSQL: while one waits for the database, another computes."""
MAX_ISOLATED: Final = 100
"""More failing accounts than this in one sweep is the evaluator's fault, not the accounts': the sweep fails."""


def evaluation_backoff(failures: int) -> timedelta:
    """How long an account is skipped after its `failures`-th failed evaluation in a row."""
    delay: timedelta = EVALUATION_RETRY_BASE * 2 ** min(max(failures - 1, 0), 16)
    return min(delay, EVALUATION_RETRY_CAP)


def alert_of(row: Any) -> Alert:
    """An Alert from an AlertRow, or from a result row with the same columns."""
    forecast = None
    if row.forecast_runs_out_at is not None:
        forecast = Forecast(
            runs_out_at=row.forecast_runs_out_at,
            readings=row.forecast_readings or 0,
            days=row.forecast_days or Decimal(0),
        )
    # The row has every field of Alert but the forecast, which it keeps in three columns.
    return Alert.model_validate(row, from_attributes=True).model_copy(update={"forecast": forecast})


def forecast_values(forecast: Forecast | None) -> dict[str, Any]:
    if forecast is None:
        return {}
    return {
        "forecast_runs_out_at": forecast.runs_out_at,
        "forecast_readings": forecast.readings,
        "forecast_days": forecast.days,
    }


class OutOfBoundsData(ValueError):
    """An account's stored data is out of bounds, so the evaluator skips it."""


class _DryRun(Exception):
    """Raised inside a transaction to roll it back after computing what it would write."""

    def __init__(self, rows: list[Any]) -> None:
        super().__init__("dry run")
        self.rows = rows


def _is_retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


def _isolatable(error: BaseException) -> bool:
    """A failure that may be one account's doing: not an outage, not a clash with another evaluator
    (both are retried as a whole, on the next pass)."""
    if isinstance(error, StoreUnavailable):
        return False
    return not (isinstance(error, DBAPIError) and _is_retryable(error))


def _describe(error: BaseException) -> str:
    """The error in one line, storable anywhere (no control characters), for the operator."""
    text = str(error).splitlines()[0] if str(error).strip() else ""
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return "".join(ch if ch.isprintable() else "?" for ch in line)[:500]


async def _clear_failures(session: AsyncSession, scope: Scope, now: datetime) -> None:
    """Accounts evaluated without error are failing no more (those waiting to retry were not evaluated,
    and those with a billing period out of bounds were skipped, not evaluated)."""
    failed, s = AlertEvaluationFailureRow, SubscriptionRow
    skipped = exists().where(s.account_id == failed.account_id, ~sane_period(s))
    clear = delete(failed).where(scope.ranged(failed.account_id), ~skipped)
    if scope.account_id is None and scope.accounts is None:
        clear = clear.where(failed.retry_at <= now)
    await session.execute(clear)


async def resolve_in(session: AsyncSession, now: datetime, scope: Scope) -> None:
    """Resolve each meter's message (in `scope`) whose billing period renewed or whose allowance grew
    below the threshold it announced; the delivery loop then shows it resolved."""
    for alert_id, resolution, available in (await session.execute(resolvable(now, scope))).all():
        raised = resolution == Resolution.ALLOWANCE_RAISED
        await session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id, AlertRow.resolved_at.is_(None))
            .values(resolved_at=now, resolution=resolution, resolved_available=available if raised else None)
            .execution_options(synchronize_session=False)
        )


# ------------------------------------------------------------------------------------------------
# The repository


class AlertEvaluation:
    """The evaluation half of the alerts repository (`store.alerts.AlertRepository` has the rest)."""

    _db: Database

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

        For every account (`account_id` None) it is a sweep: an account whose evaluation fails is
        skipped (and retried later), the others are claimed. For one account, a failure is recorded
        and raised. `dry_run` computes the same and rolls it back (and records nothing)."""
        if account_id is not None:
            return [
                alert_of(row)
                for row in await self._one(now, forecaster, defaults, min_readings, account_id, dry_run)
            ]
        rows, _ = await self._every(now, forecaster, defaults, min_readings, dry_run)
        return [alert_of(row) for row in rows]

    async def sweep(
        self, now: datetime, forecaster: Forecaster, *, defaults: Sequence[int], min_readings: int
    ) -> SweepResult:
        """`evaluate` for every account, returning how many alerts were claimed (a cold sweep of many
        accounts can claim hundreds of thousands) and the accounts skipped because their evaluation failed."""
        rows, failed = await self._every(now, forecaster, defaults, min_readings, False)
        return SweepResult(claimed=len(rows), failed=tuple(failed))

    async def evaluate_due(
        self,
        now: datetime,
        forecaster: Forecaster,
        *,
        defaults: Sequence[int],
        min_readings: int,
        lease: timedelta = timedelta(minutes=5),
        batch: int = MARK_BATCH,
    ) -> DuePass:
        """Evaluate (and resolve) only the accounts whose mark is due (see `store.alert_marks`), a batch
        per transaction until none is; an account that fails is skipped and retried later, as in a sweep.
        With nothing due it reads one empty index range. On PostgreSQL, `PASS_BATCHES_AT_ONCE` batches
        are evaluated at once (claims skip each other's marks, as two workers' do); SQLite has one writer."""

        async def batches() -> DuePass:
            done = DuePass()
            while marks := await self._claim_marks(now, batch, lease):
                done += await self._evaluate_marked(now, forecaster, defaults, min_readings, marks)
                if len(marks) < batch:
                    break
            return done

        at_once = 1 if self._db.is_sqlite else PASS_BATCHES_AT_ONCE
        return sum(await asyncio.gather(*(batches() for _ in range(at_once))), DuePass())

    async def _claim_marks(self, now: datetime, batch: int, lease: timedelta) -> list[Mark]:
        async with self._db.session() as session:
            return await claim_due(session, now, batch, lease)

    async def _evaluate_marked(
        self,
        now: datetime,
        forecaster: Forecaster,
        defaults: Sequence[int],
        min_readings: int,
        marks: list[Mark],
    ) -> DuePass:
        """The marked accounts, set-based in one transaction with their marks moved on; only if that
        fails, by halves until the failing ones stand alone (their marks move on to their retry). Those
        waiting for the retry of a failed evaluation are not evaluated: their marks move on to it."""
        ready = [mark for mark in marks if mark.retry_at is None or mark.retry_at <= now]
        waiting = [mark for mark in marks if mark.retry_at is not None and mark.retry_at > now]
        if waiting:
            async with self._db.session() as session:
                await move_on(session, waiting, now)
        by_id = {mark.account_id: mark for mark in ready}

        async def evaluate(ids: list[str]) -> list[Any]:
            part = [by_id[account_id] for account_id in ids]
            return await self._in_transaction(
                now, forecaster, defaults, min_readings, Scope.of(ids), False, part
            )

        rows, failed = await self._by_halves(list(by_id), evaluate, now, dry_run=False)
        recorded = await self._record_failures(failed, now) if failed else []
        if failed:
            async with self._db.session() as session:
                await move_on(session, [mark for mark in ready if mark.account_id in dict(failed)], now)
        return DuePass(evaluated=len(ready), claimed=len(rows), failed=tuple(recorded), waiting=len(waiting))

    async def failing_accounts(self) -> list[EvaluationFailure]:
        """Accounts whose last alert evaluation failed, by account id: why, since when, and when they are
        tried again. Empty when every account is being evaluated (for `myplan alerts status`, health checks)."""
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(AlertEvaluationFailureRow).order_by(AlertEvaluationFailureRow.account_id)
            )
            return [EvaluationFailure.model_validate(row, from_attributes=True) for row in rows]

    async def _one(
        self,
        now: datetime,
        forecaster: Forecaster,
        defaults: Sequence[int],
        min_readings: int,
        account_id: str,
        dry_run: bool,
    ) -> list[Any]:
        scope = Scope(account_id=account_id)
        try:
            return await self._in_transaction(now, forecaster, defaults, min_readings, scope, dry_run)
        except Exception as error:
            if not _isolatable(error) or dry_run:
                raise
            await self._record_failures([(account_id, error)], now)  # the caller logs the traceback
            raise

    async def _every(
        self, now: datetime, forecaster: Forecaster, defaults: Sequence[int], min_readings: int, dry_run: bool
    ) -> tuple[list[Any], list[EvaluationFailure]]:
        """Every account set-based, in one statement each for thresholds and forecasts; only if that fails,
        the accounts are split in halves, and halves of halves, until the failing ones stand alone.

        Accounts whose stored billing period is out of bounds are skipped by the SQL; they are recorded
        as failing too, so that the operator hears of them."""
        failed: list[tuple[str, BaseException]] = []
        try:
            rows = await self._in_transaction(
                now, forecaster, defaults, min_readings, Scope.everyone(), dry_run
            )
        except Exception as error:
            if not _isolatable(error):
                raise
            log.warning(
                "alert evaluation of every account at once failed (%s); looking for the account(s) at fault",
                _describe(error),
            )
            rows, failed = await self._isolate(now, forecaster, defaults, min_readings, dry_run)
        if dry_run:
            return rows, []
        failed += await self._out_of_bounds(now)
        return rows, (await self._record_failures(failed, now) if failed else [])

    async def _isolate(
        self, now: datetime, forecaster: Forecaster, defaults: Sequence[int], min_readings: int, dry_run: bool
    ) -> tuple[list[Any], list[tuple[str, BaseException]]]:
        """Evaluate the accounts by halves until each failure is one account's; the rows claimed, and the
        accounts that failed alone."""
        ids = await self._evaluable_accounts(now)

        async def evaluate(part: list[str]) -> list[Any]:
            scope = Scope.between(part[0], part[-1])
            return await self._in_transaction(now, forecaster, defaults, min_readings, scope, dry_run)

        return await self._by_halves(ids, evaluate, now, dry_run=dry_run)

    async def _by_halves(
        self,
        ids: list[str],
        evaluate: Callable[[list[str]], Awaitable[list[Any]]],
        now: datetime,
        *,
        dry_run: bool,
    ) -> tuple[list[Any], list[tuple[str, BaseException]]]:
        """`evaluate` the accounts (in the database's order) by halves, and halves of halves, until each
        failure is one account's; the rows claimed, and the accounts that failed alone."""
        rows: list[Any] = []
        failed: list[tuple[str, BaseException]] = []
        parts = [ids] if ids else []
        while parts:
            part = parts.pop()
            try:
                rows += await evaluate(part)
            except Exception as error:
                if not _isolatable(error):
                    raise
                if len(part) > 1:
                    middle = len(part) // 2
                    parts += [part[middle:], part[:middle]]
                    continue
                log.warning("alert evaluation of account %s failed; skipping it", part[0], exc_info=error)
                failed.append((part[0], error))
                if len(failed) >= MAX_ISOLATED:
                    # So many that it is not an account's data but the evaluator: fail the pass loudly.
                    if not dry_run:
                        await self._record_failures(failed, now)
                    raise
        return rows, failed

    async def _out_of_bounds(self, now: datetime) -> list[tuple[str, BaseException]]:
        """Accounts due for evaluation whose billing period the evaluator skips as out of bounds (stored
        before the bounds were enforced; PostgreSQL keeps ``0001-01-01`` as ``-infinity``)."""
        s = SubscriptionRow
        async with self._db.session(read_only=True) as session:
            found = await session.execute(
                select(s.account_id, s.period_start)
                .where(~sane_period(s), Scope.everyone().covers(s.account_id, now))
                .order_by(s.account_id)
            )
            return [
                (account_id, OutOfBoundsData(f"its billing period starts on {start}, out of bounds"))
                for account_id, start in found
            ]

    async def _evaluable_accounts(self, now: datetime) -> list[str]:
        """Ids of the accounts a sweep evaluates (those with a plan, not waiting to be retried), in the
        database's own order, so that a range of them is a range in SQL too."""
        scope = Scope.everyone()
        async with self._db.session(read_only=True) as session:
            ids = await session.scalars(
                select(SubscriptionRow.account_id)
                .where(scope.covers(SubscriptionRow.account_id, now))
                .order_by(SubscriptionRow.account_id)
            )
            return list(ids)

    async def _record_failures(
        self, failed: Sequence[tuple[str, BaseException]], now: datetime
    ) -> list[EvaluationFailure]:
        """Count each failure and put the account off, waiting twice as long after each failure in a row."""
        table = AlertEvaluationFailureRow.__table__
        recorded: list[EvaluationFailure] = []
        async with self._db.session() as session:
            before = {
                row.account_id: row
                for row in await session.scalars(
                    select(AlertEvaluationFailureRow).where(
                        AlertEvaluationFailureRow.account_id.in_([account for account, _ in failed])
                    )
                )
            }
            for account_id, error in failed:
                earlier = before.get(account_id)
                failures = (earlier.failures if earlier is not None else 0) + 1
                values = {
                    "failures": failures,
                    "last_error": _describe(error),
                    "last_failed_at": now,
                    "retry_at": now + evaluation_backoff(failures),
                }
                first = earlier.first_failed_at if earlier is not None else now
                await session.execute(
                    self._insert()(table)
                    .values(account_id=account_id, first_failed_at=first, **values)
                    .on_conflict_do_update(index_elements=["account_id"], set_=values)
                )
                recorded.append(EvaluationFailure(account_id=account_id, first_failed_at=first, **values))
        for failure in recorded:
            log.error(
                "alerts of account %s not evaluated (failure %d in a row: %s); next try at %s",
                failure.account_id,
                failure.failures,
                failure.last_error,
                failure.retry_at.isoformat(),
            )
        return recorded

    async def _in_transaction(
        self,
        now: datetime,
        forecaster: Forecaster,
        defaults: Sequence[int],
        min_readings: int,
        scope: Scope,
        dry_run: bool,
        marks: Sequence[Mark] = (),
    ) -> list[Any]:
        """Evaluate `scope` in one transaction (retried when it meets a concurrent evaluator); with
        `marks`, the accounts' messages are resolved and their marks moved on in it too."""
        for attempt in range(1, _RETRIES + 1):
            try:
                async with self._db.session() as session:
                    if not self._db.is_sqlite:
                        # A plan for these very accounts: after five runs PostgreSQL may switch a prepared
                        # statement to a generic plan, which for a list of accounts is 100 times slower.
                        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
                    rows = await self._evaluate(session, now, forecaster, defaults, min_readings, scope)
                    if dry_run:
                        raise _DryRun(rows)
                    await _clear_failures(session, scope, now)
                    if marks:
                        await resolve_in(session, now, scope)
                        await move_on(session, marks, now)
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
        scope: Scope,
    ) -> list[Any]:
        """The rows of the alerts claimed (RETURNING every column)."""
        insert = self._insert()
        table = AlertRow.__table__  # the table, not the entity: plain Core statements, no ORM bulk path
        conflict = ["account_id", "meter", "kind", "threshold", "period_start", "available"]
        thresholds = (
            insert(table)
            .from_select(list(INSERTED_COLUMNS), threshold_candidates(now, defaults, scope))
            .on_conflict_do_nothing(index_elements=conflict)
            .returning(*table.c)
        )
        rows = list(await session.execute(thresholds))

        candidates = [
            candidate_from_row(row)
            for row in await session.execute(forecast_candidates(now, min_readings, scope))
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
                **forecast_values(forecast),
            }
            for c in candidates
            if (forecast := forecaster(c)) is not None
        ]
        if new_forecasts:
            forecasts = insert(table).on_conflict_do_nothing(index_elements=conflict).returning(*table.c)
            rows += list(await session.execute(forecasts, new_forecasts))
        return rows

    def _insert(self) -> Any:
        return insert_for(self._db)
