"""Installed: the installer is told what to do next. Uninstalled (or its tokens revoked): that workspace's
installation is forgotten.

The workspace's link to its service account, the account and its history stay, so reinstalling picks
up where it left off; until then nothing can be posted there (the notifier gets no client for it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation

from handlers.installation.views import welcome_message
from handlers.interaction import Interaction
from handlers.routes import Routes
from handlers.services import Services
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)


def register(routes: Routes) -> None:
    routes.event("app_uninstalled", forget_installation)
    routes.event("tokens_revoked", tokens_revoked)


async def forget_installation(interaction: Interaction[Mapping[str, Any]]) -> None:
    workspace = interaction.workspace
    installations = interaction.services.slack.installations
    if installations is not None:
        await installations.remove(_installed_team(interaction), workspace.enterprise_id)
    log.info("app uninstalled from workspace %s; its installation data was removed", workspace.team_id)


async def tokens_revoked(interaction: Interaction[Mapping[str, Any]]) -> None:
    workspace = interaction.workspace
    installations = interaction.services.slack.installations
    tokens: Mapping[str, Any] = interaction.value.get("tokens") or {}
    # The app asks for no user scopes, so only the bot token matters; every installation row carries it.
    if installations is not None and tokens.get("bot"):
        await installations.remove(_installed_team(interaction), workspace.enterprise_id)
    log.info("tokens revoked in workspace %s: %s", workspace.team_id, tokens)


def _installed_team(interaction: Interaction[Mapping[str, Any]]) -> str | None:
    """The team the installation is stored under: none for an org-wide (Enterprise Grid) install."""
    return None if interaction.body.get("is_enterprise_install") else interaction.workspace.team_id


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
