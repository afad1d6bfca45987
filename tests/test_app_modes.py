"""Which way the app runs is chosen from the settings: one workspace (a bot token) or many (OAuth)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import Connection

from bot.app import create_app
from bot.server import create_web_app
from bot.settings import Settings, SettingsError
from handlers.services import Services
from handlers.slack_clients import BOT_SCOPES
from store import Store
from store.tables import Base


def test_oauth_mode_needs_both_client_id_and_secret() -> None:
    assert Settings(_env_file=None, slack_client_id="1.2", slack_client_secret=SecretStr("s")).oauth_enabled
    with pytest.raises(ValidationError, match="SLACK_CLIENT_SECRET is not set but SLACK_CLIENT_ID is"):
        Settings(_env_file=None, slack_client_id="1.2")
    assert not Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-1")).oauth_enabled


async def test_single_workspace_mode_needs_the_bot_token(settings: Settings, store: Store) -> None:
    without_token = settings.model_copy(update={"slack_bot_token": None})
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN is not set"):
        create_app(Services.build(without_token, store))


async def test_single_workspace_mode_serves_no_install_pages(services: Services) -> None:
    bolt = create_app(services)
    assert bolt.oauth_flow is None
    http = TestClient(TestServer(create_web_app(services, bolt)))
    await http.start_server()
    try:
        assert (await http.get("/slack/install")).status == 404
    finally:
        await http.close()


@pytest.mark.parametrize(
    "value",
    [
        "",  # as from `docker run --env-file` with a copy of .env.example: set, but empty
        "from-the-environment",  # `myplan try` runs as one workspace whatever the environment says
    ],
)
async def test_the_settings_not_the_environment_decide_on_oauth(
    services: Services, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", value)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", value)

    assert create_app(services).oauth_flow is None
    assert os.environ["SLACK_CLIENT_ID"] == value  # left as it was


@pytest.mark.oauth
async def test_oauth_mode_needs_no_bot_token_and_serves_the_install_pages(services: Services) -> None:
    assert services.settings.slack_bot_token is None
    bolt = create_app(services)
    assert bolt.oauth_flow is not None
    assert (bolt.oauth_flow.install_path, bolt.oauth_flow.redirect_uri_path) == (
        "/slack/install",
        "/slack/oauth_redirect",
    )


def test_the_scopes_asked_for_at_install_are_the_manifests() -> None:
    manifest = json.loads((Path(__file__).parents[1] / "manifest.json").read_text())
    assert set(BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)


async def test_the_migrations_create_every_table_the_code_uses(store: Store) -> None:
    """Including slack_sdk's installation and OAuth state tables, which its stores never create here."""

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with store.db.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
