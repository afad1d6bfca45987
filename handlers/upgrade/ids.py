"""The upgrade capability's action, block and callback ids."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    UPGRADE_OPEN = "plan.upgrade"  # the Upgrade button, wherever it is drawn
    UPGRADE_KIND = "upgrade.kind"
    UPGRADE_QUANTITY = "upgrade.quantity"
    UPGRADE_FEATURE = "upgrade.feature"
    UPGRADE_NOTE = "upgrade.note"
    UPGRADE_ACKNOWLEDGE = "upgrade.acknowledge"
    UPGRADE_DONE = "upgrade.done"


class Block(StrEnum):
    UPGRADE_KIND = "upgrade.kind"
    UPGRADE_QUANTITY = "upgrade.quantity"
    UPGRADE_FEATURE = "upgrade.feature"
    UPGRADE_NOTE = "upgrade.note"
    SALES_REQUEST = "sales.request"
    SALES_USAGE = "sales.usage"
    SALES_ACTIONS = "sales.actions"


class Callback(StrEnum):
    UPGRADE = "upgrade.request"
