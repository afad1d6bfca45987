"""The account's time zone, learned from Slack: until an administrator chooses one (in `/plan alerts`), it
is the Slack time zone (users.info `tz`) of its first administrator, or of the administrator asking. Quota
alerts' quiet hours and the weekly digest both keep to it."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.local_time import is_time_zone
from store import Store
from store.domain.alerts import AlertRules

log = logging.getLogger(__name__)


async def learned_rules(
    store: Store, client: AsyncWebClient, account_id: str, *, asking: str | None = None
) -> AlertRules:
    """The account's alert rules, with its time zone learned from Slack if none is known yet (it stays
    `DEFAULT_TIME_ZONE` when there is nobody to ask or Slack does not say)."""
    rules = await store.alerts.rules(account_id)
    if rules.time_zone_set:
        return rules
    admins = await store.admins.list(account_id)
    user = admins[0] if admins else asking
    zone = await _slack_time_zone(client, user) if user else None
    if zone is None:
        return rules
    learned = await store.alerts.learn_time_zone(account_id, zone)
    return rules.model_copy(update={"time_zone": learned, "time_zone_set": True})


async def _slack_time_zone(client: AsyncWebClient, user_id: str) -> str | None:
    try:
        found = await client.users_info(user=user_id)
    except SlackApiError as error:
        log.warning("could not read %s's time zone: %s", user_id, error)
        return None
    zone = (found.get("user") or {}).get("tz")
    return zone if isinstance(zone, str) and is_time_zone(zone) else None
