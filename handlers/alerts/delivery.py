"""Posting alerts to Slack: one attempt, classified; a lookup for posts whose outcome was lost;
per-channel pacing shared by every process.

Only a 429 (or a refusal) says for sure that nothing was posted. After a 5xx, a timeout or a dropped
connection the message may well be in the channel (Slack stores some and still answers 5xx), so such a
`Retry` is `uncertain`, and the outbox reads the channel's history (`posted_alerts`) before posting again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.rules import MAX_ATTEMPTS, RETRY_BASE, RETRY_CAP
from handlers.messages import Message
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
from store.clock import utcnow
from store.domain.alerts import AlertStatus
from store.errors import StoreUnavailable
from store.pacing import ChannelPaceRepository

__all__ = [
    "ALERT_EVENT",
    "CHANNEL_ERRORS",
    "NOT_POSTED",
    "TRANSIENT_ERRORS",
    "WORKSPACE_GONE_ERRORS",
    "ChannelPacer",
    "HistoryUnreadable",
    "Outcome",
    "Posted",
    "Refused",
    "Retry",
    "WorkspaceGone",
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
NOT_POSTED: Final = frozenset({"ratelimited"})
"""Retry reasons that say for sure the message was not stored (Slack stores nothing it answers 429 to)."""
MESSAGE_GONE: Final = frozenset({"message_not_found", "cant_update_message"})
"""chat.update cannot reach the meter's message (someone deleted it): the alert is posted afresh."""
DEFERRED: Final = "deferred"
"""Error prefix of an alert put back unposted (its earlier attempts' outcomes all known)."""
UNCONFIRMED: Final = "unconfirmed"
"""Error prefix of an alert put back while an earlier attempt's outcome is still unknown."""


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str
    threaded: bool = False
    """Found in the history with replies under it (an earlier attempt's chart, say)."""


@dataclass(frozen=True)
class Retry:
    """Try again later: after `after` seconds if Slack said so (Retry-After), else with backoff."""

    reason: str
    after: float | None = None

    @property
    def uncertain(self) -> bool:
        """The message may have been posted all the same (a 5xx, a timeout, a dropped connection): it must be
        looked up before it is posted again."""
        return self.reason not in NOT_POSTED and not self.reason.startswith(f"{DEFERRED}:")


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
    client: AsyncWebClient,
    channel: str,
    message: Message,
    *,
    alert_id: int,
    within: float,
    thread_ts: str | None = None,
) -> Outcome:
    """One attempt at posting the alert (as a reply in the thread of `thread_ts`, when given); every
    failure is classified, none raised. The client's transport re-sends nothing but a 429'd call
    (`handlers.slack_clients.retry_handlers`). The alert id in its metadata is what a lookup finds."""
    try:
        async with asyncio.timeout(within):
            response = await client.chat_postMessage(
                channel=channel,
                **message.as_kwargs(),
                thread_ts=thread_ts,
                metadata={"event_type": ALERT_EVENT, "event_payload": {"alert_id": alert_id}},
                unfurl_links=False,
                unfurl_media=False,
            )
    except SlackApiError as error:
        return classify(error)
    except (TimeoutError, aiohttp.ClientError, OSError, SlackClientError) as error:
        return Retry(reason=f"unreachable: {type(error).__name__}")
    return Posted(channel=str(response.get("channel") or channel), ts=str(response["ts"]))


async def update(
    client: AsyncWebClient, channel: str, ts: str, message: Message, *, within: float
) -> Outcome:
    """One attempt at updating the meter's message in place. chat.update sets the message's content, so
    doing it twice changes nothing: any failure to retry is recorded as certain (`DEFERRED`), never as
    a post that may have landed."""
    try:
        async with asyncio.timeout(within):
            await client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
    except SlackApiError as error:
        outcome = classify(error)
    except (TimeoutError, aiohttp.ClientError, OSError, SlackClientError) as error:
        outcome = Retry(reason=f"unreachable: {type(error).__name__}")
    else:
        return Posted(channel=channel, ts=ts)
    if isinstance(outcome, Retry) and outcome.reason not in NOT_POSTED:
        return Retry(reason=f"{DEFERRED}: chat.update {outcome.reason}", after=outcome.after)
    return outcome


def classify(error: SlackApiError) -> Outcome:
    status, code = error_code(error)
    if status == 429 or code == "ratelimited":
        return Retry(reason="ratelimited", after=retry_after(error.response.headers))
    if status >= 500 or code in TRANSIENT_ERRORS:
        return Retry(reason=code)
    if code in WORKSPACE_GONE_ERRORS:
        return WorkspaceGone(reason=code)
    return Refused(reason=code, channel_problem=code in CHANNEL_ERRORS)


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


MAX_DEPARTURE_TRIES = 10
"""A post held back by late departures in its channel this many times in a row goes anyway (and says so)."""

ON_TIME = timedelta(milliseconds=50)
"""A post leaving this soon after its slot is recorded as leaving at its slot. Otherwise the database round
trip that reserved a channel's first slot would make that post "late" by a millisecond, and hold the next
one back for as long, with one more conditional update."""


class ChannelPacer:
    """At most one message per `interval` seconds per channel (Slack's guidance is about one per
    second), across every process on the database: each message reserves its channel's next free slot
    in `channel_pace` (`store.pacing`, one atomic update) and sleeps until it. Different channels are
    not held up by each other. While the database cannot be reached, this process's own reservations
    pace it alone. An interval of 0 paces nothing (and asks the database nothing)."""

    def __init__(
        self,
        interval: float,
        slots: ChannelPaceRepository | None = None,
        clock: Callable[[], datetime] = utcnow,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.slots = slots
        self.clock = clock
        self.sleep = sleep
        self._next: dict[tuple[str, str], float] = {}
        """This process's next free slot per (team, channel), in loop time: the fallback's state."""

    async def wait(self, channel: str, team_id: str = "") -> None:
        """Until `channel` may take one more message. `team_id` "" paces the channel across workspaces,
        which a Slack Connect channel (one id in each of them) needs."""
        if self.interval <= 0:
            return
        key = (team_id, channel)
        delay = await self._reserve_shared(key) if self.slots is not None else None
        if delay is not None:
            await self._depart(key, self.clock() + timedelta(seconds=delay))
            return
        delay = self._reserve_local(key)
        if delay > 0:
            await self.sleep(delay)

    async def _depart(self, key: tuple[str, str], slot: datetime) -> None:
        """Sleep until `slot`, then record the departure; while the last message to the channel left less
        than an interval ago (late, from a process busy when its slot came), wait for that instead."""
        assert self.slots is not None
        team_id, channel = key
        leave = slot
        for _ in range(MAX_DEPARTURE_TRIES):
            if (delay := (leave - self.clock()).total_seconds()) > 0:
                await self.sleep(delay)
            now = self.clock()
            at = leave if now - leave < ON_TIME else now
            try:
                held = await self.slots.depart(
                    team_id, channel, at=at, interval=timedelta(seconds=self.interval)
                )
            except StoreUnavailable as error:
                log.warning("pacing %s: departure not recorded: %s", channel, error)
                return
            if held is None:
                return
            leave = held
        log.warning("pacing %s: still held back after %d tries; posting", channel, MAX_DEPARTURE_TRIES)

    async def _reserve_shared(self, key: tuple[str, str]) -> float | None:
        """Seconds until the slot reserved in the database; None when it cannot be reached."""
        assert self.slots is not None
        team_id, channel = key
        loop = asyncio.get_running_loop()
        # Not before what this process reserved itself (while the database was unreachable, say).
        promised = max(self._next.get(key, 0.0) - loop.time(), 0.0)
        try:
            slot = await self.slots.reserve(
                team_id,
                channel,
                now=self.clock() + timedelta(seconds=promised),
                interval=timedelta(seconds=self.interval),
            )
        except StoreUnavailable as error:
            log.warning("pacing %s in this process alone: %s", channel, error)
            return None
        delay = (slot - self.clock()).total_seconds()
        # Kept for the fallback, so a later outage does not let this process post early.
        self._next[key] = max(self._next.get(key, 0.0), loop.time() + max(delay, 0.0) + self.interval)
        return delay

    def _reserve_local(self, key: tuple[str, str]) -> float:
        now = asyncio.get_running_loop().time()
        slot = max(self._next.get(key, now), now)
        self._next[key] = slot + self.interval  # reserved before sleeping, so callers queue up
        return slot - now


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
