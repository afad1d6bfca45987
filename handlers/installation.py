"""Installed: the installer is told what to do next. Uninstalled (or its tokens revoked): that workspace's
installation is forgotten.

The workspace's link to its service account, the account and its history stay, so reinstalling picks
up where it left off; until then nothing can be posted there (the notifier gets no client for it).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation

from bot.listeners import ack_then
from bot.services import Services
from bot.views.linking import welcome_message
from store.errors import StoreUnavailable

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


async def welcome_installer(services: Services, installation: Installation) -> None:
    """DM the person who installed the app how to link the workspace (or that it still is linked)."""
    if not (installation.bot_token and installation.user_id and installation.team_id):
        return
    try:
        linked = await services.store.workspaces.account_for_team(installation.team_id) is not None
        client = services.slack.client(installation.bot_token)
        await client.chat_postMessage(
            channel=installation.user_id, **welcome_message(linked=linked).as_kwargs()
        )
    except (SlackApiError, StoreUnavailable) as error:
        # The install itself succeeded; the installer's page must still say so.
        log.warning("could not welcome the installer in workspace %s: %s", installation.team_id, error)
