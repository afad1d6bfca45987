"""The ingest API under `/api/v1/`: the billing platform pushes accounts, usage, feature changes, links.

`create_api_app` builds it as an aiohttp sub-application; `bot.server.create_web_app` mounts it.
Endpoints are declared in `bot.api.routes` (see `bot.api.endpoints` for how to add one).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.api.auth import auth_middleware
from bot.api.context import API, API_PREFIX, OPENAPI_PATH, ApiContext, UsageHook
from bot.api.errors import error_middleware, json_response
from bot.api.idempotency import unit_of_work_middleware
from bot.api.openapi import openapi_document
from bot.api.request_log import request_log_middleware
from bot.api.routes import endpoints
from handlers.services import Services
from store import Store
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 3600
MIN_TOKEN_LENGTH = 32


def create_api_app(
    services: Services,
    client: AsyncWebClient,
    *,
    on_usage: UsageHook | None = None,
    on_spikes: UsageHook | None = None,
) -> web.Application:
    """The API as a sub-application; `client` posts status notices, `on_usage` hears of usage changes,
    `on_spikes` of spike alerts claimed or blocks confirmed or lifted."""
    app = web.Application(
        middlewares=[request_log_middleware, error_middleware, auth_middleware, unit_of_work_middleware]
    )
    api = ApiContext(services=services, client=client, on_usage=on_usage, on_spikes=on_spikes)
    app[API] = api
    endpoints.mount(app)
    document = json.dumps(openapi_document(endpoints.all))

    async def openapi(_: web.Request) -> web.Response:
        return json_response(200, document)

    app.router.add_get(OPENAPI_PATH, openapi)

    async def announce(_: web.Application) -> None:
        token = services.settings.ingest_token
        if token is None:
            log.warning("INGEST_TOKEN is not set: the ingest API under %s/ answers 503", API_PREFIX)
        elif len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            log.warning("INGEST_TOKEN is short; use %d or more random characters", MIN_TOKEN_LENGTH)

    async def drain(_: web.Application) -> None:
        await api.background.drain()

    async def purge_expired_keys(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(_purge_forever(services.store))
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    app.on_startup.append(announce)
    app.on_cleanup.append(drain)
    app.cleanup_ctx.append(purge_expired_keys)
    return app


async def _purge_forever(store: Store) -> None:
    """Forget expired idempotency keys, hourly (each process; deleting twice is harmless)."""
    while True:
        try:
            if purged := await store.idempotency.purge():
                log.info("forgot %d expired idempotency key(s)", purged)
        except StoreUnavailable as error:
            log.warning("could not purge idempotency keys: %s", error)
        await asyncio.sleep(PURGE_EVERY_SECONDS)


__all__ = ["API_PREFIX", "UsageHook", "create_api_app"]
