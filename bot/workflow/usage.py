"""The plan's usage as figures a workflow can use: each allowance's used, available and percent (as every
view rounds it), and its run-out date, from the same burn-down and forecast as `/plan usage`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bot.alerts.burndown import plan_burn_downs
from bot.alerts.forecast import runs_out_before_renewal
from bot.plan.usage import percent_used, whole_percent
from store import Store
from store.domain.plan import Meter, PlanSnapshot


@dataclass(frozen=True, slots=True)
class AllowanceUsage:
    """One metered allowance of the current billing period."""

    meter: Meter
    used: Decimal
    available: Decimal
    percent: int
    """Used as a whole percentage of available, rounded half-up (as `/plan` shows it)."""
    runs_out_on: date | None
    """The forecast run-out day (UTC) when it falls before the renewal; None when there is no forecast
    (too few readings) or the allowance lasts until the renewal at the current pace."""


@dataclass(frozen=True, slots=True)
class PlanUsage:
    plan_name: str
    next_payment_date: date
    data_as_of: datetime
    allowances: tuple[AllowanceUsage, ...]

    def allowance(self, meter: Meter) -> AllowanceUsage | None:
        return next((a for a in self.allowances if a.meter == meter), None)


async def plan_usage(store: Store, plan: PlanSnapshot) -> PlanUsage:
    """`plan`'s allowances with their forecasts (the period's readings are read from `store`)."""
    renewal = plan.subscription.next_payment_date
    charts = await plan_burn_downs(store, plan)
    allowances = []
    for meter in Meter:
        allowance = plan.allowance(meter)
        if allowance is None:
            continue
        percent = percent_used(allowance.used, allowance.available)
        chart = charts.get(meter)
        forecast = chart.forecast if chart is not None else None
        runs_out = forecast is not None and runs_out_before_renewal(forecast, renewal)
        allowances.append(
            AllowanceUsage(
                meter=meter,
                used=allowance.used,
                available=allowance.available,
                percent=whole_percent(percent) if percent is not None else 0,
                runs_out_on=forecast.runs_out_at.date() if forecast is not None and runs_out else None,
            )
        )
    return PlanUsage(
        plan_name=plan.subscription.plan_name,
        next_payment_date=renewal,
        data_as_of=plan.account.data_as_of,
        allowances=tuple(allowances),
    )
