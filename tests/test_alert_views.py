"""The alert view builders: pure functions, checked against Slack's limits by the fake's validators."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.alerts.chart import BurnDown, burndown_png
from bot.core.errors import ExpiredForm
from bot.devtools.blockkit import validate_message, validate_view
from handlers.alerts.ids import METER_BLOCK
from handlers.alerts.ids import Action as AlertsAction
from handlers.alerts.ids import Block as AlertsBlock
from handlers.alerts.settings import AlertSettingsForm, AlertSettingsMeta, alert_settings_modal
from handlers.alerts.views import AlertRef, alert_message, delivery_failed_message, forecast_line, headline
from handlers.payloads import ViewState
from store.domain.alerts import Alert, AlertKind, AlertRules, AlertStatus, Forecast
from store.usage import Reading
from tests.support.slackdriver import all_text

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
RENEWAL = date(2026, 12, 2)


def alert(
    meter: str = "voice_minutes", *, threshold: int = 80, kind: AlertKind = AlertKind.THRESHOLD, **extra: Any
) -> Alert:
    values: dict[str, Any] = {
        "id": 7,
        "account_id": "demo",
        "meter": meter,
        "kind": kind,
        "threshold": threshold,
        "period_start": date(2026, 11, 2),
        "period_end": RENEWAL,
        "used": Decimal(4100),
        "available": Decimal(5000),
        "unit": "min",
        "as_of": NOW,
        "status": AlertStatus.SENDING,
        "attempts": 1,
        "next_attempt_at": NOW,
        "created_at": NOW,
        **extra,
    }
    return Alert(**values)


def valid(params: dict[str, Any]) -> dict[str, Any]:
    assert validate_message(params, where="test") == []
    return params


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (alert(), "Voice call minutes: 80% of this period's allowance used"),
        (alert(threshold=100), "Voice call minutes: this period's allowance is used up"),
        (alert("staff_licences", threshold=90), "Staff licences: 90% assigned"),
        (alert("staff_licences", threshold=100), "Staff licences: all assigned"),
        (alert("feature:virtual_numbers"), "Virtual Numbers: 80% of the limit used"),
        (alert("feature:virtual_numbers", threshold=100), "Virtual Numbers: limit reached"),
        (alert(kind=AlertKind.FORECAST, threshold=100), "Voice call minutes will run out before renewal"),
    ],
)
def test_headlines(made: Alert, expected: str) -> None:
    assert headline(made) == expected
    assert expected in all_text(valid(alert_message(made, company="Acme").as_kwargs()))


def test_the_message_shows_usage_forecast_as_of_and_buttons() -> None:
    forecast = Forecast(runs_out_at=datetime(2026, 11, 27, 15, tzinfo=UTC), readings=12, days=Decimal("11.5"))
    params = valid(alert_message(alert(), company="Acme Ltd", forecast=forecast).as_kwargs())
    text = all_text(params)
    assert "`▰▰▰▰▰▰▰▰▱▱` 82% :warning: · 4,100 of 5,000 min" in text
    assert "At this pace voice call minutes run out on <!date^" in text
    assert "5 days before renewal" in text
    assert "Based on 12 readings over 11.5 days" in text
    assert "Acme Ltd · data as of <!date^" in text
    assert "invoice is authoritative" in text
    assert "runs out around 2026-11-27, 5 days before renewal" in params["text"]
    actions = next(b for b in params["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        AlertsAction.ALERT_VIEW_PLAN,
        AlertsAction.ALERT_REQUEST_MORE,
        AlertsAction.ALERT_SNOOZE,
        AlertsAction.ALERT_ACKNOWLEDGE,
    ]
    assert {e.get("value") for e in actions["elements"] if "value" in e} == {AlertRef(id=7).encode()}


def test_forecast_wording_for_singular_meters_and_slow_paces() -> None:
    soon = Forecast(runs_out_at=datetime(2026, 12, 1, 8, tzinfo=UTC), readings=5, days=Decimal(4))
    assert "storage runs out on" in forecast_line("Storage", soon, RENEWAL)
    assert "1 day before renewal" in forecast_line("Storage", soon, RENEWAL)
    late = Forecast(runs_out_at=datetime(2026, 12, 9, tzinfo=UTC), readings=5, days=Decimal(4))
    assert "storage lasts until renewal" in forecast_line("Storage", late, RENEWAL)


def test_an_acknowledged_alert_says_by_whom_and_drops_its_snooze_and_acknowledge() -> None:
    done = alert(
        acknowledged_by="U0BOSS",
        acknowledged_at=NOW,
        snoozed_by="U0BOSS",
        snoozed_until=NOW + timedelta(days=1),
    )
    params = valid(alert_message(done, company="Acme").as_kwargs())
    text = all_text(params)
    assert "Acknowledged by <@U0BOSS>" in text
    assert "snoozed by <@U0BOSS> until" in text
    actions = next(b for b in params["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        AlertsAction.ALERT_VIEW_PLAN,
        AlertsAction.ALERT_REQUEST_MORE,
    ]


def test_long_company_names_stay_within_limits() -> None:
    valid(alert_message(alert(), company="A" * 5000).as_kwargs())


def test_failed_delivery_dm_explains_and_keeps_the_alerts() -> None:
    message = delivery_failed_message(
        [(alert(), "not_in_channel"), (alert("storage_gb", threshold=90, unit="GB"), "not_in_channel")],
        channel="C0ALERTS",
        company="Acme",
    )
    text = all_text(valid(message.as_kwargs()))
    assert "couldn't post 2 quota alerts for *Acme*" in text
    assert "My Plan isn't a member of <#C0ALERTS>" in text
    assert "/invite @My Plan" in text
    assert "Storage: 90%" in text


def test_the_settings_modal_fits_and_shows_the_rules() -> None:
    meters = ["voice_minutes", "video_minutes", "storage_gb", "staff_licences"] + [
        f"feature:{k}"
        for k in (
            "virtual_numbers",
            "directory",
            "omnichannels",
            "external_contacts",
            "destinations",
            "staff_accounts",
            "campaigns",
        )
    ]
    rules = AlertRules(
        channel="C0ALERTS", thresholds=(75, 90), overrides={"storage_gb": (50, 95), "staff_licences": ()}
    )
    view = alert_settings_modal(
        rules,
        meters,
        [alert(status=AlertStatus.SENT, sent_at=NOW)],
        AlertSettingsMeta(account_id="demo", meters=tuple(meters)),
    ).to_dict()
    assert validate_view(view, where="test") == []
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id[AlertsBlock.ALERTS_CHANNEL]["element"]["initial_conversation"] == "C0ALERTS"
    assert [o["value"] for o in by_id[METER_BLOCK.id("storage_gb")]["element"]["initial_options"]] == [
        "50",
        "95",
    ]
    assert [o["value"] for o in by_id[METER_BLOCK.id("staff_licences")]["element"]["initial_options"]] == [
        "off"
    ]
    assert "initial_options" not in by_id[METER_BLOCK.id("voice_minutes")]["element"]
    assert "Voice call minutes: 80% of this period's allowance used · posted" in all_text(
        {"blocks": view["blocks"]}
    )


def test_the_settings_form_is_parsed_and_checked() -> None:
    def multi(*values: str) -> dict[str, Any]:
        return {"selected_options": [{"value": v} for v in values]}

    values = {
        AlertsBlock.ALERTS_ENABLED: {AlertsAction.ALERTS_ENABLED: {"selected_option": {"value": "on"}}},
        AlertsBlock.ALERTS_CHANNEL: {AlertsAction.ALERTS_CHANNEL: {"selected_conversation": None}},
        AlertsBlock.ALERTS_THRESHOLDS: {AlertsAction.ALERTS_THRESHOLDS: multi("90", "80")},
        METER_BLOCK.id("storage_gb"): {AlertsAction.ALERTS_METER: multi("off", "50")},
        METER_BLOCK.id("video_minutes"): {AlertsAction.ALERTS_METER: multi("off")},
        METER_BLOCK.id("voice_minutes"): {AlertsAction.ALERTS_METER: multi()},
        AlertsBlock.ALERTS_TIME_ZONE: {AlertsAction.ALERTS_TIME_ZONE: {"value": "Europe/London"}},
    }
    form = AlertSettingsForm.from_state(ViewState(values), ["voice_minutes", "video_minutes", "storage_gb"])
    assert form.thresholds == (80, 90)
    assert form.overrides == {"storage_gb": (), "video_minutes": ()}
    assert set(form.errors()) == {AlertsBlock.ALERTS_CHANNEL, METER_BLOCK.id("storage_gb")}
    with pytest.raises(ExpiredForm):  # 250% is not on offer: a tampered or stale form
        AlertSettingsForm.from_state(
            ViewState({AlertsBlock.ALERTS_THRESHOLDS: {AlertsAction.ALERTS_THRESHOLDS: multi("250")}}), []
        )


def test_the_burn_down_chart_is_a_png_even_without_readings() -> None:
    start = datetime(2026, 11, 2, tzinfo=UTC)
    readings = [
        Reading(meter="storage_gb", used=Decimal(d * 2), at=start + timedelta(days=d)) for d in range(1, 10)
    ]
    forecast = Forecast(runs_out_at=start + timedelta(days=40), readings=9, days=Decimal(8))
    png = burndown_png(
        [
            BurnDown("Storage", "GB", 100.0, readings, date(2026, 11, 2), RENEWAL, forecast),
            BurnDown("Video call minutes", "min", 2000.0, [], date(2026, 11, 2), RENEWAL),
        ],
        title="Usage",
    )
    assert png.startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="nothing to draw"):
        burndown_png([], title="Usage")
