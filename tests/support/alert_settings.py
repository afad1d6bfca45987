"""The `/plan alerts` settings modal as Slack submits it: its state, and the signed submission."""

from __future__ import annotations

from typing import Any

from bot.devtools.signing import view_submission_payload
from handlers.alerts.ids import METER_BLOCK
from handlers.alerts.ids import Action as AlertsAction
from handlers.alerts.ids import Block as AlertsBlock
from handlers.alerts.ids import Callback as AlertsCallback
from handlers.alerts.settings import AlertSettingsMeta
from tests.support.alerting import ACCOUNT, ADMIN, ALERTS_CHANNEL
from tests.support.slackdriver import TEAM


def settings_state(
    *,
    enabled: str = "on",
    channel: str | None = ALERTS_CHANNEL,
    thresholds: tuple[str, ...] = ("80", "95"),
    time_zone: str = "UTC",
    quiet: tuple[str, str] | None = None,
    weekends: bool = False,
    **meters: list[str],
) -> dict[str, Any]:
    def multi(values: list[str] | tuple[str, ...]) -> dict[str, Any]:
        return {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}

    state: dict[str, Any] = {
        AlertsBlock.ALERTS_ENABLED: {
            AlertsAction.ALERTS_ENABLED: {"type": "radio_buttons", "selected_option": {"value": enabled}}
        },
        AlertsBlock.ALERTS_CHANNEL: {
            AlertsAction.ALERTS_CHANNEL: {"type": "conversations_select", "selected_conversation": channel}
        },
        AlertsBlock.ALERTS_THRESHOLDS: {AlertsAction.ALERTS_THRESHOLDS: multi(thresholds)},
        AlertsBlock.ALERTS_TIME_ZONE: {
            AlertsAction.ALERTS_TIME_ZONE: {"type": "plain_text_input", "value": time_zone}
        },
        AlertsBlock.ALERTS_QUIET_START: {
            AlertsAction.ALERTS_QUIET_START: {
                "type": "timepicker",
                "selected_time": quiet[0] if quiet else None,
            }
        },
        AlertsBlock.ALERTS_QUIET_END: {
            AlertsAction.ALERTS_QUIET_END: {
                "type": "timepicker",
                "selected_time": quiet[1] if quiet else None,
            }
        },
        AlertsBlock.ALERTS_QUIET_WEEKENDS: {
            AlertsAction.ALERTS_QUIET_WEEKENDS: {
                "type": "checkboxes",
                "selected_options": [{"value": "weekends"}] if weekends else [],
            }
        },
    }
    for meter in ("voice_minutes", "video_minutes", "staff_licences"):
        state[METER_BLOCK.id(meter)] = {AlertsAction.ALERTS_METER: multi(meters.get(meter, []))}
    return state


def submission(state: dict[str, Any], *, user: str = ADMIN) -> dict[str, Any]:
    meta = AlertSettingsMeta(
        account_id=ACCOUNT,
        origin_channel="C0GENERAL",
        meters=("voice_minutes", "video_minutes", "staff_licences"),
    )
    return view_submission_payload(
        team_id=TEAM,
        user_id=user,
        callback_id=AlertsCallback.ALERT_SETTINGS,
        state_values=state,
        private_metadata=meta.encode(),
    )
