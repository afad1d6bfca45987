"""The campaign capability's action, block and callback ids."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    CAMPAIGN_OPEN = "campaign.open"  # the Rate Table tab's button
    CAMPAIGN_FILE = "campaign.file"
    CAMPAIGN_NUMBERS = "campaign.numbers"
    CAMPAIGN_MESSAGE = "campaign.message"
    CAMPAIGN_SHARE = "campaign.share"


class Block(StrEnum):
    CAMPAIGN_INTRO = "campaign.intro"
    CAMPAIGN_FILE = "campaign.file"
    CAMPAIGN_NUMBERS = "campaign.numbers"
    CAMPAIGN_MESSAGE = "campaign.message"
    CAMPAIGN_TOTAL = "campaign.total"
    CAMPAIGN_SEGMENTS = "campaign.segments"
    CAMPAIGN_DESTINATIONS = "campaign.destinations"
    CAMPAIGN_UNPRICED = "campaign.unpriced"
    CAMPAIGN_INVALID = "campaign.invalid"
    CAMPAIGN_SPEND = "campaign.spend"
    CAMPAIGN_NOTE = "campaign.note"
    CAMPAIGN_ACTIONS = "campaign.actions"


class Callback(StrEnum):
    CAMPAIGN = "campaign.quote"
