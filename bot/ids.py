"""Every action_id, callback_id and block_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    HOME_TAB = "home.tab"
    PLAN_UPGRADE = "plan.upgrade"
    PLAN_SHARE = "plan.share"
    FEATURE_MENU = "feature.menu"  # one overflow per feature; the option's value names it
    UPGRADE_KIND = "upgrade.kind"
    UPGRADE_QUANTITY = "upgrade.quantity"
    UPGRADE_FEATURE = "upgrade.feature"
    UPGRADE_NOTE = "upgrade.note"
    UPGRADE_ACKNOWLEDGE = "upgrade.acknowledge"
    UPGRADE_DONE = "upgrade.done"


class Block(StrEnum):
    HOME_TABS = "home.tabs"
    PLAN_SUMMARY = "plan.summary"
    PLAN_USAGE = "plan.usage"
    PLAN_NOTE = "plan.note"
    PLAN_ACTIONS = "plan.actions"
    PLAN_FEATURES = "plan.features"  # the one-line feature overview under `/plan`
    FEATURE = "feature"  # prefix: "feature.<key>", one section per feature
    UPGRADE_KIND = "upgrade.kind"
    UPGRADE_QUANTITY = "upgrade.quantity"
    UPGRADE_FEATURE = "upgrade.feature"
    UPGRADE_NOTE = "upgrade.note"
    SALES_REQUEST = "sales.request"
    SALES_USAGE = "sales.usage"
    SALES_ACTIONS = "sales.actions"


class Callback(StrEnum):
    UPGRADE = "upgrade.request"
