from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, load_settings


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
    [("PORT", "0"), ("DATABASE_URL", "mysql://x/y"), ("SALES_CHANNEL", "general"), ("DASHBOARD_URL", "nope")],
)
def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=rf"^{variable}: "):
        load_settings()


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
