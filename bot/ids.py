"""Every action_id, callback_id and block_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    HOME_TAB = "home.tab"


class Block(StrEnum):
    HOME_TABS = "home.tabs"
    PLAN_SUMMARY = "plan.summary"
    PLAN_USAGE = "plan.usage"
    PLAN_NOTE = "plan.note"
    PLAN_ACTIONS = "plan.actions"


class Callback(StrEnum):
    pass
