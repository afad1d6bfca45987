"""`myplan worker` (the notifier) and `myplan alerts run`: quota alerts, licence notices and weekly digests
outside the web process."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import groupby

from bot.core.metrics import counted_session
from bot.retention import prune
from bot.retention.policy import RetentionPolicy
from bot.settings import Settings
from bot.traffic.webhook import BlockWebhook
from handlers import periodic
from handlers.alerts.delivery import AlertTuning, DeliveryReport
from handlers.alerts.service import AlertService
from handlers.alerts.views import alert_text
from handlers.digest.service import DigestService
from handlers.licences.notices import LicenceNotices
from handlers.slack_clients import SlackClients
from handlers.traffic.spike_alerts import SpikeAlerts
from store import Store
from store.domain.alerts import Alert, AlertKind

log = logging.getLogger(__name__)


async def run_worker(
    settings: Settings, *, evaluate_every: float, deliver_every: float, tuning: AlertTuning | None = None
) -> None:
    """Evaluate the accounts due every `evaluate_every` seconds and deliver due alerts every
    `deliver_every` seconds, until SIGTERM or SIGINT; an alert cut off mid-post is taken over by
    the next worker once its lease runs out. `tuning` replaces the outbox's defaults (leases, timeouts,
    the history budget: bench.soak shortens them; every process on one database should share them).
    Licence hygiene notices and weekly digests are sent on the evaluation pass's schedule, with the same
    clock; spike alerts, their messages' updates and destination blocks' webhooks on the delivery's; the
    retention policy is applied once a day (by whichever worker asks first)."""
    store = settings.open_store()
    session = counted_session()
    alerts = AlertService.from_settings(store, settings, session, tuning=tuning or AlertTuning())
    clients = SlackClients.for_settings(settings, store, session)
    licences = LicenceNotices(store, clients.client_for_team, settings.dashboard_link, clock=alerts.clock)
    digests = DigestService(store, clients.client_for_team, clock=alerts.clock)
    spikes = SpikeAlerts(store, clients.client_for_team, pacer=alerts.pacer, clock=alerts.clock)
    webhook = BlockWebhook.from_settings(settings, store, session, clock=alerts.clock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker started: evaluating every %ss, delivering every %ss", evaluate_every, deliver_every)
    try:
        await asyncio.gather(
            alerts.run(stop, evaluate_every=evaluate_every, deliver_every=deliver_every),
            licences.run(stop, every=evaluate_every),
            digests.run(stop, every=evaluate_every),
            spikes.run(stop, every=deliver_every, webhook=webhook),
            _prune_daily(
                store, RetentionPolicy.from_settings(settings), alerts.clock, stop, every=evaluate_every
            ),
        )
    finally:
        await alerts.close()
        await store.close()
        await session.close()
    log.info("worker stopped")


async def _prune_daily(
    store: Store, policy: RetentionPolicy, clock: Callable[[], datetime], stop: asyncio.Event, *, every: float
) -> None:
    async def prune_if_due() -> None:
        if (report := await prune.daily(store, policy, clock(), stop)) is not None:
            log.info("prune: %s", "; ".join(report.lines(policy)))

    await periodic.every(every, prune_if_due, stop, what="retention prune")


async def run_once(settings: Settings, *, dry_run: bool) -> list[str]:
    """One evaluation of every account, then delivery of everything due; the lines to print.

    With `dry_run` nothing is claimed or posted: the lines say what would be."""
    store = settings.open_store()
    alerts = AlertService.from_settings(store, settings)
    try:
        new = await alerts.evaluate(dry_run=dry_run)
        if dry_run:
            waiting = await store.alerts.due(alerts.clock())
            return await _preview(store, new, waiting)
        report = await alerts.drain()
        return [_summary(len(new), report)]
    finally:
        await alerts.close()
        await store.close()


async def _preview(store: Store, new: list[Alert], waiting: list[Alert]) -> list[str]:
    if not new and not waiting:
        return ["nothing to send"]
    channels = {a.account_id: (await store.alerts.rules(a.account_id)).channel for a in [*new, *waiting]}
    lines = []
    for alert, note in [*_with_notes(new), *((a, "already waiting") for a in waiting)]:
        where = (
            f"#{channels[alert.account_id]}"
            if channels[alert.account_id]
            else "(no alerts channel set: the administrators, by DM)"
        )
        lines.append(
            f"would post to {where} for {alert.account_id}: {alert_text(alert)}{f' [{note}]' if note else ''}"
        )
    return lines


def _with_notes(alerts: list[Alert]) -> Iterator[tuple[Alert, str]]:
    """Each new alert, noting those a higher threshold of the same meter would supersede."""

    def meter_key(alert: Alert) -> tuple[str, str]:
        return alert.account_id, alert.meter

    for _, group in groupby(sorted(alerts, key=meter_key), key=meter_key):
        items = list(group)
        thresholds = [a for a in items if a.kind == AlertKind.THRESHOLD]
        top = max(thresholds, key=lambda a: a.threshold) if thresholds else None
        for alert in items:
            if top is not None and alert is not top:
                yield alert, f"superseded by {top.threshold}%"
            else:
                yield alert, ""


def _summary(claimed: int, report: DeliveryReport) -> str:
    return (
        f"{claimed} new alert(s) claimed; posted {report.sent}, retrying {report.retried}, "
        f"failed {report.failed}, skipped {report.skipped}"
    )
