"""What the API's middlewares and handlers share, kept on the API's aiohttp application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.api.background import BackgroundWork
from handlers.services import Services

API_PREFIX = "/api/v1"
OPENAPI_PATH = "/openapi.json"

UsageHook = Callable[[str], Awaitable[None]]
"""Called with the account id after a committed change to its usage figures (e.g. to evaluate quota alerts)."""


@dataclass
class ApiContext:
    services: Services
    client: AsyncWebClient
    on_usage: UsageHook | None = None
    on_spikes: UsageHook | None = None
    """Called with the account id after its spike alerts changed: claimed (to post them at once), or a
    block's state (for their messages to show)."""
    background: BackgroundWork = field(default_factory=BackgroundWork)


API = web.AppKey("ingest_api", ApiContext)
