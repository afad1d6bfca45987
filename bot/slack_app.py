"""The bolt AsyncApp: client, middleware, central error handler, listeners."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import handle_error
from bot.services import Services
from bot.settings import Settings, require
from bot.tenant import CONTEXT_KEY, Tenant
from handlers import register_all

log = logging.getLogger(__name__)


def build_client(settings: Settings) -> AsyncWebClient:
    """A Web API client that waits out 429s (honouring Retry-After) and retries 5xx and dropped connections."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(services: Services) -> AsyncApp:
    settings = services.settings
    require(settings, "slack_signing_secret", "slack_bot_token")
    assert settings.slack_signing_secret is not None
    app = AsyncApp(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=build_client(settings),
        logger=logging.getLogger("bolt"),
    )

    @app.middleware
    async def attach_tenant(
        context: AsyncBoltContext, client: AsyncWebClient, next: Callable[[], Awaitable[None]]
    ) -> None:
        if context.team_id:
            context[CONTEXT_KEY] = Tenant(services.store, context.team_id, client)
        await next()

    app.error(handle_error)
    register_all(app, services)
    return app
