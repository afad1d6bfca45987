"""The alerts capability's action, block and callback ids."""

from __future__ import annotations

from enum import StrEnum

from handlers.payloads import SuffixedId


class Action(StrEnum):
    ALERT_VIEW_PLAN = "alert.view_plan"
    ALERT_REQUEST_MORE = "alert.request_more"
    ALERT_SNOOZE = "alert.snooze"
    ALERT_ACKNOWLEDGE = "alert.acknowledge"
    ALERTS_ENABLED = "alerts.enabled"
    ALERTS_CHANNEL = "alerts.channel"
    ALERTS_THRESHOLDS = "alerts.thresholds"
    ALERTS_METER = "alerts.meter"


class Block(StrEnum):
    ALERT_HEADLINE = "alert.headline"
    ALERT_USAGE = "alert.usage"
    ALERT_FORECAST = "alert.forecast"
    ALERT_NOTE = "alert.note"
    ALERT_STATE = "alert.state"
    ALERT_ACTIONS = "alert.actions"
    ALERTS_INTRO = "alerts.intro"
    ALERTS_ENABLED = "alerts.enabled"
    ALERTS_CHANNEL = "alerts.channel"
    ALERTS_THRESHOLDS = "alerts.thresholds"
    ALERTS_OVERRIDES = "alerts.overrides"
    ALERTS_RECENT = "alerts.recent"
    USAGE_SUMMARY = "usage.summary"


class Callback(StrEnum):
    ALERT_SETTINGS = "alerts.settings"


METER_BLOCK = SuffixedId("alerts.meter", r"[\w:]+")
"""One input block per watched meter in the settings modal: `alerts.meter.<meter>`."""
