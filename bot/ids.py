"""Every action_id, callback_id and block_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    SHARE_PLAN = "plan.share"
    OPEN_DASHBOARD = "plan.open_dashboard"


class Block(StrEnum):
    PLAN_SUMMARY = "plan.summary"
    PLAN_USAGE = "plan.usage"
    PLAN_NOTE = "plan.note"
    PLAN_ACTIONS = "plan.actions"


class Callback(StrEnum):
    pass
