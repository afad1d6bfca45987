"""The alert service: evaluation (a sweep, or one account right after an ingest) and the delivery
loop that drains the alert outbox to Slack.

    alerts = AlertService.from_settings(store, settings)
    await alerts.on_usage("acme")          # after an ingest: claim crossings, post them in the background
    await alerts.run(stop)                 # `myplan worker`: sweep + deliver on an interval

Every alert row is claimed once by the database (see store.alerts); delivery posts it, retries 429s
after Retry-After and 5xx/timeouts with backoff, and tells administrators by DM when Slack refuses
the channel. A post whose outcome was lost (a 5xx, a timeout, a dropped connection, a crash) is looked
up in the channel's history by the alert id in its metadata before it is posted again: no sooner than
`unconfirmed_delay` after it, at most one read per workspace per `history_interval` (Slack's budget), and
never posted blind while the history cannot be read. docs/delivery.md has the whole argument.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.forecast import MIN_READINGS, forecast_alert, runs_out_before_renewal
from bot.alerts.local_time import quiet_until
from bot.alerts.rules import answered_in_lease, backoff
from bot.core import metrics
from bot.settings import Settings
from handlers import periodic
from handlers.alerts import delivery
from handlers.alerts.delivery import (
    DEFERRED,
    MESSAGE_GONE,
    NOT_POSTED,
    UNCONFIRMED,
    AlertTuning,
    ChannelPacer,
    DeliveryReport,
    Posted,
    Refused,
    Retry,
    WorkspaceGone,
    count,
)
from handlers.alerts.follow_ups import Failure, attach_chart, burn_down_of, tell_admins
from handlers.alerts.views import alert_message, thread_reply
from handlers.slack_calls import HistoryBudget, HistoryUnreadable
from handlers.slack_clients import ClientForTeam, SlackClients, build_client, single_client
from store import Store
from store.clock import utcnow
from store.domain.alerts import (
    DEFAULT_THRESHOLDS,
    Alert,
    AlertStatus,
    AlertThread,
    ClaimedAlert,
    EvaluationFailure,
    Forecast,
    ResolvedAlert,
)
from store.errors import StoreUnavailable
from store.status import EVALUATION_PASS

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def single_workspace_provider(settings: Settings) -> ClientForTeam:
    """The bot token's client for every linked workspace (single-workspace installs)."""
    return single_client(build_client(settings) if settings.slack_bot_token is not None else None)


@dataclass
class _Result:
    status: AlertStatus | None
    failure: Failure | None = None


@dataclass
class AlertService:
    store: Store
    provider: ClientForTeam
    clock: Clock = utcnow
    tuning: AlertTuning = field(default_factory=AlertTuning)

    def __post_init__(self) -> None:
        self.pacer = ChannelPacer(self.tuning.channel_interval, self.store.pacing, self.clock)
        self.history = HistoryBudget(self.tuning.history_interval)
        self.replies = HistoryBudget(self.tuning.history_interval)
        """conversations.replies reads, budgeted by Slack as history reads are (per method)."""
        self._holds: dict[str, datetime] = {}
        """Channels with a post of unknown outcome: nothing else is posted there before its lookup, so our
        own posts do not push it out of the page of history the lookup reads."""
        self._background: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_settings(
        cls, store: Store, settings: Settings, session: aiohttp.ClientSession | None = None, **kwargs: Any
    ) -> AlertService:
        """Posting with each workspace's own token (refreshed when it rotates), or the single bot token;
        over `session`'s kept-alive connections when given."""
        return cls.for_clients(store, SlackClients.for_settings(settings, store, session), **kwargs)

    @classmethod
    def for_clients(cls, store: Store, clients: SlackClients, **kwargs: Any) -> AlertService:
        return cls(store, clients.client_for_team, **kwargs)

    # ------------------------------------------------------------------------------ evaluation

    async def evaluate(self, account_id: str | None = None, *, dry_run: bool = False) -> list[Alert]:
        """Claim every threshold crossed and every run-out forecast not alerted yet this period (for
        all accounts, or one); returns the new alerts. `dry_run` claims nothing."""
        alerts = await self.store.alerts.evaluate(
            self.clock(),
            forecast_alert,
            defaults=DEFAULT_THRESHOLDS,
            min_readings=MIN_READINGS,
            account_id=account_id,
            dry_run=dry_run,
        )
        if alerts and not dry_run:
            log.info("claimed %d new alert(s)%s", len(alerts), f" for {account_id}" if account_id else "")
        return alerts

    async def sweep(self) -> int:
        """Evaluate every account (the worker's periodic pass); how many alerts were claimed. An account
        whose evaluation fails is skipped (and retried later); the others are evaluated as usual."""
        result = await self.store.alerts.sweep(
            self.clock(), forecast_alert, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS
        )
        if result.claimed:
            log.info("claimed %d new alert(s)", result.claimed)
        _log_failures(result.failed)
        return result.claimed

    async def evaluate_due(self) -> int:
        """Evaluate only the accounts whose usage, plan or settings changed, or whose time came (the
        worker's pass; see store.alert_marks), and show newly resolved messages; how many alerts were claimed."""
        result = await self.store.alerts.evaluate_due(
            self.clock(), forecast_alert, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS
        )
        metrics.ALERTS.labels("evaluated").inc(result.evaluated)
        metrics.ALERTS.labels("claimed").inc(result.claimed)
        if result.claimed:
            log.info("claimed %d new alert(s) in %d account(s) due", result.claimed, result.evaluated)
        _log_failures(result.failed)
        await self._show_resolved(await self.store.alerts.unshown_resolutions())
        return result.claimed

    async def on_usage(self, account_id: str) -> None:
        """Call right after usage readings for `account_id` are committed.

        Never raises: the readings are stored, and the worker's next sweep catches up on anything
        missed here."""
        try:
            new = await self.evaluate(account_id)
        except StoreUnavailable as error:
            log.warning("alerts for %s not evaluated after ingest (the sweep will): %s", account_id, error)
            return
        except Exception:
            log.exception("alerts for %s not evaluated after ingest (the sweep will)", account_id)
            return
        if not self.tuning.deliver_on_usage:
            return
        if new:
            self._spawn(periodic.logged("alert delivery after ingest", self.deliver_due(account_id)))
        self._spawn(periodic.logged("alert resolution after ingest", self.resolve(account_id)))

    async def resolve(self, account_id: str | None = None) -> int:
        """Update to resolved each meter's message whose period renewed or whose allowance grew (one
        account, or all); how many were updated. chat.update sets the message's content, so one that
        fails is simply tried again by the next pass."""
        return await self._show_resolved(await self.store.alerts.resolve(self.clock(), account_id=account_id))

    async def _show_resolved(self, resolved: list[ResolvedAlert]) -> int:
        shown = 0
        for item in resolved:
            alert = item.alert
            client = await self.provider(alert.team_id) if alert.team_id else None
            if client is None or alert.channel is None or alert.message_ts is None:
                await self.store.alerts.resolution_shown(alert.id, self.clock())  # nowhere to show it
                continue
            message = alert_message(alert, company=item.company_name)
            outcome = await delivery.update(
                client, alert.channel, alert.message_ts, message, within=self.tuning.post_timeout
            )
            if isinstance(outcome, Retry):
                log.info("alert %s resolved, its message not updated yet: %s", alert.id, outcome.reason)
                continue
            await self.store.alerts.resolution_shown(alert.id, self.clock())
            shown += isinstance(outcome, Posted)
        return shown

    # -------------------------------------------------------------------------------- delivery

    async def deliver_due(self, account_id: str | None = None) -> DeliveryReport:
        """Claim one batch of due alerts and post them: channels concurrently, each channel paced, and in
        each channel the alerts whose earlier outcome was lost looked up first."""
        now = self.clock()
        claimed = await self.store.alerts.claim(
            now, lease=self.tuning.lease, limit=self.tuning.batch, account_id=account_id
        )
        report = DeliveryReport(claimed=len(claimed))
        if not claimed:
            return report
        by_channel: dict[str, list[ClaimedAlert]] = defaultdict(list)
        for item in claimed:
            by_channel[item.channel or f"(none):{item.alert.account_id}"].append(item)
        gate = asyncio.Semaphore(self.tuning.concurrency)
        batch = _Batch(claimed_at=now)

        async def one_channel(items: list[ClaimedAlert]) -> list[_Result]:
            async with gate:
                ordered = sorted(items, key=lambda item: not self._needs_lookup(item.alert, now))
                return [await self._deliver(item, batch) for item in ordered]

        outcomes = await asyncio.gather(
            *(one_channel(items) for items in by_channel.values()), return_exceptions=True
        )
        failures: list[Failure] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                # The lease expires and another pass takes these alerts over.
                log.error("alert delivery to a channel broke off", exc_info=outcome)
                continue
            for result in outcome:
                count(report, result.status)
                if result.failure is not None:
                    failures.append(result.failure)
        await tell_admins(self.store, failures)
        for event, number in (
            ("posted", report.sent),
            ("retried", report.retried),
            ("failed", report.failed),
        ):
            metrics.ALERTS.labels(event).inc(number)
        return report

    async def drain(self, account_id: str | None = None, *, max_batches: int = 100) -> DeliveryReport:
        """Deliver batch after batch until nothing is due."""
        total = DeliveryReport()
        for _ in range(max_batches):
            report = await self.deliver_due(account_id)
            total.add(report)
            if report.claimed < self.tuning.batch:
                break
        return total

    async def _deliver(self, item: ClaimedAlert, batch: _Batch) -> _Result:
        alert = item.alert
        if not item.channel:
            await self.store.alerts.mark_failed(alert.id, alert.attempts, error="no_alerts_channel")
            return _Result(
                AlertStatus.FAILED, Failure(item, "no_alerts_channel", await self._any_client(alert))
            )
        unconfirmed = self._needs_lookup(alert, batch.claimed_at)
        if not unconfirmed and not alert.is_exhaustion and (until := quiet_until(item, self.clock())):
            return await self._defer(item, until, "quiet hours")  # running out is never held back
        hold = self._holds.get(item.channel)
        if hold is not None and hold <= batch.claimed_at:
            del self._holds[item.channel]
        elif hold is not None and not unconfirmed:
            return await self._defer(item, hold, "an earlier alert to this channel awaits its history check")
        chart = await burn_down_of(self.store, alert)
        forecast = chart.forecast if chart is not None else alert.forecast
        thread = item.thread
        if thread is not None and thread.channel == item.channel:
            client = await self.provider(thread.team_id)
            if client is not None:
                in_thread = await self._deliver_in_thread(item, thread, client, forecast, batch)
                if in_thread is not None:
                    return in_thread
                log.info("alert %s: its meter's message is gone; posting a new one", alert.id)
        refused: tuple[Refused, AsyncWebClient] | None = None
        gone: list[str] = []
        for team_id in await self._teams(alert.account_id, item.channel_team_id):
            client = await self.provider(team_id)
            if client is None:
                continue
            outcome: delivery.Outcome | None = None
            if unconfirmed:  # an earlier attempt may have posted it before its outcome was lost
                found = await self._look_up(batch, team_id, client, item)
                if isinstance(found, datetime):  # the history cannot be read now: wait, never post blind
                    return await self._defer(item, found, "history not readable yet", unconfirmed=True)
                if found is not None:
                    log.info("alert %s was already posted (%s); recording it", alert.id, found.ts)
                    outcome = found
            if outcome is None:
                outcome = await self._attempt(client, item, forecast, batch)
            if outcome is None:  # its lease is running out: another pass takes it, nothing was posted
                return await self._defer(item, self.clock(), "lease running out before the post")
            if isinstance(outcome, Posted):
                await self._record_sent(item, team_id, outcome, forecast)
                if (
                    chart is not None
                    and forecast is not None
                    and runs_out_before_renewal(forecast, alert.period_end)
                    and not outcome.threaded
                ):
                    await attach_chart(client, outcome, alert, chart, within=self.tuning.post_timeout * 2)
                return _Result(AlertStatus.SENT)
            if isinstance(outcome, Retry):
                return await self._retry(item, outcome, client, team_id)
            if isinstance(outcome, WorkspaceGone):
                gone.append(f"{team_id}: {outcome.reason}")
                continue
            refused = (outcome, client)
            if outcome.reason != "channel_not_found":  # the channel may belong to another linked workspace
                break
        if refused is not None:
            outcome, client = refused
            await self.store.alerts.mark_failed(alert.id, alert.attempts, error=outcome.reason)
            if not outcome.channel_problem:
                log.error("Slack refused alert %s: %s", alert.id, outcome.reason)
            return _Result(
                AlertStatus.FAILED,
                Failure(item, outcome.reason, client if outcome.channel_problem else None),
            )
        reason = "workspace_uninstalled" + (f" ({'; '.join(gone)})" if gone else "")
        log.info("alert %s skipped: no installed workspace for %s", alert.id, alert.account_id)
        await self.store.alerts.mark_failed(
            alert.id, alert.attempts, error=reason, status=AlertStatus.SKIPPED
        )
        return _Result(AlertStatus.SKIPPED)

    async def _deliver_in_thread(
        self,
        item: ClaimedAlert,
        thread: AlertThread,
        client: AsyncWebClient,
        forecast: Forecast | None,
        batch: _Batch,
    ) -> _Result | None:
        """A higher crossing: update the meter's message in place, then reply once in its thread. None when
        the message is gone (the alert is then posted afresh). The reply carries the alert id in its
        metadata; one whose outcome was lost is looked up in the thread before it is posted again."""
        alert = item.alert
        if self._needs_lookup(alert, batch.claimed_at):
            found = await self._look_up(batch, thread.team_id, client, item, thread_ts=thread.ts)
            if isinstance(found, datetime):
                return await self._defer(item, found, "thread not readable yet", unconfirmed=True)
            if found is not None:
                log.info("alert %s was already replied (%s); recording it", alert.id, found.ts)
                await self._record_sent(
                    item, thread.team_id, Posted(thread.channel, thread.ts), forecast, found.ts
                )
                return _Result(AlertStatus.SENT)
        if not self._in_lease(batch):
            return await self._defer(item, self.clock(), "lease running out before the update")
        message = alert_message(alert, company=item.company_name, forecast=forecast)
        await self.pacer.wait(thread.channel)  # last, so the update leaves at its slot
        updated = await delivery.update(
            client, thread.channel, thread.ts, message, within=self.tuning.post_timeout
        )
        if isinstance(updated, Refused) and updated.reason in MESSAGE_GONE:
            return None
        if not isinstance(updated, Posted):
            return await self._settle(item, updated, client, thread.team_id)
        mention = await self.store.admins.list(alert.account_id) if alert.is_exhaustion else []
        await self.pacer.wait(thread.channel)
        if not self._in_lease(batch):
            return await self._defer(item, self.clock(), "lease running out before the reply")
        replied = await delivery.post(
            client,
            thread.channel,
            thread_reply(alert, mention=mention),
            metadata=delivery.alert_metadata(alert.id),
            within=self.tuning.post_timeout,
            thread_ts=thread.ts,
        )
        if isinstance(replied, Posted):
            await self._record_sent(
                item, thread.team_id, Posted(thread.channel, thread.ts), forecast, replied.ts
            )
            return _Result(AlertStatus.SENT)
        return await self._settle(item, replied, client, thread.team_id)

    async def _settle(
        self, item: ClaimedAlert, outcome: delivery.Outcome, client: AsyncWebClient, team_id: str
    ) -> _Result:
        """A threaded alert's update or reply did not go through: retried, or failed for good."""
        alert = item.alert
        if isinstance(outcome, Retry):
            return await self._retry(item, outcome, client, team_id)
        if isinstance(outcome, WorkspaceGone):
            await self.store.alerts.mark_failed(
                alert.id,
                alert.attempts,
                error=f"workspace_uninstalled ({outcome.reason})",
                status=AlertStatus.SKIPPED,
            )
            return _Result(AlertStatus.SKIPPED)
        assert isinstance(outcome, Refused)
        await self.store.alerts.mark_failed(alert.id, alert.attempts, error=outcome.reason)
        return _Result(
            AlertStatus.FAILED, Failure(item, outcome.reason, client if outcome.channel_problem else None)
        )

    def _in_lease(self, batch: _Batch) -> bool:
        """Whether a call made now is answered before the pass's lease runs out (another pass may then
        take the alert over)."""
        return answered_in_lease(self.clock(), batch.claimed_at, self.tuning.lease, self.tuning.post_timeout)

    def _needs_lookup(self, alert: Alert, claimed_at: datetime) -> bool:
        """Whether an earlier attempt may have posted the alert: its outcome was unknown (a 5xx, a timeout,
        a dropped connection: any recorded reason but a 429 or a deferral), or it was cut off (a crash, a
        lease that ran out) and never recorded. A loop that claimed the alert then died left it `sending`
        with its lease; it can be claimed again only a lease later, so a claim that long after the alert
        was due is treated as a take-over (all processes are to share the lease)."""
        if alert.attempts <= 1:
            return False
        if claimed_at - alert.next_attempt_at >= self.tuning.lease:
            return True
        return not _not_posted(alert.error)

    async def _look_up(
        self,
        batch: _Batch,
        team_id: str,
        client: AsyncWebClient,
        item: ClaimedAlert,
        *,
        thread_ts: str | None = None,
    ) -> Posted | datetime | None:
        """The alert's message (its reply in the thread of `thread_ts`, when given) if an earlier attempt
        did post it; None when it is not among the channel's newest messages (the thread's first) or Slack
        will never let the app read them; when to try again when they cannot be read now. One read per
        workspace and channel (or thread) per batch, within the workspace's budget for that method."""
        assert item.channel is not None
        key = (team_id, item.channel, thread_ts or "")
        read = batch.reads.get(key)
        if read is None:
            read = await self._read_history(team_id, client, item.channel, thread_ts)
            batch.reads[key] = read
        if isinstance(read, datetime):
            return read
        if isinstance(read, HistoryUnreadable):
            log.warning(
                "alert %s: %s's history cannot be read (%s); posting without checking it was not already",
                item.alert.id,
                item.channel,
                read.reason,
            )
            return None
        return read.get(item.alert.id)

    async def _read_history(
        self, team_id: str, client: AsyncWebClient, channel: str, thread_ts: str | None
    ) -> dict[int, Posted] | HistoryUnreadable | datetime:
        now = self.clock()
        budget = self.history if thread_ts is None else self.replies
        if (next_read := budget.take(team_id, now)) is not None:
            return next_read
        within, page = self.tuning.post_timeout, self.tuning.history_page
        found = (
            await delivery.posted_alerts(client, channel, within=within, limit=page)
            if thread_ts is None
            else await delivery.replied_alerts(client, channel, thread_ts, within=within, limit=page)
        )
        if not isinstance(found, HistoryUnreadable) or found.refused:
            return found
        wait = (
            timedelta(seconds=found.retry_after)
            if found.retry_after is not None
            else self.tuning.history_interval
        )
        if found.rate_limited:
            budget.wait(team_id, now + wait)
        return now + max(wait, self.tuning.history_interval)

    async def _attempt(
        self, client: AsyncWebClient, item: ClaimedAlert, forecast: Forecast | None, batch: _Batch
    ) -> delivery.Outcome | None:
        """One post, once the channel's pacing allows; None (nothing posted) when the lease would run out
        before Slack answers, since another loop may then claim the alert and post it too."""
        assert item.channel is not None
        alert = item.alert
        mention = await self.store.admins.list(alert.account_id) if alert.is_exhaustion else []
        message = alert_message(alert, company=item.company_name, forecast=forecast, mention=mention)
        await self.pacer.wait(item.channel)  # last, so the post leaves at its slot
        if not self._in_lease(batch):
            return None
        return await delivery.post(
            client,
            item.channel,
            message,
            metadata=delivery.alert_metadata(alert.id),
            within=self.tuning.post_timeout,
        )

    async def _defer(
        self, item: ClaimedAlert, at: datetime, why: str, *, unconfirmed: bool = False
    ) -> _Result:
        """Put the alert back without posting it (it never gives up on this: see `_gives_up`).
        `unconfirmed`: an earlier attempt's outcome is still unknown, so the next one looks it up first."""
        alert = item.alert
        if unconfirmed and item.channel is not None:
            self._hold(item.channel, at)
        error = f"{UNCONFIRMED if unconfirmed else DEFERRED}: {why}"
        log.info("alert %s deferred to %s: %s", alert.id, at, error)
        unknown_outcome_in = (item.channel_team_id, item.channel) if unconfirmed and item.channel else None
        await self.store.alerts.mark_retry(
            alert.id, alert.attempts, at=at, error=error, unknown_outcome_in=unknown_outcome_in
        )
        return _Result(AlertStatus.PENDING)

    def _hold(self, channel: str, until: datetime) -> None:
        self._holds[channel] = max(until, self._holds.get(channel, until))

    async def _record_sent(
        self,
        item: ClaimedAlert,
        team_id: str,
        posted: Posted,
        forecast: Forecast | None,
        reply_ts: str | None = None,
    ) -> None:
        alert = item.alert
        recorded = await self.store.alerts.mark_sent(
            alert.id,
            alert.attempts,
            team_id=team_id,
            channel=posted.channel,
            ts=posted.ts,
            now=self.clock(),
            forecast=forecast,
            reply_ts=reply_ts,
        )
        if not recorded:
            log.warning("alert %s was posted after its lease ran out and another loop took it over", alert.id)

    async def _retry(
        self, item: ClaimedAlert, outcome: Retry, client: AsyncWebClient, team_id: str
    ) -> _Result:
        alert = item.alert
        if self._gives_up(alert):
            reason = f"gave up after {alert.attempts} attempts: {outcome.reason}"
            await self.store.alerts.mark_failed(alert.id, alert.attempts, error=reason)
            return _Result(AlertStatus.FAILED, Failure(item, reason, client))
        delay = (
            timedelta(seconds=outcome.after)
            if outcome.after is not None
            else backoff(alert.attempts, base=self.tuning.retry_base, cap=self.tuning.retry_cap)
        )
        at = self.clock() + delay
        if outcome.uncertain:  # it may be in the channel: looked up first, within the history budget
            at = max(at, self.clock() + self.tuning.unconfirmed_delay)
            if item.channel is not None:
                self._hold(item.channel, at)
        log.info("alert %s: %s; retrying at %s", alert.id, outcome.reason, at)
        unknown_outcome_in = (team_id, item.channel) if outcome.uncertain and item.channel else None
        await self.store.alerts.mark_retry(
            alert.id, alert.attempts, at=at, error=outcome.reason, unknown_outcome_in=unknown_outcome_in
        )
        return _Result(AlertStatus.PENDING)

    def _gives_up(self, alert: Alert) -> bool:
        """After `max_attempts`, and as long as that many attempts would have taken with backoff: deferred
        passes (waiting for a history read, say) count as attempts but do not bring the end closer."""
        if alert.attempts < self.tuning.max_attempts:
            return False
        patience = sum(
            (
                backoff(n, base=self.tuning.retry_base, cap=self.tuning.retry_cap)
                for n in range(1, self.tuning.max_attempts)
            ),
            timedelta(),
        )
        started = alert.first_attempt_at or alert.created_at
        return self.clock() - started >= patience

    async def _teams(self, account_id: str, channel_team_id: str | None) -> list[str]:
        teams = await self.store.workspaces.teams_of(account_id)
        if channel_team_id in teams:
            teams.remove(channel_team_id)
            teams.insert(0, channel_team_id)
        return teams

    async def _any_client(self, alert: Alert) -> AsyncWebClient | None:
        for team_id in await self.store.workspaces.teams_of(alert.account_id):
            if (client := await self.provider(team_id)) is not None:
                return client
        return None

    # ------------------------------------------------------------------------------ the worker

    async def run(
        self, stop: asyncio.Event, *, evaluate_every: float = 60.0, deliver_every: float = 1.0
    ) -> None:
        """`myplan worker`: evaluate the accounts due every `evaluate_every` seconds, deliver every
        `deliver_every` seconds, until `stop` is set. Database outages are logged and waited out."""
        loop = asyncio.get_running_loop()
        next_pass = loop.time()
        while not stop.is_set():
            if loop.time() >= next_pass:
                await periodic.logged("alert evaluation", self._evaluation_pass())
                next_pass = loop.time() + evaluate_every
            await periodic.logged("alert delivery", self.drain())
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), deliver_every)

    async def _evaluation_pass(self) -> None:
        """Evaluate what is due, then say so (`myplan status` reports the last pass)."""
        await self.evaluate_due()
        now = self.clock()
        await self.store.status.record_pass(EVALUATION_PASS, now)
        metrics.LAST_PASS.set(now.timestamp())

    async def idle(self) -> None:
        """Wait for background deliveries (started by `on_usage`) to finish."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self) -> None:
        """Stop background deliveries; an alert cut off mid-post is taken over when its lease expires."""
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _log_failures(failed: tuple[EvaluationFailure, ...]) -> None:
    if failed:
        log.error(
            "alert evaluation skipped %d failing account(s), the others were evaluated: %s "
            "(myplan alerts status lists them)",
            len(failed),
            ", ".join(f"{f.account_id} (retry at {f.retry_at.isoformat()})" for f in failed),
        )


def _not_posted(error: str | None) -> bool:
    """Whether the recorded outcome of the last attempt says for sure that nothing was posted."""
    return error is not None and (error in NOT_POSTED or error.startswith(f"{DEFERRED}:"))


@dataclass
class _Batch:
    """One delivery pass: when its alerts were claimed (their lease runs from then), and the channel
    histories (and threads) read in it, by (workspace, channel, thread ts or ""): each is read at most
    once per pass."""

    claimed_at: datetime
    reads: dict[tuple[str, str, str], dict[int, Posted] | HistoryUnreadable | datetime] = field(
        default_factory=dict
    )
