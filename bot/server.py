"""The aiohttp web server: Slack's request URL, the health check (and later the ingest API)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.services import Services
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
BOLT = web.AppKey("bolt", AsyncApp)
HEALTH_TIMEOUT = 3.0


def create_web_app(services: Services, bolt: AsyncApp | None) -> web.Application:
    """The web app; `bolt` is None in Socket Mode, where Slack's requests arrive over the socket."""
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    if bolt is not None:
        app[BOLT] = bolt
        app.router.add_post("/slack/events", slack_events)
    return app


async def slack_events(request: web.Request) -> web.Response:
    bolt_response = await request.app[BOLT].async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers, 503 while it does not; it recovers by itself."""
    try:
        await asyncio.wait_for(request.app[SERVICES].store.db.ping(), HEALTH_TIMEOUT)
    except (StoreUnavailable, TimeoutError) as error:
        log.warning("health check: database unavailable: %s", error)
        return web.json_response({"ok": False, "database": "unavailable"}, status=503)
    return web.json_response({"ok": True, "database": "ok"})
