"""Long-running processes: the web server, over HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

from aiohttp import web

from bot.app import create_app
from bot.core.metrics import counted_session
from bot.server import create_web_app
from bot.settings import Settings
from handlers.alerts.service import AlertService
from handlers.services import Services

log = logging.getLogger(__name__)

# How often the Socket Mode client pings Slack, and so how soon a dead connection is noticed and replaced.
SOCKET_PING_SECONDS = 10.0
# Collect the youngest generation after this many allocations (Python's default is 700).
GC_THRESHOLDS = (20_000, 20, 20)


async def build_web_app(
    settings: Settings, *, socket_ping_seconds: float = SOCKET_PING_SECONDS
) -> web.Application:
    """The aiohttp app for `myplan serve`. In Socket Mode Slack's requests arrive over the socket and HTTP
    serves the health check (which then reports the socket) and, with OAuth, the install pages."""
    store = settings.open_store()
    session = counted_session()
    try:
        # Alerts are evaluated (and posted) right after each usage ingest, and after settings change.
        services = Services.build(settings, store, session, alerts=AlertService.for_clients)
        bolt = create_app(services)
    except BaseException:  # a setting missing, say: leave nothing open behind the one-line error
        await session.close()
        await store.close()
        raise
    if settings.slack_app_token is None:
        app = create_web_app(services, bolt)
    else:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler  # only in Socket Mode

        socket = AsyncSocketModeHandler(
            bolt, settings.slack_app_token.get_secret_value(), ping_interval=socket_ping_seconds
        )
        app = create_web_app(services, bolt, socket=socket.client)
        connecting: list[asyncio.Task[None]] = []

        async def connect(_: web.Application) -> None:
            # In the background: the client retries until Slack answers, and meanwhile /healthz says
            # "disconnected" rather than the server not starting at all.
            connecting.append(asyncio.create_task(socket.connect_async()))  # type: ignore[no-untyped-call]

        async def disconnect(_: web.Application) -> None:
            for task in connecting:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await socket.close_async()  # type: ignore[no-untyped-call]

        app.on_startup.append(connect)
        app.on_cleanup.append(disconnect)

    async def close_services(_: web.Application) -> None:
        await services.alerts.close()
        await services.store.close()
        if services.session is not None:
            await services.session.close()

    app.on_cleanup.append(close_services)
    return app


async def _collect_less(_: web.Application) -> None:
    """Everything loaded at start-up lives as long as the process: move it out of the garbage collector's
    sight, and collect the youngest objects less often. A full collection over all of it stalls the
    event loop, and acks with it, for tens of milliseconds: measured with bench/, this took the p99 ack
    at 32 concurrent from about 120 ms to about 50."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(settings: Settings) -> None:
    async def app() -> web.Application:
        built = await build_web_app(settings)
        built.on_startup.append(_collect_less)  # the process's own setting: not for apps built in tests
        return built

    web.run_app(app(), port=settings.port, access_log=None, print=log.info)
