"""The aiohttp web server: Slack's request URL, the health check and the ingest API."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.api import API_PREFIX, UsageHook, create_api_app
from bot.services import Services
from bot.slack_app import build_client
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
BOLT = web.AppKey("bolt", AsyncApp)
HEALTH_TIMEOUT = 3.0


def create_web_app(
    services: Services, bolt: AsyncApp | None, *, on_usage: UsageHook | None = None
) -> web.Application:
    """The web app; `bolt` is None in Socket Mode, where Slack's requests arrive over the socket.

    `on_usage(account_id)` runs after every committed change to an account's usage figures.
    """
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    if bolt is not None:
        app[BOLT] = bolt
        app.router.add_post("/slack/events", slack_events)
    client = bolt.client if bolt is not None else build_client(services.settings)
    app.add_subapp(API_PREFIX, create_api_app(services, client, on_usage=on_usage))
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
