"""The plan capability's action and block ids (the subscription summary and the feature cards)."""

from __future__ import annotations

from enum import StrEnum

from handlers.payloads import SuffixedId


class Action(StrEnum):
    PLAN_SHARE = "plan.share"
    FEATURE_MENU = "feature.menu"  # one overflow per feature; the option's value names it


class Block(StrEnum):
    PLAN_SUMMARY = "plan.summary"
    PLAN_USAGE = "plan.usage"
    PLAN_NOTE = "plan.note"
    PLAN_ACTIONS = "plan.actions"
    PLAN_FEATURES = "plan.features"  # the one-line feature overview under `/plan`


FEATURE_BLOCK = SuffixedId("feature")
"""One section per feature: `feature.<key>`."""
