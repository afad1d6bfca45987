"""The bolt AsyncApp: client, middleware, central error handler, listeners.

Two ways to run, chosen from the settings:
- installed into one workspace: `SLACK_BOT_TOKEN` (plus `SLACK_SIGNING_SECRET` over HTTP);
- distributed to many (OAuth): `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET`; each workspace installs the
  app at `/slack/install` and its installation is kept in our database.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.core import log_context
from bot.settings import require
from bot.slack_edge import surface_of
from handlers.alerts import listeners as alerts
from handlers.ask import listeners as ask
from handlers.campaign import listeners as campaign
from handlers.company import listeners as company
from handlers.errors import handle_error
from handlers.event_dedupe import Replays
from handlers.installation import listeners as installation
from handlers.licences import listeners as licences
from handlers.linking import listeners as linking
from handlers.plan import listeners as plan
from handlers.rates import listeners as rates
from handlers.routes import Routes
from handlers.services import Services
from handlers.slack_clients import (
    BOT_SCOPES,
    OAUTH_STATE_SECONDS,
    REFRESH_MINUTES_BEFORE_EXPIRY,
    InstallationAuthorize,
    Installations,
    build_client,
)
from handlers.traffic import listeners as traffic
from handlers.unfurl import listeners as unfurl
from handlers.upgrade import listeners as upgrade
from handlers.workflow import listeners as workflow
from handlers.workspace import CONTEXT_KEY, Workspace

__all__ = ["SlackApp", "build_client", "create_app"]

log = logging.getLogger(__name__)

APP_NAME = "app.py"
"""The bolt app's name (its loggers' too): what bolt would call it unnamed, the name of this file."""

CAPABILITIES = (
    plan,
    company,
    upgrade,
    linking,
    rates,
    campaign,
    alerts,
    licences,
    traffic,
    unfurl,
    workflow,
    ask,
    installation,
)
"""Each registers its listeners, subcommands and Home tab with `register(routes)`."""


class SlackApp(AsyncApp):
    """Bolt's app, which also settles each request's replay claim once its response is known: a request
    that was not applied after all (field errors, a 5xx) can be tried again (`handlers.event_dedupe`)."""

    def __init__(self, replays: Replays, **kwargs: Any) -> None:
        # Unnamed, bolt names the app after the file that made it, "app.py", found with inspect.stack(),
        # which reads the source of every file on the call stack into linecache and keeps it there (click's
        # core.py, asyncio's, bolt's own: 0.9 MB of the serving process).
        kwargs.setdefault("name", APP_NAME)
        super().__init__(**kwargs)
        self.replays = replays

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        response = await super().async_dispatch(req)
        await self.replays.settle(req, response)
        return response


def create_app(services: Services) -> SlackApp:
    settings = services.settings
    if not settings.socket_mode:  # over the socket, requests come from Slack by construction
        require(settings, "slack_signing_secret")
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    installations = services.slack.installations
    if installations is None:
        require(settings, "slack_bot_token")
    replays = Replays(services.store)
    with _hide_slack_environment_from_bolt():
        app = SlackApp(
            replays,
            signing_secret=signing_secret,
            client=build_client(settings, services.session),
            logger=logging.getLogger("bolt"),
            before_authorize=replays,
            authorize=InstallationAuthorize(installations) if installations else None,
            oauth_settings=_oauth_settings(services, installations) if installations else None,
        )

    @app.middleware
    async def attach_request_context(
        context: AsyncBoltContext,
        body: dict[str, Any],
        client: AsyncWebClient,
        next: Callable[[], Awaitable[None]],
    ) -> None:
        # Always a Workspace, even for an organisation-wide install's request that names none: a listener
        # then tells the person (WorkspaceUnknown) rather than failing after the ack.
        workspace = Workspace.for_request(services.store, context, body, client, services.workspace_admins)
        if workspace.team_id and workspace.team_id != context.team_id:
            # An org-wide install's token serves many workspaces: its calls name the one at hand.
            client.default_params["team_id"] = workspace.team_id
        context[CONTEXT_KEY] = workspace
        log_context.bind(
            request_id=str(body.get("event_id") or uuid.uuid4().hex),
            workspace=workspace.team_id,
            surface=surface_of(body),
        )
        await next()

    logs.install_context()
    app.error(handle_error)
    routes = Routes(app, services)
    for capability in CAPABILITIES:
        capability.register(routes)
    return app


def _oauth_settings(services: Services, installations: Installations) -> AsyncOAuthSettings:
    settings = services.settings

    async def welcome_then_finish(args: AsyncSuccessArgs) -> BoltResponse:
        await installation.welcome_installer(services, args.installation)
        response: BoltResponse = await args.default.success(args)
        return response

    async def finish_failed(args: AsyncFailureArgs) -> BoltResponse:
        response: BoltResponse = await args.default.failure(args)
        return response

    assert settings.slack_client_id is not None
    assert settings.slack_client_secret is not None
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        installation_store=installations.store,
        state_store=services.slack.oauth_states(services.store),
        state_expiration_seconds=OAUTH_STATE_SECONDS,
        token_rotation_expiration_minutes=REFRESH_MINUTES_BEFORE_EXPIRY,
        callback_options=AsyncCallbackOptions(success=welcome_then_finish, failure=finish_failed),
        logger=logging.getLogger("bolt.oauth"),
    )


@contextmanager
def _hide_slack_environment_from_bolt() -> Iterator[None]:
    """Bolt turns OAuth on (with file-based stores) whenever SLACK_CLIENT_ID and SLACK_CLIENT_SECRET exist
    in the environment, and reads SLACK_BOT_TOKEN only to warn that the client we give it has its own.
    The settings decide here (an empty variable means "not set", and `myplan try` always runs as one
    workspace), so bolt does not see them while the app is built."""
    hidden = {
        name: os.environ.pop(name)
        for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN")
        if name in os.environ
    }
    try:
        yield
    finally:
        os.environ.update(hidden)
