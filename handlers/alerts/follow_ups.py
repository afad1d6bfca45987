"""What follows an alert's delivery: the burn-down chart in its thread, and the administrators' DM about
alerts that could not be posted. Both are best effort: the alert's own outcome is already recorded."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.burndown import burn_down
from bot.alerts.chart import BurnDown, burndown_png
from handlers.alerts.delivery import Posted
from handlers.alerts.views import delivery_failed_message
from store import Store
from store.domain.alerts import Alert, ClaimedAlert, is_forecastable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    item: ClaimedAlert
    reason: str
    client: AsyncWebClient | None
    """The client to tell administrators with; None when they need not be told (our own bug)."""


async def burn_down_of(store: Store, alert: Alert) -> BurnDown | None:
    """The chart of the alert's allowance up to the alert, with the forecast shown in the message
    (stored with forecast alerts, computed for the others); None for what cannot be forecast."""
    if not is_forecastable(alert.meter):
        return None
    return await burn_down(
        store,
        alert.account_id,
        alert.meter,
        label=alert.label,
        unit=alert.unit,
        used=alert.used,
        available=alert.available,
        period_start=alert.period_start,
        renewal=alert.period_end,
        as_of=alert.as_of,
        until=alert.as_of,
        forecast=alert.forecast,
    )


async def attach_chart(
    client: AsyncWebClient, posted: Posted, alert: Alert, chart: BurnDown, *, within: float
) -> None:
    """The burn-down chart in the alert's thread. Best effort: the alert itself is already posted."""
    try:
        png = await asyncio.to_thread(burndown_png, [chart], title=f"{alert.label} this billing period")
        async with asyncio.timeout(within):
            await client.files_upload_v2(
                channel=posted.channel,
                thread_ts=posted.ts,
                file=png,
                filename=f"{alert.meter}-burn-down.png",
                title=f"{alert.label}: burn-down",
                alt_txt=f"Burn-down chart of {alert.label.lower()} with the run-out forecast",
            )
    except (SlackApiError, SlackClientError, TimeoutError, aiohttp.ClientError, OSError) as error:
        log.warning("alert %s posted, but its chart was not: %s", alert.id, error)


async def tell_admins(store: Store, failures: Sequence[Failure]) -> None:
    """One DM per administrator and account, listing the alerts that could not be posted."""
    by_account: dict[str, list[Failure]] = defaultdict(list)
    for failure in failures:
        if failure.client is not None:
            by_account[failure.item.alert.account_id].append(failure)
    for account_id, items in by_account.items():
        admins = await store.admins.list(account_id)
        if not admins:
            log.warning("alerts for %s could not be posted and it has no administrators to tell", account_id)
            continue
        message = delivery_failed_message(
            [(f.item.alert, f.reason) for f in items],
            channel=items[0].item.channel,
            company=items[0].item.company_name,
        )
        client = items[0].client
        assert client is not None
        for admin in admins:
            try:
                await client.chat_postMessage(channel=admin, **message.as_kwargs())
            except (SlackApiError, SlackClientError, aiohttp.ClientError, OSError) as error:
                log.warning(
                    "could not tell administrator %s of %s about failed alerts: %s",
                    admin,
                    account_id,
                    error,
                )
