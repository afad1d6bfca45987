"""Calling the Web API safely: which calls the transport may retry (a 429 always; a 5xx or a dropped
connection only for calls that are safe to repeat), how Slack's errors read, and finding a post whose
answer was lost in the channel's history, within the read budget Slack allows (docs/delivery.md)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------------
# Retries that cannot double anything
# ------------------------------------------------------------------------------------------------

IDEMPOTENT_METHODS: Final = frozenset(
    {
        # Reads.
        "auth.test",
        "bots.info",
        "chat.getPermalink",
        "conversations.history",
        "conversations.info",
        "conversations.list",
        "conversations.members",
        "conversations.replies",
        "files.info",
        "team.info",
        "users.info",
        "users.list",
        "users.lookupByEmail",
        "users.profile.get",
        # Writes that set a state rather than add to one: done twice, the state is the same.
        "apps.connections.open",  # a fresh Socket Mode URL; one left unused expires
        "chat.update",  # the message's new content, by channel and ts
        "conversations.open",  # the existing DM when it is open already
        "files.getUploadURLExternal",  # an upload slot; one left unused is never shared and expires
        "views.publish",  # the user's Home tab, replaced
        "views.update",  # the view, replaced by id
    }
)
"""Web API methods the transport may re-send after a 5xx or a dropped connection. Everything else (chat.postMessage,
chat.postEphemeral, chat.scheduleMessage, chat.delete, views.open, views.push, files.completeUploadExternal,
the file upload itself, reactions.add, oauth.v2.access, and any method not listed) may have taken effect
before the failure: sending it again could post twice, open a second modal, share a file twice, or spend a
refresh token twice. Their failures go back to the caller, who knows how to check (docs/delivery.md)."""


def api_method(url: str) -> str:
    """The Web API method a request URL calls (``chat.postMessage``); "" for other URLs (file uploads)."""
    _, found, method = urlsplit(url).path.rpartition("/api/")
    return method if found else ""


def is_idempotent(url: str) -> bool:
    return api_method(url) in IDEMPOTENT_METHODS


class _WhenSafe(AsyncRetryHandler):
    """A slack_sdk retry handler that retries only when `safe` says re-sending cannot double anything."""

    def safe(self, request: HttpRequest, error: Exception | None) -> bool:
        return is_idempotent(request.url)

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not self.safe(request, error):
            return False
        return bool(
            await super()._can_retry_async(state=state, request=request, response=response, error=error)
        )


class IdempotentServerErrorRetryHandler(_WhenSafe, AsyncServerErrorRetryHandler):
    """slack_sdk's 500/503 retry, for idempotent methods only: Slack sometimes stores a message and still
    answers 5xx, and re-sending chat.postMessage then posts it twice."""


class IdempotentConnectionErrorRetryHandler(_WhenSafe, AsyncConnectionErrorRetryHandler):
    """slack_sdk's retry of a dropped connection: for any method when no connection could be made (nothing
    was sent), for idempotent methods only when it dropped later (the request may have been taken)."""

    def safe(self, request: HttpRequest, error: Exception | None) -> bool:
        return isinstance(error, aiohttp.ClientConnectorError) or is_idempotent(request.url)


def retry_handlers() -> list[AsyncRetryHandler]:
    """429s waited out for every method (Slack stores nothing it answers 429 to); 5xx and dropped
    connections retried for idempotent methods only."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        IdempotentServerErrorRetryHandler(max_retry_count=2),
        IdempotentConnectionErrorRetryHandler(max_retry_count=2),
    ]


def client_with_token(
    settings: Settings, token: str | None, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """A Web API client that waits out 429s (honouring Retry-After) and retries 5xx and dropped connections
    of idempotent methods (`retry_handlers`). Bolt copies these handlers into each request's client.

    With `session` its calls share that session's kept-alive connections (no TCP and TLS handshake per
    call); without, each call opens its own."""
    return AsyncWebClient(
        token=token, base_url=settings.api_url, session=session, retry_handlers=retry_handlers()
    )


def without_retries(client: AsyncWebClient) -> AsyncWebClient:
    """The same client (token, URL, session) with no transport retry at all: for a history read, whose 429
    must come back to the caller (who waits by rescheduling) rather than be slept out holding a lease."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        session=client.session,
        trust_env_in_session=client.trust_env_in_session,
        headers=dict(client.headers),
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=[],  # not None: slack_sdk would put its default connection-error retry back
    )


TRANSIENT_ERRORS: Final = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
"""Slack's `ok: false` codes for trouble on its side: worth trying again later."""


def error_code(error: SlackApiError) -> tuple[int, str]:
    """(HTTP status, Slack's error code or ``http_<status>``) of a refused call."""
    response = error.response
    status = int(getattr(response, "status_code", 200) or 200)
    data = response.data if isinstance(response.data, dict) else {}
    return status, str(data.get("error") or f"http_{status}")


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


def may_have_taken_effect(error: BaseException) -> bool:
    """Whether a failed call may still have done its work at Slack: a 5xx or Slack-side error, a timeout or a
    dropped connection may come after the message was stored. A 429 or a refusal did nothing."""
    if isinstance(error, SlackApiError):
        status, code = error_code(error)
        if status == 429 or code == "ratelimited":
            return False
        return status >= 500 or code in TRANSIENT_ERRORS
    return True


# ------------------------------------------------------------------------------------------------
# Finding a message of ours whose answer was lost
# ------------------------------------------------------------------------------------------------

HISTORY_PAGE: Final = 15
"""Messages one conversations.history call returns at most to apps outside the Slack Marketplace (since
May 2025), which may also call it only about once a minute per workspace."""
HISTORY_INTERVAL: Final = timedelta(seconds=60)

HISTORY_REFUSALS: Final = frozenset(
    {"channel_not_found", "not_in_channel", "missing_scope", "is_archived", "restricted_action"}
)
"""Slack will not let the app read the channel: asking again later will not help."""


@dataclass(frozen=True)
class HistoryUnreadable:
    """The channel's history could not be read; `retry_after` is Slack's when it rate-limited the read,
    `refused` says asking again will not help (no scope, not in the channel)."""

    reason: str
    retry_after: float | None = None
    refused: bool = False

    @property
    def rate_limited(self) -> bool:
        return self.reason == "ratelimited"


async def find_in_history(
    client: AsyncWebClient,
    channel: str,
    event_type: str,
    key: str,
    *,
    within: float,
    limit: int = HISTORY_PAGE,
) -> dict[str, dict[str, Any]] | HistoryUnreadable:
    """Our messages among the channel's newest `limit` whose metadata is `event_type`, by the value of
    `key` in their payload; or why the history could not be read. One conversations.history call, never
    retried by the transport (its 429 is returned, with Slack's Retry-After)."""
    try:
        async with asyncio.timeout(within):
            response = await without_retries(client).conversations_history(
                channel=channel, limit=limit, include_all_metadata=True
            )
    except SlackApiError as error:
        status, code = error_code(error)
        if status == 429 or code == "ratelimited":
            return HistoryUnreadable("ratelimited", retry_after=retry_after(error.response.headers))
        return HistoryUnreadable(code, refused=code in HISTORY_REFUSALS)
    except (SlackClientError, TimeoutError, aiohttp.ClientError, OSError) as error:
        return HistoryUnreadable(f"unreachable: {type(error).__name__}")
    found: dict[str, dict[str, Any]] = {}
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == event_type and key in payload:
            found.setdefault(str(payload[key]), message)
    return found


class HistoryBudget:
    """conversations.history reads per workspace, at most one per `interval` (Slack allows apps outside the
    Marketplace about one a minute), and none before the Retry-After of a 429 has passed. Per process:
    several processes may together read more often, and Slack's 429 then tells them to wait."""

    def __init__(self, interval: timedelta = HISTORY_INTERVAL) -> None:
        self.interval = interval
        self._next: dict[str, datetime] = {}

    def take(self, team_id: str, now: datetime) -> datetime | None:
        """None when a read may be made now (and counts it); otherwise when the next one may."""
        allowed = self._next.get(team_id)
        if allowed is not None and now < allowed:
            return allowed
        self._next[team_id] = now + self.interval
        return None

    def wait(self, team_id: str, until: datetime) -> None:
        """Slack said to wait (a 429's Retry-After): no read for the workspace before `until`."""
        self._next[team_id] = max(until, self._next.get(team_id, until))
