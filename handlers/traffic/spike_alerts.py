"""Spike alerts' delivery: the outbox claimed at ingest, posted once to the account's alerts channel.

Each alert is claimed in the transaction that stored its traffic (`store.traffic_alerts`). Delivery leases
it, waits for the channel's pacing slot and posts it with its id in the message metadata. A 429 says nothing
was posted: it is retried when Slack says. After a 5xx, a timeout or a lost connection (or a lease that
lapsed mid-post) the message may be in the channel, so before posting again the channel's newest messages
are read (within the workspace's history budget) and a message carrying the id is recorded as the post.
Messages are then kept showing what was done (a block and its state, a mute): chat.update sets the whole
message, so updating twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.rules import answered_in_lease, backoff
from bot.traffic.webhook import BlockWebhook
from handlers import periodic
from handlers.posting import (
    LEASE_RUNNING_OUT,
    ChannelPacer,
    OutboxTuning,
    Outcome,
    Posted,
    Retry,
    WorkspaceGone,
    post,
    update,
)
from handlers.slack_calls import HistoryBudget, HistoryUnreadable, find_in_history
from handlers.slack_clients import ClientForTeam
from handlers.traffic.spike_views import spike_message
from store import Store
from store.clock import utcnow
from store.domain.traffic import SpikeAlert, SpikeStatus

log = logging.getLogger(__name__)

SPIKE_EVENT: Final = "myplan_traffic_spike"
"""Message metadata event type: each posted spike alert carries its id, so a lost outcome can be looked up."""


def spike_metadata(spike_id: int) -> dict[str, Any]:
    return {"event_type": SPIKE_EVENT, "event_payload": {"spike_id": spike_id}}


class SpikeAlerts:
    """Posts claimed spike alerts and keeps their messages up to date; the worker runs `run`."""

    def __init__(
        self,
        store: Store,
        client_for_team: ClientForTeam,
        *,
        pacer: ChannelPacer | None = None,
        clock: Callable[[], datetime] = utcnow,
        tuning: OutboxTuning | None = None,
    ) -> None:
        self.store = store
        self.client_for_team = client_for_team
        self.clock = clock
        self.tuning = tuning or OutboxTuning()
        self.pacer = pacer or ChannelPacer(1.0, store.pacing, clock)
        self.history = HistoryBudget(self.tuning.unconfirmed_delay)

    async def on_spikes(self, account_id: str) -> None:
        """Right after the account's spike alerts changed: post those claimed, update the messages of those
        blocked or unblocked (the worker catches up on whatever this misses). Never raises."""
        await periodic.logged(f"spike alerts for {account_id}", self.deliver_due(account_id))
        await periodic.logged("spike alert messages", self.refresh_messages())

    async def run(
        self, stop: asyncio.Event, *, every: float = 1.0, webhook: BlockWebhook | None = None
    ) -> None:
        """The worker's loop: post what is due, update what changed, send blocks to the platform."""

        async def one_pass() -> None:
            await self.deliver_due()
            await self.refresh_messages()
            if webhook is not None:
                await webhook.deliver_due()

        await periodic.every(every, one_pass, stop, what="spike alerts")

    async def deliver_due(self, account_id: str | None = None) -> int:
        """Post every spike alert due (of one account, or all); how many were posted."""
        posted = 0
        while due := await self.store.traffic_alerts.claim_due(
            claimed_at := self.clock(),
            lease=self.tuning.lease,
            limit=self.tuning.batch,
            account_id=account_id,
        ):
            for alert in due:
                posted += await self._deliver(alert, claimed_at)
            if len(due) < self.tuning.batch:
                break
        return posted

    async def refresh_messages(self) -> int:
        """Update the posted messages whose alert changed since (a block, its state, a mute)."""
        refreshed = 0
        for alert in await self.store.traffic_alerts.stale_messages():
            if await self.show(alert):
                refreshed += 1
        return refreshed

    async def show(self, alert: SpikeAlert) -> bool:
        """Update the alert's message to its current state; False when it could not be now."""
        if alert.team_id is None or alert.channel is None or alert.message_ts is None:
            return False
        client = await self.client_for_team(alert.team_id)
        if client is None:
            return False
        outcome = await update(
            client, alert.channel, alert.message_ts, spike_message(alert), within=self.tuning.post_timeout
        )
        if not isinstance(outcome, Posted):
            log.warning("spike alert %s: message not updated: %s", alert.id, outcome)
            return False
        await self.store.traffic_alerts.shown(alert.id, alert.version)
        return True

    async def _deliver(self, alert: SpikeAlert, claimed_at: datetime) -> int:
        alerts, now, attempt = self.store.traffic_alerts, self.clock(), alert.attempts
        team_id, channel = alert.team_id, alert.channel
        if team_id is None or channel is None:
            await alerts.give_up(
                alert.id, attempt, SpikeStatus.SKIPPED, "no alerts channel or linked workspace"
            )
            return 0
        client = await self.client_for_team(team_id)
        if client is None:
            await alerts.give_up(alert.id, attempt, SpikeStatus.SKIPPED, "the workspace is not installed")
            return 0
        if alert.may_be_posted:
            found = await self._look_up(client, alert.id, team_id, channel, now)
            if isinstance(found, datetime):
                await alerts.retry(
                    alert.id,
                    attempt,
                    reason="unconfirmed: history not readable yet",
                    at=found,
                    unknown_outcome_in=(team_id, channel),
                )
                return 0
            if found is not None:  # what its message shows is not known: it is refreshed
                return await self._settle(alert, team_id, channel, found, shows=None)
        await self.pacer.wait(channel)  # last, so the post leaves at its slot
        if not self._in_lease(claimed_at):  # another pass may take the alert over and post it meanwhile
            await alerts.retry(alert.id, attempt, reason=LEASE_RUNNING_OUT, at=self.clock())
            return 0
        current = await alerts.get(alert.id)  # as it is now: a block may have been clicked since the claim
        outcome = await post(
            client,
            channel,
            spike_message(current),
            metadata=spike_metadata(alert.id),
            within=self.tuning.post_timeout,
        )
        return await self._settle(alert, team_id, channel, outcome, shows=current.version)

    async def _look_up(
        self, client: AsyncWebClient, spike_id: int, team_id: str, channel: str, now: datetime
    ) -> Posted | datetime | None:
        """The alert's message if an earlier attempt posted it; None if not (or the channel cannot be read
        at all: then it is posted, at worst twice); when to look again if the history cannot be read now."""
        if (later := self.history.take(team_id, now)) is not None:
            return later
        found = await find_in_history(
            client, channel, SPIKE_EVENT, "spike_id", within=self.tuning.post_timeout
        )
        if isinstance(found, HistoryUnreadable):
            if found.refused:
                log.warning("spike alert %s: %s unreadable (%s); posting", spike_id, channel, found.reason)
                return None
            if found.retry_after is not None:
                self.history.wait(team_id, now + timedelta(seconds=found.retry_after))
            return now + self.tuning.unconfirmed_delay
        message = found.get(str(spike_id))
        return Posted(channel=channel, ts=str(message["ts"])) if message is not None else None

    def _in_lease(self, claimed_at: datetime) -> bool:
        """Whether a post made now is answered before the lease taken at `claimed_at` runs out."""
        return answered_in_lease(self.clock(), claimed_at, self.tuning.lease, self.tuning.post_timeout)

    async def _settle(
        self, alert: SpikeAlert, team_id: str, channel: str, outcome: Outcome, *, shows: int | None
    ) -> int:
        """Record the post's outcome for the claimed attempt; `shows`: the version its message showed."""
        alerts, now, attempt = self.store.traffic_alerts, self.clock(), alert.attempts
        if isinstance(outcome, Posted):
            if not await alerts.sent(
                alert.id,
                attempt,
                team_id=team_id,
                channel=outcome.channel,
                ts=outcome.ts,
                now=now,
                shows=shows,
            ):
                log.warning("spike alert %s was posted after another pass took it over", alert.id)
            return 1
        if isinstance(outcome, Retry) and alert.attempts < self.tuning.max_attempts:
            wait = timedelta(seconds=outcome.after) if outcome.after is not None else backoff(alert.attempts)
            if outcome.uncertain:
                wait = max(wait, self.tuning.unconfirmed_delay)
            unknown_outcome_in = (team_id, channel) if outcome.uncertain else None
            await alerts.retry(
                alert.id, attempt, reason=outcome.reason, at=now + wait, unknown_outcome_in=unknown_outcome_in
            )
            return 0
        reason = outcome.reason
        status = SpikeStatus.SKIPPED if isinstance(outcome, WorkspaceGone) else SpikeStatus.FAILED
        log.warning("spike alert %s not posted: %s", alert.id, reason)
        await alerts.give_up(alert.id, attempt, status, reason)
        return 0
