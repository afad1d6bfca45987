"""How other capabilities start a campaign pre-flight: `/rates campaign` (and `/plan rates campaign`) hand
it over here. The modal is bound to the account; from a command, the answer goes back to where it was typed."""

from __future__ import annotations

from typing import Any, Final

from handlers.campaign.form import CampaignMetadata
from handlers.campaign.views import campaign_modal
from handlers.interaction import Interaction

CAMPAIGN_WORD: Final = "campaign"
"""The word after `/rates` that opens the campaign pre-flight rather than looking a rate up."""


def is_campaign(text: str) -> bool:
    """Whether a `/rates` text asks for the campaign pre-flight (`campaign`, any case, anything after it)."""
    words = text.split(maxsplit=1)
    return bool(words) and words[0].lower() == CAMPAIGN_WORD


async def open_campaign(interaction: Interaction[Any]) -> None:
    """The campaign modal. Anyone in a linked workspace may price a campaign: it only reads."""
    account_id = await interaction.account_id()
    terms = await interaction.store.rates.account_terms(account_id)
    response_url = interaction.respond.response_url if interaction.respond is not None else None
    metadata = CampaignMetadata(account_id=account_id, response_url=response_url or "")
    await interaction.open_modal(campaign_modal(metadata, terms.country))
