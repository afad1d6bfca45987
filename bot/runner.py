"""Long-running processes: the web server, over HTTP or Socket Mode."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.alerts.service import AlertService
from bot.server import create_web_app
from bot.services import Services
from bot.settings import Settings
from bot.slack_app import create_app
from store import Store

log = logging.getLogger(__name__)


async def build_web_app(settings: Settings) -> web.Application:
    """The aiohttp app for `myplan serve`; in Socket Mode it serves only the health check over HTTP."""
    store = Store.from_url(settings.database_url)
    # Alerts are evaluated (and posted) right after each usage ingest, and after settings change.
    services = Services(settings, store, alerts=AlertService.from_settings(store, settings))
    bolt = create_app(services)
    if settings.slack_app_token is None:
        app = create_web_app(services, bolt)
    else:
        app = create_web_app(services, None)
        socket = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())

        async def connect(_: web.Application) -> None:
            await socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack over Socket Mode")

        async def disconnect(_: web.Application) -> None:
            await socket.close_async()  # type: ignore[no-untyped-call]

        app.on_startup.append(connect)
        app.on_cleanup.append(disconnect)

    async def close_store(_: web.Application) -> None:
        if services.alerts is not None:
            await services.alerts.close()
        await services.store.close()

    app.on_cleanup.append(close_store)
    return app


def serve(settings: Settings) -> None:
    web.run_app(build_web_app(settings), port=settings.port, access_log=None, print=log.info)
