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
    ALERTS_TIME_ZONE = "alerts.time_zone"
    ALERTS_QUIET_START = "alerts.quiet_start"
    ALERTS_QUIET_END = "alerts.quiet_end"
    ALERTS_QUIET_WEEKENDS = "alerts.quiet_weekends"
    ALERTS_DIGEST_DAY = "alerts.digest_day"
    ALERTS_DIGEST_HOUR = "alerts.digest_hour"


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
    ALERTS_TIME_ZONE = "alerts.time_zone"
    ALERTS_QUIET_START = "alerts.quiet_start"
    ALERTS_QUIET_END = "alerts.quiet_end"
    ALERTS_QUIET_WEEKENDS = "alerts.quiet_weekends"
    ALERTS_DIGEST_DAY = "alerts.digest_day"
    ALERTS_DIGEST_HOUR = "alerts.digest_hour"
    ALERTS_RECENT = "alerts.recent"
    USAGE_SUMMARY = "usage.summary"


class Callback(StrEnum):
    ALERT_SETTINGS = "alerts.settings"


METER_BLOCK = SuffixedId("alerts.meter", r"[\w:]+")
"""One input block per watched meter in the settings modal: `alerts.meter.<meter>`."""
