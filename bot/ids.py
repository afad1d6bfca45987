"""Every action_id, callback_id and block_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    HOME_TAB = "home.tab"
    ALERT_VIEW_PLAN = "alert.view_plan"
    ALERT_REQUEST_MORE = "alert.request_more"
    ALERT_SNOOZE = "alert.snooze"
    ALERT_ACKNOWLEDGE = "alert.acknowledge"
    ALERTS_ENABLED = "alerts.enabled"
    ALERTS_CHANNEL = "alerts.channel"
    ALERTS_THRESHOLDS = "alerts.thresholds"
    ALERTS_METER = "alerts.meter"


class Block(StrEnum):
    HOME_TABS = "home.tabs"
    PLAN_SUMMARY = "plan.summary"
    PLAN_USAGE = "plan.usage"
    PLAN_NOTE = "plan.note"
    PLAN_ACTIONS = "plan.actions"
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
    ALERTS_METER = "alerts.meter"
    """Prefix: one input block per watched meter, `alerts.meter.<meter>`."""
    ALERTS_RECENT = "alerts.recent"
    USAGE_SUMMARY = "usage.summary"


class Callback(StrEnum):
    ALERT_SETTINGS = "alerts.settings"
