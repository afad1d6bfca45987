"""Posting alerts to Slack: one attempt, classified; a lookup for a post whose outcome was lost;
per-channel pacing."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.messages import Message

log = logging.getLogger(__name__)

ALERT_EVENT: Final = "myplan_quota_alert"
"""Message metadata event type: each posted alert carries its id, so a lost outcome can be looked up."""
HISTORY_LOOKBACK: Final = 200

CHANNEL_ERRORS: Final = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "missing_scope"}
)
"""Slack refuses the channel itself: retrying cannot help; administrators must act."""
WORKSPACE_GONE_ERRORS: Final = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "team_access_not_granted",
    }
)
"""The workspace's token no longer works: as if the app were uninstalled there."""
TRANSIENT_ERRORS: Final = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


@dataclass(frozen=True)
class Retry:
    """Try again later: after `after` seconds if Slack said so (Retry-After), else with backoff."""

    reason: str
    after: float | None = None


@dataclass(frozen=True)
class Refused:
    """Slack refused for good; `channel_problem` says administrators can fix it."""

    reason: str
    channel_problem: bool


@dataclass(frozen=True)
class WorkspaceGone:
    reason: str


Outcome = Posted | Retry | Refused | WorkspaceGone


async def post(
    client: AsyncWebClient, channel: str, message: Message, *, alert_id: int, within: float
) -> Outcome:
    """One attempt at posting the alert; every failure is classified, none raised."""
    try:
        async with asyncio.timeout(within):
            response = await client.chat_postMessage(
                channel=channel,
                **message.as_kwargs(),
                metadata={"event_type": ALERT_EVENT, "event_payload": {"alert_id": alert_id}},
                unfurl_links=False,
                unfurl_media=False,
            )
    except SlackApiError as error:
        return classify(error)
    except (TimeoutError, aiohttp.ClientError, OSError, SlackClientError) as error:
        return Retry(reason=f"unreachable: {type(error).__name__}")
    return Posted(channel=str(response.get("channel") or channel), ts=str(response["ts"]))


def classify(error: SlackApiError) -> Outcome:
    response = error.response
    status = int(getattr(response, "status_code", 200) or 200)
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or f"http_{status}")
    if status == 429 or code == "ratelimited":
        return Retry(reason="ratelimited", after=retry_after(response.headers))
    if status >= 500 or code in TRANSIENT_ERRORS:
        return Retry(reason=code)
    if code in WORKSPACE_GONE_ERRORS:
        return WorkspaceGone(reason=code)
    return Refused(reason=code, channel_problem=code in CHANNEL_ERRORS)


def retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After header (aiohttp gives strings, slack_sdk's retry layer lists)."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return None
    return None


async def find_posted(client: AsyncWebClient, channel: str, alert_id: int, *, within: float) -> Posted | None:
    """The alert's message if an earlier attempt did post it (its outcome was lost to a timeout or a
    crash); None when it is not there or the history cannot be read (then it is posted again)."""
    try:
        async with asyncio.timeout(within):
            response = await client.conversations_history(
                channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
    except (SlackApiError, SlackClientError, TimeoutError, aiohttp.ClientError, OSError) as error:
        log.warning("could not check %s for alert %s already posted: %s", channel, alert_id, error)
        return None
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == ALERT_EVENT and str(payload.get("alert_id")) == str(alert_id):
            return Posted(channel=channel, ts=str(message["ts"]))
    return None


class ChannelPacer:
    """At most one message per `interval` seconds per channel (Slack's guidance is about one per
    second); different channels are not held up by each other. Per process."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(self._next.get(channel, now), now)
        self._next[channel] = slot + self.interval  # reserved before sleeping, so callers queue up
        if slot > now:
            await asyncio.sleep(slot - now)
