"""The traffic capability's block ids."""

from __future__ import annotations

from enum import StrEnum


class Block(StrEnum):
    TRAFFIC_TOTAL = "traffic.total"
    TRAFFIC_BY_COST = "traffic.by_cost"
    TRAFFIC_BY_VOLUME = "traffic.by_volume"
    TRAFFIC_UNPRICED = "traffic.unpriced"
    TRAFFIC_NOTE = "traffic.note"
