"""Quota alerts' outbox parts: the lookup for posts whose outcome was lost (by the alert id in their
metadata), the outbox's tuning and its report. Posting itself, its outcomes and channel pacing are the kit's
(`handlers.posting`), re-exported here for the alert service.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.rules import MAX_ATTEMPTS, RETRY_BASE, RETRY_CAP
from handlers.posting import (
    CHANNEL_ERRORS,
    DEFERRED,
    MESSAGE_GONE,
    NOT_POSTED,
    UNCONFIRMED,
    WORKSPACE_GONE_ERRORS,
    ChannelPacer,
    Outcome,
    Posted,
    Refused,
    Retry,
    WorkspaceGone,
    classify,
    post,
    update,
)
from handlers.slack_calls import (
    HISTORY_INTERVAL,
    HISTORY_PAGE,
    HISTORY_REFUSALS,
    TRANSIENT_ERRORS,
    HistoryUnreadable,
    error_code,
    find_in_history,
    retry_after,
    without_retries,
)
from store.domain.alerts import AlertStatus

__all__ = [
    "ALERT_EVENT",
    "CHANNEL_ERRORS",
    "DEFERRED",
    "MESSAGE_GONE",
    "NOT_POSTED",
    "TRANSIENT_ERRORS",
    "UNCONFIRMED",
    "WORKSPACE_GONE_ERRORS",
    "ChannelPacer",
    "HistoryUnreadable",
    "Outcome",
    "Posted",
    "Refused",
    "Retry",
    "WorkspaceGone",
    "alert_metadata",
    "classify",
    "post",
    "posted_alerts",
    "replied_alerts",
    "retry_after",
    "update",
]

log = logging.getLogger(__name__)

ALERT_EVENT: Final = "myplan_quota_alert"
"""Message metadata event type: each posted alert carries its id, so a lost outcome can be looked up."""


def alert_metadata(alert_id: int) -> dict[str, Any]:
    return {"event_type": ALERT_EVENT, "event_payload": {"alert_id": alert_id}}


async def posted_alerts(
    client: AsyncWebClient, channel: str, *, within: float, limit: int = HISTORY_PAGE
) -> dict[int, Posted] | HistoryUnreadable:
    """The alerts among the channel's newest `limit` messages, by alert id (from their metadata); or why
    the history could not be read. One conversations.history call: mind Slack's budget for it."""
    found = await find_in_history(client, channel, ALERT_EVENT, "alert_id", within=within, limit=limit)
    if isinstance(found, HistoryUnreadable):
        log.warning("could not read %s to look for alerts already posted: %s", channel, found.reason)
        return found
    posted: dict[int, Posted] = {}
    for alert_id, message in found.items():
        if alert_id.isdigit():
            posted[int(alert_id)] = Posted(
                channel=channel, ts=str(message["ts"]), threaded=_has_replies(message)
            )
    return posted


async def replied_alerts(
    client: AsyncWebClient, channel: str, thread_ts: str, *, within: float, limit: int = HISTORY_PAGE
) -> dict[int, Posted] | HistoryUnreadable:
    """The alerts replied in the thread of `thread_ts` (its first `limit` messages: a meter's thread
    holds a handful), by alert id, from their metadata; or why the thread could not be read. One
    conversations.replies call, never retried by the transport; Slack budgets it as it does history."""
    try:
        async with asyncio.timeout(within):
            response = await without_retries(client).conversations_replies(
                channel=channel, ts=thread_ts, limit=limit, include_all_metadata=True
            )
    except SlackApiError as error:
        status, code = error_code(error)
        if status == 429 or code == "ratelimited":
            return HistoryUnreadable("ratelimited", retry_after=retry_after(error.response.headers))
        return HistoryUnreadable(code, refused=code in HISTORY_REFUSALS | {"thread_not_found"})
    except (SlackClientError, TimeoutError, aiohttp.ClientError, OSError) as error:
        return HistoryUnreadable(f"unreachable: {type(error).__name__}")
    posted: dict[int, Posted] = {}
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        alert_id = str((metadata.get("event_payload") or {}).get("alert_id", ""))
        if (
            metadata.get("event_type") == ALERT_EVENT
            and alert_id.isdigit()
            and message.get("ts") != thread_ts
        ):
            posted.setdefault(int(alert_id), Posted(channel=channel, ts=str(message["ts"])))
    return posted


def _has_replies(message: dict[str, Any]) -> bool:
    return bool(message.get("reply_count") or message.get("latest_reply"))


@dataclass(frozen=True)
class AlertTuning:
    lease: timedelta = timedelta(minutes=5)
    """How long a claimed alert is left to one delivery loop before another may take it over."""
    batch: int = 50
    concurrency: int = 16
    """Channels posted to at the same time."""
    channel_interval: float = 1.0
    """Seconds between two messages to the same channel."""
    post_timeout: float = 15.0
    max_attempts: int = MAX_ATTEMPTS
    retry_base: timedelta = RETRY_BASE
    retry_cap: timedelta = RETRY_CAP
    deliver_on_usage: bool = True
    """`on_usage` posts what it claimed at once (in the background) instead of waiting for the worker."""
    unconfirmed_delay: timedelta = HISTORY_INTERVAL
    """After a post whose outcome is unknown (a 5xx, a timeout, a dropped connection), wait at least this
    long before looking it up in the channel's history and posting it again only if it is not there."""
    history_interval: timedelta = HISTORY_INTERVAL
    """At most one channel-history read per workspace per interval (Slack allows apps outside the
    Marketplace about one a minute)."""
    history_page: int = HISTORY_PAGE
    """Messages one history read asks for (15 at most outside the Marketplace)."""


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other: DeliveryReport) -> None:
        for name in ("claimed", "sent", "retried", "failed", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def count(report: DeliveryReport, status: AlertStatus | None) -> None:
    if status is AlertStatus.SENT:
        report.sent += 1
    elif status is AlertStatus.PENDING:
        report.retried += 1
    elif status is AlertStatus.FAILED:
        report.failed += 1
    elif status is AlertStatus.SKIPPED:
        report.skipped += 1
