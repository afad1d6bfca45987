"""`GET /metrics`: the process's Prometheus metrics (`bot.core.metrics`), with the database's figures read
at each scrape. Answered only with `METRICS_TOKEN` as a bearer token (404 while it is unset)."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.core import metrics
from handlers.services import Services
from store import Store
from store.errors import StoreUnavailable
from store.status import Outbox

log = logging.getLogger(__name__)


async def serve_metrics(request: web.Request, services: Services) -> web.Response:
    token = services.settings.metrics_token
    if token is None:
        raise web.HTTPNotFound()
    expected = f"Bearer {token.get_secret_value()}"
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected.encode()):
        return web.Response(
            status=401,
            text="metrics need the METRICS_TOKEN bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    await _read_database(services.store, services.clock(), oauth=services.settings.oauth_enabled)
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _read_database(store: Store, now: datetime, *, oauth: bool) -> None:
    """The gauges only the database knows; left as they were when it cannot be read (and said so)."""
    try:
        status = await store.status.read(now, oauth=oauth)
    except StoreUnavailable as error:
        log.warning("metrics: database figures not read: %s", error)
        return
    for name, outbox in (("alerts", status.alerts), ("spike_alerts", status.spike_alerts)):
        _outbox(name, outbox, now)
    metrics.FAILING_ACCOUNTS.set(len(status.failing))
    for gauge, moment in (
        (metrics.LAST_PASS, status.last_evaluation_pass),
        (metrics.LAST_PRUNE, status.last_prune),
    ):
        if moment is not None:
            gauge.set(moment.timestamp())


def _outbox(name: str, outbox: Outbox, now: datetime) -> None:
    metrics.OUTBOX_DUE.labels(name).set(outbox.due)
    metrics.OUTBOX_FAILED_LAST_DAY.labels(name).set(outbox.failed_last_day)
    oldest = (now - outbox.oldest_due_at).total_seconds() if outbox.oldest_due_at is not None else 0
    metrics.OUTBOX_OLDEST_DUE_SECONDS.labels(name).set(max(oldest, 0))
