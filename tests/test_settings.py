from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, load_settings
from store.db import POOL_SIZE


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example:5432/app", "postgresql+asyncpg://u:p@db.example:5432/app"),
        ("postgresql://u@h/app", "postgresql+asyncpg://u@h/app"),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("sqlite+aiosqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
    ],
)
def test_database_urls_are_normalised(given: str, expected: str) -> None:
    assert Settings(_env_file=None, database_url=given).database_url == expected


def test_defaults_follow_the_runtime_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///./myplan.db"
    assert settings.port == 3000
    assert settings.api_url == "https://slack.com/api/"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "0"),
        ("DATABASE_URL", "mysql://x/y"),
        ("DATABASE_POOL_SIZE", "0"),
        ("SALES_CHANNEL", "general"),
        ("DASHBOARD_URL", "nope"),
    ],
)
def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=rf"^{variable}: "):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SALES_CHANNEL", "#sales", "SALES_CHANNEL: must be a channel id such as C0123ABCD, not its name"),
        ("SALES_TEAM_ID", "acme", "SALES_TEAM_ID: must be a workspace id such as T0123ABCD"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: must be one of debug, info, warning, error"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: must be a sqlite:// or postgres:// URL"),
    ],
)
def test_a_bad_setting_says_what_it_must_be(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value).startswith(said)


def test_a_sales_workspace_needs_the_oauth_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_TEAM_ID", "T0VENDOR")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(
        SettingsError, match=r"^SALES_TEAM_ID is set but the app is installed into one workspace"
    ):
        load_settings()
    monkeypatch.setenv("SLACK_CLIENT_ID", "1111.2222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "secret")
    assert load_settings().sales_team_id == "T0VENDOR"


def test_env_example_lists_every_setting() -> None:
    from pathlib import Path

    listed = {
        line.split("=")[0].strip("# ")
        for line in (Path(__file__).parents[1] / ".env.example").read_text().splitlines()
        if "=" in line
    }
    assert {name.upper() for name in Settings.model_fields} <= listed


@pytest.mark.parametrize(
    ("given", "missing"),
    [("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"), ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")],
)
def test_half_an_oauth_configuration_names_the_missing_half(
    monkeypatch: pytest.MonkeyPatch, given: str, missing: str
) -> None:
    for variable in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv(given, "1111.2222")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == (
        f"{missing} is not set but {given} is: OAuth (many workspaces) needs both; for one workspace "
        f"unset {given} and set SLACK_BOT_TOKEN"
    )


async def test_each_process_opens_its_store_with_the_pool_size_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://myplan@db.example/myplan")  # never connected to
    default = load_settings().open_store()
    monkeypatch.setenv("DATABASE_POOL_SIZE", "5")
    small = load_settings().open_store()
    try:
        assert default.db.engine.pool.size() == POOL_SIZE  # type: ignore[attr-defined]
        assert small.db.engine.pool.size() == 5  # type: ignore[attr-defined]
    finally:
        await default.close()
        await small.close()
