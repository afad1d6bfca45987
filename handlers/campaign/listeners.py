"""Campaign pre-flight: the modal (from `/rates campaign` or the Rate Table tab), its submission priced after
the ack, the answer, and Share."""

from __future__ import annotations

import logging
from typing import Final

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.campaign.preflight import period_spend, price_campaign
from bot.campaign.recipients import FILE_FIELD, PASTED_FIELD
from bot.rates.cache import RateCache
from handlers.campaign.entry import open_campaign
from handlers.campaign.form import CampaignMetadata, CampaignRequest, read_campaign_form
from handlers.campaign.ids import Action, Callback
from handlers.campaign.upload import recipients_file
from handlers.campaign.views import CampaignSummary, campaign_message, summary_of
from handlers.interaction import Accepted, Interaction, ViewAck, field_errors
from handlers.messages import Message
from handlers.rates.views import no_table_message
from handlers.routes import Routes

log = logging.getLogger(__name__)

WHAT: Final = "the campaign form (`/rates campaign`)"
RUN_AGAIN: Final = "Run `/rates campaign` again."


def register(routes: Routes) -> None:
    quotes = CampaignQuotes(routes.services.rates)
    routes.action(Action.CAMPAIGN_OPEN, open_campaign)
    routes.view(Callback.CAMPAIGN, check_submission, quotes.answer)
    routes.action(Action.CAMPAIGN_SHARE, share_clicked, value=CampaignSummary, again=RUN_AGAIN)


async def check_submission(interaction: Interaction[None]) -> Accepted[CampaignRequest] | ViewAck:
    """Before the ack, only what is cheap: the heavy part (download, parse, price) comes after it."""
    metadata = await interaction.modal_metadata(CampaignMetadata, WHAT)
    request, errors = read_campaign_form(interaction.view_state, metadata)
    if request is None:
        return field_errors(errors)
    return Accepted(request)


class CampaignQuotes:
    """Prices submissions with the current rate table, through one cached index of it."""

    def __init__(self, cache: RateCache) -> None:
        self.cache = cache

    async def answer(self, interaction: Interaction[CampaignRequest]) -> None:
        request = interaction.value
        loaded = await self.cache.current()
        if loaded is None:
            await deliver(interaction, request, no_table_message())
            return
        terms = await interaction.store.rates.account_terms(request.account_id)
        if request.pasted is not None:
            text, field = request.pasted, PASTED_FIELD
        else:
            text, field = await recipients_file(interaction, request.file_id or ""), FILE_FIELD
        # National numbers ("9123 4567") are read as numbers of the account's own country, as /rates does.
        quote = await price_campaign(text, field, loaded.index, request.segments, terms.country)
        spend = await period_spend(interaction.store, request.account_id)
        summary = summary_of(quote, spend, loaded.info)
        await deliver(
            interaction, request, campaign_message(summary), campaign_message(summary, shareable=False)
        )


async def deliver(
    interaction: Interaction[CampaignRequest],
    request: CampaignRequest,
    message: Message,
    by_dm: Message | None = None,
) -> None:
    """Ephemerally where `/rates campaign` was typed (its response_url lasts 30 minutes); from the Home tab,
    or once that has expired, by DM, where Share would only post into the DM, so `by_dm` has none."""
    if request.response_url:
        sent = await AsyncRespond(response_url=request.response_url)(**message.as_response())
        if sent.status_code == 200:
            return
        log.info("the command's response_url answered %s: answering by DM", sent.status_code)
    await interaction.tell(interaction.user_id, by_dm or message)


async def share_clicked(interaction: Interaction[CampaignSummary]) -> None:
    """Post the answer visibly in the conversation, saying who shared it."""
    await interaction.account_id()  # members of a linked workspace only, as for every other answer
    await interaction.reply(campaign_message(interaction.value, shared_by=interaction.user_id))
