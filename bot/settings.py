"""Configuration from environment variables (and a `.env` file), read once at start-up."""

from __future__ import annotations

from functools import cached_property

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.db import normalize_database_url

SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    # An empty variable (as copied from .env.example) means "not set".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    database_url: str = "sqlite+aiosqlite:///./myplan.db"
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: AnyHttpUrl = AnyHttpUrl(SLACK_API_URL)
    port: int = Field(default=3000, ge=1, le=65535)
    sales_channel: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{2,}$")
    # The vendor's own workspace, where SALES_CHANNEL is (unset: the requester's workspace).
    sales_team_id: str | None = Field(default=None, pattern=r"^[T][A-Z0-9]{2,}$")
    dashboard_url: AnyHttpUrl = AnyHttpUrl("https://dashboard.maaiiconnect.com/")
    ingest_token: SecretStr | None = None
    log_level: str = Field(default="INFO", pattern=r"^(?i:debug|info|warning|error)$")
    # How many listeners work at once after acking, per process (see bot/work_slots.py).
    listener_concurrency: int = Field(default=10, ge=1, le=1000)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        url = normalize_database_url(url)
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:// or postgres:// URL")
        return url

    @model_validator(mode="after")
    def _oauth_whole(self) -> Settings:
        """OAuth needs both the client id and its secret: half of it is a mistake, not single-workspace mode."""
        if (self.slack_client_id is None) != (self.slack_client_secret is None):
            given, missing = (
                ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
                if self.slack_client_secret is None
                else ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")
            )
            raise ValueError(
                f"{missing} is not set but {given} is: OAuth (many workspaces) needs both; for one "
                f"workspace unset {given} and set SLACK_BOT_TOKEN"
            )
        return self

    @cached_property
    def api_url(self) -> str:
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"

    @property
    def oauth_enabled(self) -> bool:
        """Distributed to many workspaces (OAuth install) rather than installed into one (a bot token)."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def dashboard_link(self, path: str) -> str:
        return str(self.dashboard_url).rstrip("/") + "/" + path.lstrip("/")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        if not first["loc"]:  # a rule across variables: its message names them
            raise SettingsError(first["msg"].removeprefix("Value error, ")) from None
        raise SettingsError(f"{str(first['loc'][0]).upper()}: {first['msg']}") from None


def require(settings: Settings, *names: str) -> None:
    """Fail with one clear line when a setting the chosen mode needs is missing."""
    for name in names:
        if getattr(settings, name) is None:
            raise SettingsError(f"{name.upper()} is not set (see .env.example)")
