"""Run-out forecasts: a least-squares line through the period's readings, anchored at the latest one.

Minutes and gigabytes, not money: the fit uses floats, and what is shown is rounded (whole days,
tenths of a day for the basis).

Whatever the readings, the maths gives a forecast or None, never an error: a reading dated outside the
window of sane moments (``0001-01-01``, read from PostgreSQL as ``-infinity``) is left out, and statistics
that are not finite give no forecast (a NaN would otherwise reach `timedelta` and raise).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final

from bot.alerts.rules import midnight, period_end_at
from bot.core.bounds import is_sane_moment
from store.domain.alerts import Forecast, ForecastCandidate, ReadingStats
from store.usage import Reading

MIN_READINGS: Final = 3
MIN_DAYS: Final = 2.0
"""No forecast from fewer readings, or from readings spanning less time, than these."""
HORIZON_DAYS: Final = 3650.0
"""A pace so slow it would take longer than this is reported as this (keeps dates representable)."""


def stats_of(readings: Sequence[Reading], period_start: date) -> ReadingStats | None:
    """The sufficient statistics of `readings` (x in days since the period started), None if empty.

    Readings dated outside the window of sane moments, or whose figure is not finite, are left out."""
    readings = [r for r in readings if is_sane_moment(r.at) and r.used.is_finite()]
    if not readings:
        return None
    origin = midnight(period_start)
    xs = [(r.at - origin) / timedelta(days=1) for r in readings]
    ys = [float(r.used) for r in readings]
    return ReadingStats(
        count=len(xs),
        sum_x=sum(xs),
        sum_y=sum(ys),
        sum_xx=sum(x * x for x in xs),
        sum_xy=sum(x * y for x, y in zip(xs, ys, strict=True)),
        first_x=min(xs),
        last_x=max(xs),
    )


def pace_per_day(
    stats: ReadingStats, *, min_readings: int = MIN_READINGS, min_days: float = MIN_DAYS
) -> float | None:
    """The least-squares slope (used per day), or None from too little data (or data that is not finite)."""
    if not _finite(stats):
        return None
    if stats.count < min_readings or stats.last_x - stats.first_x < min_days:
        return None
    n = stats.count
    spread = n * stats.sum_xx - stats.sum_x**2
    if not math.isfinite(spread) or spread <= 0:
        return None
    pace = (n * stats.sum_xy - stats.sum_x * stats.sum_y) / spread
    return pace if math.isfinite(pace) else None


def _finite(stats: ReadingStats) -> bool:
    return all(
        math.isfinite(value)
        for value in (stats.sum_x, stats.sum_y, stats.sum_xx, stats.sum_xy, stats.first_x, stats.last_x)
    )


def forecast(
    stats: ReadingStats,
    *,
    used: Decimal,
    available: Decimal,
    as_of: datetime,
    min_readings: int = MIN_READINGS,
    min_days: float = MIN_DAYS,
) -> Forecast | None:
    """When `available` runs out going on from `used` at `as_of` at the fitted pace.

    None from too little data, when usage is not rising, or when it has already run out."""
    pace = pace_per_day(stats, min_readings=min_readings, min_days=min_days)
    if pace is None or pace <= 0 or not (used.is_finite() and available.is_finite()):
        return None
    remaining = float(available - used)
    if not math.isfinite(remaining) or remaining <= 0:
        return None
    days = min(remaining / pace, HORIZON_DAYS)  # remaining and pace are finite and positive: so is this
    try:
        runs_out_at = as_of + timedelta(days=days)
    except OverflowError:  # as_of itself is absurd (year 9999)
        return None
    return Forecast(
        runs_out_at=runs_out_at,
        readings=stats.count,
        days=Decimal(str(round(stats.last_x - stats.first_x, 1))),
    )


def runs_out_before_renewal(forecast: Forecast, renewal: date) -> bool:
    return forecast.runs_out_at < period_end_at(renewal)


def days_before_renewal(forecast: Forecast, renewal: date) -> int:
    return (renewal - forecast.runs_out_at.date()).days


def forecast_alert(candidate: ForecastCandidate) -> Forecast | None:
    """The forecast worth an alert: the allowance runs out before the next payment date."""
    result = forecast(
        candidate.stats, used=candidate.used, available=candidate.available, as_of=candidate.as_of
    )
    if result is None or not runs_out_before_renewal(result, candidate.period_end):
        return None
    return result


def forecast_from_readings(
    readings: Sequence[Reading], *, period_start: date, used: Decimal, available: Decimal, as_of: datetime
) -> Forecast | None:
    """The forecast from a list of readings (the delivery loop and `/plan usage` use this)."""
    stats = stats_of(readings, period_start)
    if stats is None:
        return None
    return forecast(stats, used=used, available=available, as_of=as_of)
