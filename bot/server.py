"""The aiohttp web server: Slack's request URL, the OAuth install pages, the health check and the
ingest API.

Slack's request URL (`/slack/events`) admits a request only after `bot.slack_edge` has checked it; a
refused one is answered with a 4xx and one log line (method, path, reason, size), never with its body.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any, Protocol

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.api import API_PREFIX, UsageHook, create_api_app
from bot.core import metrics
from bot.metrics_page import serve_metrics
from bot.settings import require
from bot.slack_edge import RawSignatureVerifier, Refused, admit, surface_kind
from handlers.services import Services
from handlers.slack_clients import build_client
from handlers.traffic.spike_alerts import SpikeAlerts
from store.db import Database
from store.errors import StoreUnavailable
from store.migrate import FIX, current_revision, schema_problem

log = logging.getLogger(__name__)


class SocketConnection(Protocol):
    """The Socket Mode connection to Slack (slack_sdk's SocketModeClient)."""

    async def is_connected(self) -> bool: ...


SERVICES = web.AppKey("services", Services)
BOLT = web.AppKey("bolt", AsyncApp)
SOCKET = web.AppKey("socket", SocketConnection)
VERIFIER = web.AppKey("verifier", SignatureVerifier)
HEALTH_TIMEOUT = 3.0


def create_web_app(
    services: Services,
    bolt: AsyncApp | None,
    *,
    socket: SocketConnection | None = None,
    on_usage: UsageHook | None = None,
) -> web.Application:
    """The web app. In Socket Mode (`socket` given) Slack's requests arrive over the socket, so there is
    no `/slack/events`; the OAuth install pages are served in both modes when OAuth is configured.

    `on_usage(account_id)` runs after every committed change to an account's usage figures (by default
    the quota alerts' `services.alerts.on_usage`); spike alerts claimed at a traffic ingest are posted
    right after it.
    """
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    if socket is not None:
        app[SOCKET] = socket
    if bolt is not None:
        app[BOLT] = bolt
        if socket is None:
            require(services.settings, "slack_signing_secret")
            assert services.settings.slack_signing_secret is not None
            app[VERIFIER] = RawSignatureVerifier(services.settings.slack_signing_secret.get_secret_value())
            app.router.add_post("/slack/events", slack_events)
        if bolt.oauth_flow is not None:
            app.router.add_get(bolt.oauth_flow.install_path, slack_install)
            app.router.add_get(bolt.oauth_flow.redirect_uri_path, slack_oauth_redirect)
    client = bolt.client if bolt is not None else build_client(services.settings, services.session)
    spikes = SpikeAlerts(services.store, services.slack.client_for_team, clock=services.clock)
    app.add_subapp(
        API_PREFIX,
        create_api_app(
            services, client, on_usage=on_usage or services.alerts.on_usage, on_spikes=spikes.on_spikes
        ),
    )
    return app


async def slack_events(request: web.Request) -> web.Response:
    """Slack's request URL: the request is checked (size, signature, shape), then handed to bolt."""
    try:
        bolt_request, body = await admit(request, request.app[VERIFIER])
    except Refused as refused:
        size = refused.size if refused.size is not None else request.content_length or 0
        log.warning("refused %s %s: %s (%d bytes)", request.method, request.path, refused.reason, size)
        return web.Response(status=refused.status, text=refused.reason)
    if body.get("type") == "app_rate_limited":
        # Slack stopped sending this workspace's events for a minute; it wants only a 200 (bolt has no
        # listener for it and would answer 404, logging the body).
        log.warning("Slack rate-limited the events of workspace %s", str(body.get("team_id"))[:32])
        return web.Response(status=200)
    started = time.perf_counter()
    bolt_response = await request.app[BOLT].async_dispatch(bolt_request)
    surface = surface_kind(body)
    metrics.ACK_SECONDS.labels(surface).observe(time.perf_counter() - started)
    metrics.SLACK_REQUESTS.labels(surface, str(bolt_response.status)).inc()
    return await to_aiohttp_response(bolt_response)


async def metrics_page(request: web.Request) -> web.Response:
    return await serve_metrics(request, request.app[SERVICES])


async def slack_install(request: web.Request) -> web.Response:
    """The "Add to Slack" page: issues an OAuth state (kept in the database and in a cookie)."""
    flow = request.app[BOLT].oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))


async def slack_oauth_redirect(request: web.Request) -> web.Response:
    """Slack sends the installer back here: the state is checked, the code exchanged, the installation stored."""
    flow = request.app[BOLT].oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers with the schema the code needs (and, in Socket Mode, the socket is
    connected), 503 otherwise, with the reason; it recovers by itself. The accounts whose alert evaluation
    is failing are listed (`myplan alerts status` says why)."""
    report: dict[str, Any] = {"ok": True, "database": "ok"}
    reasons: list[str] = []
    store = request.app[SERVICES].store
    try:
        await asyncio.wait_for(store.db.ping(), HEALTH_TIMEOUT)
        problem = await _schema_problem(store.db)
        if problem is not None:
            report.update(ok=False, database="not migrated")
            reasons.append(f"{problem}: {FIX}")
        else:
            # One account's bad data does not make the service unhealthy; the operator sees it here.
            failing = await asyncio.wait_for(store.alerts.failing_accounts(), HEALTH_TIMEOUT)
            report["alerts"] = {"failing_accounts": [f.account_id for f in failing]}
    except (StoreUnavailable, TimeoutError) as error:
        log.warning("health check: database unavailable: %s", error)
        report.update(ok=False, database="unavailable")
        reasons.append("the database is unreachable")
    socket = request.app.get(SOCKET)
    if socket is not None:
        connected = await socket.is_connected()
        report["socket"] = "connected" if connected else "disconnected"
        report["ok"] = report["ok"] and connected  # "socket": "disconnected" is the reason
    if reasons:
        report["reason"] = "; ".join(reasons)
    return web.json_response(report, status=200 if report["ok"] else 503)


_AT_HEAD: weakref.WeakSet[Database] = weakref.WeakSet()
"""Databases seen at the code's head revision: a schema does not go back, so it is read until it is."""


async def _schema_problem(db: Database) -> str | None:
    if db in _AT_HEAD:
        return None
    problem = schema_problem(await asyncio.wait_for(current_revision(db.engine), HEALTH_TIMEOUT))
    if problem is None:
        _AT_HEAD.add(db)
    return problem
