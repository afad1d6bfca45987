"""The app is uninstalled or its tokens revoked: forget that workspace's installation.

The workspace's link to its service account, the account and its history stay, so reinstalling picks
up where it left off; until then nothing can be posted there (the notifier gets no client for it).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.listeners import ack_then
from bot.services import Services

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    installations = services.slack.installations

    async def uninstalled(args: AsyncArgs) -> None:
        context = args.context
        if installations is not None:
            await installations.remove(context.team_id, context.enterprise_id)
        log.info("app uninstalled from workspace %s; its installation data was removed", context.team_id)

    async def tokens_revoked(args: AsyncArgs) -> None:
        context = args.context
        tokens: dict[str, Any] = (args.event or {}).get("tokens") or {}
        # The app asks for no user scopes, so only the bot token matters; every installation row carries it.
        if installations is not None and tokens.get("bot"):
            await installations.remove(context.team_id, context.enterprise_id)
        log.info("tokens revoked in workspace %s: %s", context.team_id, tokens)

    app.event("app_uninstalled")(ack_then(uninstalled))
    app.event("tokens_revoked")(ack_then(tokens_revoked))
