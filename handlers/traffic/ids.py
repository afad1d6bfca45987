"""The traffic capability's action and block ids."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    SPIKE_BLOCK = "spike.block"
    SPIKE_EXPECTED = "spike.expected"
    SPIKE_SNOOZE = "spike.snooze"


class Block(StrEnum):
    TRAFFIC_TOTAL = "traffic.total"
    TRAFFIC_BY_COST = "traffic.by_cost"
    TRAFFIC_BY_VOLUME = "traffic.by_volume"
    TRAFFIC_UNPRICED = "traffic.unpriced"
    TRAFFIC_NOTE = "traffic.note"
    SPIKE_HEADLINE = "spike.headline"
    SPIKE_FIGURES = "spike.figures"
    SPIKE_STATE = "spike.state"
    SPIKE_ACTIONS = "spike.actions"
    SPIKE_NOTE = "spike.note"
