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
from store.domain.plan import Meter, PlanSnapshot


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
    as_of: datetime | None,
    fallback_as_of: datetime | None = None,
    until: datetime | None = None,
    forecast: Forecast | None = None,
) -> BurnDown:
    """The period's readings of `meter` (up to `until`, when given) and the run-out forecast from them
    (`forecast` when it is already known).

    The forecast goes on from `used` at `as_of`, when `used` was measured; the alert evaluation in SQL
    (`store.alert_queries.candidate_from_row`) anchors it the same way, else at the latest reading, else
    at `fallback_as_of`, so `/plan usage`, its chart and the alerts tell the same date."""
    history = await store.usage.history(account_id, meter, since=midnight(period_start))
    readings = [r for r in history if until is None or r.at <= until]
    anchor = as_of or (readings[-1].at if readings else fallback_as_of)
    if forecast is None and anchor is not None:
        forecast = forecast_from_readings(
            readings, period_start=period_start, used=used, available=available, as_of=anchor
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


async def plan_burn_downs(store: Store, plan: PlanSnapshot) -> dict[Meter, BurnDown]:
    """Every allowance of the plan's current period, each with its run-out forecast (`/plan usage` and the
    weekly digest draw these)."""
    sub = plan.subscription
    charts: dict[Meter, BurnDown] = {}
    for meter in Meter:
        allowance = plan.allowance(meter)
        if allowance is None:
            continue
        charts[meter] = await burn_down(
            store,
            plan.account.id,
            meter.value,
            label=meter.label,
            unit=meter.unit,
            used=allowance.used,
            available=allowance.available,
            period_start=sub.period_start,
            renewal=sub.next_payment_date,
            as_of=allowance.used_at,
            fallback_as_of=plan.account.data_as_of,
        )
    return charts
