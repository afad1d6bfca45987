"""`/plan usage`, its chart and the alert evaluation tell the same run-out date from the same data."""

from __future__ import annotations

from datetime import timedelta

from bot.alerts.forecast import MIN_READINGS, forecast_alert
from store import Store
from store.domain.alerts import DEFAULT_THRESHOLDS, AlertKind
from store.domain.plan import Meter
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import SlackDriver, all_text


async def forecast_dates(store: Store) -> dict[str, str]:
    """What a dry run of the alert evaluation forecasts, by meter (nothing is claimed)."""
    alerts = await store.alerts.evaluate(
        DEMO_NOW + timedelta(minutes=1),
        forecast_alert,
        defaults=DEFAULT_THRESHOLDS,
        min_readings=MIN_READINGS,
        dry_run=True,
    )
    return {
        a.meter: a.forecast.runs_out_at.date().isoformat()
        for a in alerts
        if a.kind == AlertKind.FORECAST and a.forecast is not None
    }


async def test_plan_usage_and_the_alerts_forecast_the_same_day(demo: Store, slack: SlackDriver) -> None:
    dates = await forecast_dates(demo)
    assert Meter.VOICE_MINUTES.value in dates, "the sample data forecasts voice minutes running out"
    reply = all_text(await slack.run("usage"))
    for meter, day in dates.items():
        assert f"|{day}>" in reply, f"{meter}: the alerts say {day}; /plan usage says otherwise"


async def test_a_later_usage_figure_moves_both_the_same_way(demo: Store, slack: SlackDriver) -> None:
    """The allowance's figure measured after the last reading: both anchor the forecast at it."""
    plan = await demo.accounts.snapshot("demo")
    voice = plan.allowance(Meter.VOICE_MINUTES)
    assert voice is not None
    assert voice.used_at is not None
    document = await demo.accounts.document("demo")
    later = document.model_copy(update={"data_as_of": voice.used_at + timedelta(hours=20)})
    await demo.accounts.upsert("demo", later)
    dates = await forecast_dates(demo)
    reply = all_text(await slack.run("usage"))
    assert dates
    assert all(f"|{day}>" in reply for day in dates.values())
