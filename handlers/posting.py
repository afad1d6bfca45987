"""Posting to Slack from an outbox: one attempt, classified; and per-channel pacing shared by every process.

Only a 429 (or a refusal) says for sure that nothing was posted. After a 5xx, a timeout or a dropped
connection the message may well be in the channel (Slack stores some and still answers 5xx), so such a
`Retry` is `uncertain`, and an outbox reads the channel's history (`slack_calls.find_in_history`, by the
message's metadata) before posting again. Quota alerts and traffic spike alerts post through this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.rules import MAX_ATTEMPTS
from handlers.messages import Message
from handlers.slack_calls import HISTORY_INTERVAL, TRANSIENT_ERRORS, error_code, retry_after
from store.clock import utcnow
from store.errors import StoreUnavailable
from store.pacing import ChannelPaceRepository

log = logging.getLogger(__name__)

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
LEASE_RUNNING_OUT: Final = f"{DEFERRED}: the lease was running out before the post"
"""Why an outbox row was put back unposted: too little of its lease was left for Slack to answer."""


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str
    threaded: bool = False
    """Found in the history with replies under it (an earlier attempt's chart, say)."""


@dataclass(frozen=True)
class OutboxTuning:
    """How an outbox of posts (spike alerts, licence notice DMs) is delivered."""

    lease: timedelta = timedelta(minutes=5)
    batch: int = 50
    post_timeout: float = 15.0
    max_attempts: int = MAX_ATTEMPTS
    unconfirmed_delay: timedelta = HISTORY_INTERVAL
    """After an unknown outcome, wait this long before looking the post up and posting only if absent."""


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
    metadata: Mapping[str, Any],
    within: float,
    thread_ts: str | None = None,
) -> Outcome:
    """One attempt at posting a message (as a reply in the thread of `thread_ts`, when given); every
    failure is classified, none raised. The client's transport re-sends nothing but a 429'd call
    (`handlers.slack_clients.retry_handlers`). Its `metadata` (an event type and the id of what it
    posts) is what a lookup in the channel's history finds."""
    try:
        async with asyncio.timeout(within):
            response = await client.chat_postMessage(
                channel=channel,
                **message.as_kwargs(),
                thread_ts=thread_ts,
                metadata=dict(metadata),
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
    """One attempt at updating a message in place. chat.update sets the message's content, so doing it
    twice changes nothing: any failure to retry is recorded as certain (`DEFERRED`), never as a post that
    may have landed."""
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
