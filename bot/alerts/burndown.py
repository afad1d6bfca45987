"""One allowance's burn-down over its billing period, with its run-out forecast: the one computation
behind `/plan usage`, its chart, and the forecast shown on alerts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from bot.alerts.chart import BurnDown
from bot.alerts.forecast import forecast_from_readings
from bot.alerts.rules import midnight
from store import Store
from store.domain.alerts import Forecast


async def burn_down(
    store: Store,
    account_id: str,
    meter: str,
    *,
    label: str,
    unit: str,
    used: Decimal,
    available: Decimal,
    period_start: date,
    renewal: date,
    as_of: datetime,
    until: datetime | None = None,
    forecast: Forecast | None = None,
) -> BurnDown:
    """The period's readings of `meter` (up to `until`, when given) and the run-out forecast from them
    (`forecast` when it is already known). `as_of` dates the figures when there are no readings."""
    history = await store.usage.history(account_id, meter, since=midnight(period_start))
    readings = [r for r in history if until is None or r.at <= until]
    if forecast is None:
        forecast = forecast_from_readings(
            readings,
            period_start=period_start,
            used=used,
            available=available,
            as_of=until or (readings[-1].at if readings else as_of),
        )
    return BurnDown(
        label=label,
        unit=unit,
        available=float(available),  # a chart's axis, not money
        readings=readings,
        period_start=period_start,
        renewal=renewal,
        forecast=forecast,
    )
