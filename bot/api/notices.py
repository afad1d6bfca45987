"""Feature status notices, posted to the account's alerts channel after the change is committed."""

from __future__ import annotations

import logging

from bot.api.context import ApiContext
from handlers.plan.status_notice import status_notice
from store.domain.account import FeatureStatusChange

log = logging.getLogger(__name__)


async def post_status_notice(api: ApiContext, changes: list[FeatureStatusChange]) -> None:
    """Post one notice for `changes` (all of one account) when the account has an alerts channel.

    Best effort: it runs after the API has answered, and a Slack failure is logged by the caller.
    """
    account_id = changes[0].account_id
    plan = await api.services.store.accounts.snapshot(account_id)
    channel = plan.account.alerts_channel
    if channel is None:
        log.debug("no alerts channel for account %s; status change not announced", account_id)
        return
    features = {feature.key: feature for feature in plan.features}
    shown = [(features[change.key], change) for change in changes if change.key in features]
    if not shown:
        return
    message = status_notice(plan.account, shown, api.services.settings.dashboard_link)
    await api.client.chat_postMessage(channel=channel, **message.as_kwargs())
    log.info("announced %d status change(s) of account %s in %s", len(shown), account_id, channel)
