"""The alert service: evaluation (a sweep, or one account right after an ingest) and the delivery
loop that drains the alert outbox to Slack.

    alerts = AlertService.from_settings(store, settings)
    await alerts.on_usage("acme")          # after an ingest: claim crossings, post them in the background
    await alerts.run(stop)                 # `myplan worker`: sweep + deliver on an interval

Every alert row is claimed once by the database (see store.alerts); delivery posts it, retries 429s
after Retry-After and 5xx/timeouts with backoff, and tells administrators by DM when Slack refuses
the channel. A post whose outcome was lost (timeout, crash) is looked up in the channel's history by
the alert id in its metadata before it is posted again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.burndown import burn_down
from bot.alerts.chart import BurnDown, burndown_png
from bot.alerts.forecast import MIN_READINGS, forecast_alert, runs_out_before_renewal
from bot.alerts.rules import MAX_ATTEMPTS, RETRY_BASE, RETRY_CAP, backoff
from bot.settings import Settings
from handlers.alerts import delivery
from handlers.alerts.delivery import ChannelPacer, Posted, Refused, Retry, WorkspaceGone
from handlers.alerts.views import alert_message, delivery_failed_message
from handlers.slack_clients import ClientForTeam, SlackClients, build_client, single_client
from store import Store
from store.clock import utcnow
from store.domain.alerts import (
    DEFAULT_THRESHOLDS,
    Alert,
    AlertStatus,
    ClaimedAlert,
    Forecast,
    is_forecastable,
)
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def single_workspace_provider(settings: Settings) -> ClientForTeam:
    """The bot token's client for every linked workspace (single-workspace installs)."""
    return single_client(build_client(settings) if settings.slack_bot_token is not None else None)


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


@dataclass(frozen=True)
class _Failure:
    item: ClaimedAlert
    reason: str
    client: AsyncWebClient | None
    """The client to tell administrators with; None when they need not be told (our own bug)."""


@dataclass
class _Result:
    status: AlertStatus | None
    failure: _Failure | None = None


@dataclass
class AlertService:
    store: Store
    provider: ClientForTeam
    clock: Clock = utcnow
    tuning: AlertTuning = field(default_factory=AlertTuning)

    def __post_init__(self) -> None:
        self.pacer = ChannelPacer(self.tuning.channel_interval)
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
        """Evaluate every account (the worker's periodic pass); how many alerts were claimed."""
        claimed = await self.store.alerts.sweep(
            self.clock(), forecast_alert, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS
        )
        if claimed:
            log.info("claimed %d new alert(s)", claimed)
        return claimed

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
        if new and self.tuning.deliver_on_usage:
            self._spawn(self._logged("delivery after ingest", self.deliver_due(account_id)))

    # -------------------------------------------------------------------------------- delivery

    async def deliver_due(self, account_id: str | None = None) -> DeliveryReport:
        """Claim one batch of due alerts and post them: channels concurrently, each channel paced."""
        claimed = await self.store.alerts.claim(
            self.clock(), lease=self.tuning.lease, limit=self.tuning.batch, account_id=account_id
        )
        report = DeliveryReport(claimed=len(claimed))
        if not claimed:
            return report
        by_channel: dict[str, list[ClaimedAlert]] = defaultdict(list)
        for item in claimed:
            by_channel[item.channel or f"(none):{item.alert.account_id}"].append(item)
        gate = asyncio.Semaphore(self.tuning.concurrency)

        async def one_channel(items: list[ClaimedAlert]) -> list[_Result]:
            async with gate:
                return [await self._deliver(item) for item in items]

        outcomes = await asyncio.gather(
            *(one_channel(items) for items in by_channel.values()), return_exceptions=True
        )
        failures: list[_Failure] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                # The lease expires and another pass takes these alerts over.
                log.error("alert delivery to a channel broke off", exc_info=outcome)
                continue
            for result in outcome:
                _count(report, result.status)
                if result.failure is not None:
                    failures.append(result.failure)
        await self._tell_admins(failures)
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

    async def _deliver(self, item: ClaimedAlert) -> _Result:
        alert = item.alert
        if not item.channel:
            await self.store.alerts.mark_failed(alert.id, alert.attempts, error="no_alerts_channel")
            return _Result(
                AlertStatus.FAILED, _Failure(item, "no_alerts_channel", await self._any_client(alert))
            )
        chart = await self._burn_down(alert)
        forecast = chart.forecast if chart is not None else alert.forecast
        refused: tuple[Refused, AsyncWebClient] | None = None
        gone: list[str] = []
        for team_id in await self._teams(alert.account_id, item.channel_team_id):
            client = await self.provider(team_id)
            if client is None:
                continue
            outcome = await self._attempt(client, item, forecast)
            if isinstance(outcome, Posted):
                await self._record_sent(item, team_id, outcome, forecast)
                if (
                    chart is not None
                    and forecast is not None
                    and runs_out_before_renewal(forecast, alert.period_end)
                ):
                    await self._attach_chart(client, outcome, alert, chart)
                return _Result(AlertStatus.SENT)
            if isinstance(outcome, Retry):
                return await self._retry(item, outcome, client)
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
                _Failure(item, outcome.reason, client if outcome.channel_problem else None),
            )
        reason = "workspace_uninstalled" + (f" ({'; '.join(gone)})" if gone else "")
        log.info("alert %s skipped: no installed workspace for %s", alert.id, alert.account_id)
        await self.store.alerts.mark_failed(
            alert.id, alert.attempts, error=reason, status=AlertStatus.SKIPPED
        )
        return _Result(AlertStatus.SKIPPED)

    async def _attempt(
        self, client: AsyncWebClient, item: ClaimedAlert, forecast: Forecast | None
    ) -> delivery.Outcome:
        assert item.channel is not None
        alert = item.alert
        if alert.attempts > 1:  # an earlier attempt may have posted it before its outcome was lost
            found = await delivery.find_posted(
                client, item.channel, alert.id, within=self.tuning.post_timeout
            )
            if found is not None:
                log.info("alert %s was already posted (%s); recording it", alert.id, found.ts)
                return found
        await self.pacer.wait(item.channel)
        message = alert_message(alert, company=item.company_name, forecast=forecast)
        return await delivery.post(
            client, item.channel, message, alert_id=alert.id, within=self.tuning.post_timeout
        )

    async def _record_sent(
        self, item: ClaimedAlert, team_id: str, posted: Posted, forecast: Forecast | None
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
        )
        if not recorded:
            log.warning("alert %s was posted after its lease ran out and another loop took it over", alert.id)

    async def _retry(self, item: ClaimedAlert, outcome: Retry, client: AsyncWebClient) -> _Result:
        alert = item.alert
        if alert.attempts >= self.tuning.max_attempts:
            reason = f"gave up after {alert.attempts} attempts: {outcome.reason}"
            await self.store.alerts.mark_failed(alert.id, alert.attempts, error=reason)
            return _Result(AlertStatus.FAILED, _Failure(item, reason, client))
        delay = (
            timedelta(seconds=outcome.after)
            if outcome.after is not None
            else backoff(alert.attempts, base=self.tuning.retry_base, cap=self.tuning.retry_cap)
        )
        log.info("alert %s: %s; retrying in %s", alert.id, outcome.reason, delay)
        await self.store.alerts.mark_retry(
            alert.id, alert.attempts, at=self.clock() + delay, error=outcome.reason
        )
        return _Result(AlertStatus.PENDING)

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

    async def _burn_down(self, alert: Alert) -> BurnDown | None:
        """The chart of the alert's allowance up to the alert, with the forecast shown in the message
        (stored with forecast alerts, computed for the others); None for what cannot be forecast."""
        if not is_forecastable(alert.meter):
            return None
        return await burn_down(
            self.store,
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

    async def _attach_chart(
        self, client: AsyncWebClient, posted: Posted, alert: Alert, chart: BurnDown
    ) -> None:
        """The burn-down chart in the alert's thread. Best effort: the alert itself is already posted."""
        try:
            png = await asyncio.to_thread(burndown_png, [chart], title=f"{alert.label} this billing period")
            async with asyncio.timeout(self.tuning.post_timeout * 2):
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

    async def _tell_admins(self, failures: Sequence[_Failure]) -> None:
        """One DM per administrator and account, listing the alerts that could not be posted."""
        by_account: dict[str, list[_Failure]] = defaultdict(list)
        for failure in failures:
            if failure.client is not None:
                by_account[failure.item.alert.account_id].append(failure)
        for account_id, items in by_account.items():
            admins = await self.store.admins.list(account_id)
            if not admins:
                log.warning(
                    "alerts for %s could not be posted and it has no administrators to tell", account_id
                )
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

    # ------------------------------------------------------------------------------ the worker

    async def run(
        self, stop: asyncio.Event, *, evaluate_every: float = 60.0, deliver_every: float = 1.0
    ) -> None:
        """`myplan worker`: sweep every account every `evaluate_every` seconds, deliver every
        `deliver_every` seconds, until `stop` is set. Database outages are logged and waited out."""
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while not stop.is_set():
            if loop.time() >= next_sweep:
                await self._logged("evaluation", self.sweep())
                next_sweep = loop.time() + evaluate_every
            await self._logged("delivery", self.drain())
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), deliver_every)

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

    @staticmethod
    async def _logged(what: str, work: Awaitable[Any]) -> None:
        try:
            await work
        except StoreUnavailable as error:
            log.warning("alert %s skipped, database unavailable: %s", what, error)
        except Exception:
            log.exception("alert %s failed", what)


def _count(report: DeliveryReport, status: AlertStatus | None) -> None:
    if status is AlertStatus.SENT:
        report.sent += 1
    elif status is AlertStatus.PENDING:
        report.retried += 1
    elif status is AlertStatus.FAILED:
        report.failed += 1
    elif status is AlertStatus.SKIPPED:
        report.skipped += 1
