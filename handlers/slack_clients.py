"""Slack tokens and Web API clients per workspace.

Installed into one workspace, every call uses `SLACK_BOT_TOKEN`. Distributed to many (OAuth), each
workspace's installation is kept in our database by slack_sdk's installation store, and its bot token is
refreshed shortly before it expires when token rotation is on. Incoming requests (`InstallationAuthorize`)
and the notifier (`SlackClients.client_for_team`) refresh through the same `Installations`, one refresh per
workspace at a time: Slack revokes a refresh token once it has been used, so two refreshes at once would
leave one of them holding a dead token.

Retries stop where they could double something: Slack sometimes stores a message and still answers 5xx (or
the connection drops after it was sent), so the transport re-sends only calls that are safe to repeat
(`IDEMPOTENT_METHODS`); a post whose outcome is unknown is looked up by its metadata instead
(`find_in_history`), within Slack's budget for reading history. docs/delivery.md has the whole argument.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers.slack_calls import client_with_token
from store import Store
from store.db import outages_as_unavailable

log = logging.getLogger(__name__)

# What the app asks for when installed (keep in step with manifest.json).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "files:write",
    # The campaign pre-flight: read the recipients file uploaded in its modal.
    "files:read",
    # Quota alerts: check the app is in the chosen alerts channel, and find a post whose answer was lost.
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    # Link unfurls: hear of dashboard links (links:read), attach their card (links:write).
    "links:read",
    "links:write",
    # Questions in plain words: hear @-mentions (app_mentions:read) and messages in the app's DM, the
    # Messages tab and the assistant panel's threads (im:history); suggested prompts and the "is looking
    # that up…" status of the assistant panel (assistant:write).
    "app_mentions:read",
    "im:history",
    "assistant:write",
)
# Refresh a rotating token this long before it expires (Slack's tokens live 12 hours).
REFRESH_MINUTES_BEFORE_EXPIRY = 120
# How long an install link (its OAuth state) stays usable.
OAUTH_STATE_SECONDS = 600

TeamKey = tuple[str | None, str | None]  # (enterprise id, team id)
ClientForTeam = Callable[[str], Awaitable[AsyncWebClient | None]]
"""A workspace's Web API client by team id; None when the app cannot post there (not installed)."""


def build_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The app's own client: `SLACK_BOT_TOKEN` in single-workspace mode, no token in OAuth mode. Bolt
    gives each request a client with the request's token and this client's session."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return client_with_token(settings, None if settings.oauth_enabled else token, session)


class Installations:
    """The workspaces that installed the app (OAuth mode), their tokens refreshed before they expire."""

    def __init__(
        self,
        store: AsyncInstallationStore,
        rotator: AsyncTokenRotator,
        *,
        refresh_minutes: int = REFRESH_MINUTES_BEFORE_EXPIRY,
    ) -> None:
        self.store = store
        self._rotator = rotator
        self._refresh_minutes = refresh_minutes
        self._locks: dict[TeamKey, asyncio.Lock] = {}

    async def find(self, team_id: str | None, enterprise_id: str | None = None) -> Installation | None:
        with outages_as_unavailable():
            installation: Installation | None = await self.store.async_find_installation(
                enterprise_id=enterprise_id, team_id=team_id
            )
        return installation

    async def with_fresh_token(
        self, team_id: str | None, enterprise_id: str | None = None
    ) -> Installation | None:
        """The workspace's installation, its token refreshed first when it is about to expire; None when the
        app is not installed there (or its token can no longer be refreshed)."""
        installation = await self.find(team_id, enterprise_id)
        if installation is None or not self._expiring(installation):
            return installation
        async with self._locks.setdefault((enterprise_id, team_id), asyncio.Lock()):
            # Another task may have refreshed it while this one waited for the lock.
            installation = await self.find(team_id, enterprise_id)
            if installation is None or not self._expiring(installation):
                return installation
            return await self._refresh(installation)

    async def remove(self, team_id: str | None, enterprise_id: str | None = None) -> None:
        """Forget the workspace's installation: its tokens and installer data (nothing else of ours)."""
        with outages_as_unavailable():
            await self.store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    def _expiring(self, installation: Installation) -> bool:
        horizon = time.time() + self._refresh_minutes * 60
        return any(
            expires_at is not None and expires_at <= horizon
            for expires_at in (installation.bot_token_expires_at, installation.user_token_expires_at)
        )

    async def _refresh(self, installation: Installation) -> Installation | None:
        try:
            refreshed: Installation | None = await self._rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=self._refresh_minutes
            )
        except SlackTokenRotationError as error:
            # Another process (web or worker) may have used the refresh token first: take what it saved.
            latest = await self.find(installation.team_id, installation.enterprise_id)
            if latest is not None and latest.bot_refresh_token != installation.bot_refresh_token:
                return latest
            log.error("could not refresh the token of workspace %s: %s", installation.team_id, error)
            return None
        if refreshed is None:
            return installation
        with outages_as_unavailable():
            await self.store.async_save(refreshed)
        log.info("refreshed the token of workspace %s", installation.team_id)
        return refreshed


class InstallationAuthorize(AsyncAuthorize):
    """Bolt's authorization in OAuth mode: the workspace's bot token, refreshed through `Installations`.

    auth.test runs once per token and its result is remembered (bolt's own InstallationStoreAuthorize
    calls it on every request unless caching is on, and could refresh a token twice at once).
    """

    def __init__(self, installations: Installations) -> None:
        self._installations = installations
        self._results: dict[TeamKey, AuthorizeResult] = {}

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: Any,
    ) -> AuthorizeResult | None:
        installation = await self._installations.with_fresh_token(team_id, enterprise_id)
        token = installation.bot_token if installation is not None else None
        if installation is None or token is None:
            log.info("no installation for workspace %s", team_id)
            return None
        key = (enterprise_id, team_id)
        result = self._results.get(key)
        if result is None or result.bot_token != token:
            try:
                identity = await context.client.auth_test(token=token)
            except SlackApiError as error:
                log.warning("the token of workspace %s was refused: %s", team_id, error.response.get("error"))
                return None
            result = AuthorizeResult.from_auth_test_response(
                auth_test_response=identity, bot_token=token, bot_scopes=installation.bot_scopes
            )
            self._results[key] = result
        return result


class OAuthStates(AsyncSQLAlchemyOAuthStateStore):
    """slack_sdk's OAuth state store, also dropping states of install links that were never finished."""

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        expired = self.oauth_states.c.expire_at < normalize_datetime_for_db(datetime.now(UTC))
        with outages_as_unavailable():
            async with self.engine.begin() as connection:
                await connection.execute(self.oauth_states.delete().where(expired))
            state: str = await super().async_issue(*args, **kwargs)
        return state


class SlackClients:
    """Web API clients for work that does not start from a Slack request, such as the notifier."""

    def __init__(
        self,
        settings: Settings,
        installations: Installations | None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._settings = settings
        self.installations = installations
        self.session = session
        self._single_team: str | None = None

    @classmethod
    def for_settings(
        cls, settings: Settings, store: Store, session: aiohttp.ClientSession | None = None
    ) -> SlackClients:
        if not settings.oauth_enabled:
            return cls(settings, None, session)
        assert settings.slack_client_id is not None
        assert settings.slack_client_secret is not None
        installation_store = AsyncSQLAlchemyInstallationStore(
            client_id=settings.slack_client_id, engine=store.db.engine, logger=log
        )
        rotator = AsyncTokenRotator(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            client=client_with_token(settings, None, session),
        )
        return cls(settings, Installations(installation_store, rotator), session)

    def oauth_states(self, store: Store) -> OAuthStates:
        return OAuthStates(expiration_seconds=OAUTH_STATE_SECONDS, engine=store.db.engine, logger=log)

    async def client_for_team(self, team_id: str) -> AsyncWebClient | None:
        """A client with the workspace's bot token, refreshed first if it is about to expire; None when the
        app is not installed there (uninstalled workspaces get nothing until they reinstall)."""
        if self.installations is None:
            return await self._single_workspace_client(team_id)
        installation = await self.installations.with_fresh_token(team_id)
        if installation is None or installation.bot_token is None:
            return None
        return self.client(installation.bot_token)

    def client(self, token: str | None) -> AsyncWebClient:
        return client_with_token(self._settings, token, self.session)

    async def _single_workspace_client(self, team_id: str) -> AsyncWebClient | None:
        """`SLACK_BOT_TOKEN` belongs to one workspace: asked once which, with auth.test."""
        client = build_client(self._settings, self.session)
        if client.token is None:
            return None
        if self._single_team is None:
            try:
                self._single_team = (await client.auth_test()).get("team_id")
            except SlackApiError as error:  # revoked or uninstalled: nothing can be posted
                log.warning("SLACK_BOT_TOKEN was refused: %s", error.response.get("error"))
                return None
        return client if self._single_team == team_id else None


def single_client(client: AsyncWebClient | None) -> ClientForTeam:
    """For a single-workspace install: one bot token posts everywhere (None: nowhere)."""

    async def client_for(team_id: str) -> AsyncWebClient | None:
        return client

    return client_for
