"""The campaign pre-flight as one flow: read the recipients, price them, and set the total against the
period's spend so far.

Reading and pricing 100,000 numbers is about two seconds of CPU: it runs in a worker thread, so the event
loop keeps acking other requests meanwhile. phonenumbers (with `bot.campaign.quote`) loads there too, with
the first campaign, not when the server starts.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.alerts.rules import midnight
from bot.campaign.recipients import read_recipients
from bot.campaign.results import CampaignQuote, PeriodSpend
from bot.campaign.segments import SegmentCount
from store import Store

if TYPE_CHECKING:
    from bot.rates.matcher import RateIndex


async def price_campaign(
    text: str, field: str, index: RateIndex, message: SegmentCount, default_region: str | None
) -> CampaignQuote:
    """The campaign to the recipients in `text` (the list named `field`, for its errors), priced by `index`."""
    return await asyncio.to_thread(_price, text, field, index, message, default_region)


def _price(
    text: str, field: str, index: RateIndex, message: SegmentCount, default_region: str | None
) -> CampaignQuote:
    from bot.campaign.quote import quote_campaign

    return quote_campaign(read_recipients(text, field), index, message, default_region)


async def period_spend(store: Store, account_id: str) -> PeriodSpend:
    """What the account's traffic has cost in its current billing period. The period is
    [start, next payment date): traffic is recorded by the hour as it happens, so all of it is "so far"."""
    subscription = (await store.accounts.snapshot(account_id)).subscription
    spent = await store.traffic.period_cost(
        account_id, midnight(subscription.period_start), midnight(subscription.next_payment_date)
    )
    return PeriodSpend(since=subscription.period_start, renewal=subscription.next_payment_date, spent=spent)
