"""Configuration from environment variables (and a `.env` file), read once at start-up."""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.urls import normalize_database_url

if TYPE_CHECKING:
    from store import Store

SLACK_API_URL = "https://slack.com/api/"
LOG_LEVELS = ("debug", "info", "warning", "error")


class Settings(BaseSettings):
    # An empty variable (as copied from .env.example) means "not set".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    database_url: str = "sqlite+aiosqlite:///./myplan.db"
    # PostgreSQL connections each process keeps (10 more in a burst); unset: the store's default.
    database_pool_size: int | None = Field(default=None, ge=1, le=1000)
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: AnyHttpUrl = AnyHttpUrl(SLACK_API_URL)
    port: int = Field(default=3000, ge=1, le=65535)
    sales_channel: str | None = None
    # The vendor's own workspace, where SALES_CHANNEL is (unset: the requester's workspace).
    sales_team_id: str | None = None
    dashboard_url: AnyHttpUrl = AnyHttpUrl("https://dashboard.maaiiconnect.com/")
    ingest_token: SecretStr | None = None
    # GET /metrics answers only with this bearer token (unset: 404).
    metrics_token: SecretStr | None = None
    log_level: str = "INFO"
    # "text" (for a terminal) or "json": one JSON object a line with the request's id, workspace, account.
    log_format: Literal["text", "json"] = "text"
    # How many listeners work at once after acking, per process (see bot/work_slots.py).
    listener_concurrency: int = Field(default=10, ge=1, le=1000)
    # Upgrade requests are emailed to Sales too: SALES_EMAIL and SMTP_URL, both or neither. SMTP_URL holds
    # the server's password. SMTP_FROM: the sender, by default myplan@ the domain of SALES_EMAIL.
    sales_email: str | None = None
    smtp_url: SecretStr | None = None
    smtp_from: str | None = None
    # Destination blocks are POSTed here, signed with BLOCKS_WEBHOOK_SECRET (unset: INGEST_TOKEN), until
    # acknowledged; unset: the billing platform polls GET /api/v1/accounts/{id}/destination-blocks.
    blocks_webhook_url: AnyHttpUrl | None = None
    blocks_webhook_secret: SecretStr | None = None
    # Retention (docs/operations.md): what `myplan prune` and the worker's daily prune keep.
    retain_readings_periods: int = Field(default=2, ge=1, le=120)
    retain_daily_readings_periods: int = Field(default=13, ge=1, le=1200)
    retain_alert_periods: int = Field(default=3, ge=1, le=1200)
    retain_traffic_months: int = Field(default=13, ge=1, le=1200)
    retain_audit_years: int = Field(default=7, ge=1, le=100)

    @property
    def blocks_webhook_key(self) -> str | None:
        """The key that signs block webhooks; None when there is neither secret nor ingest token."""
        secret = self.blocks_webhook_secret or self.ingest_token
        return secret.get_secret_value() if secret is not None else None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        url = normalize_database_url(url)
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:// or postgres:// URL")
        return url

    @field_validator("sales_channel")
    @classmethod
    def _channel_id(cls, channel: str | None) -> str | None:
        if channel is not None and not re.fullmatch(r"[CG][A-Z0-9]{2,}", channel):
            raise ValueError(
                "must be a channel id such as C0123ABCD, not its name (Slack shows the id at the bottom of "
                "the channel's details)"
            )
        return channel

    @field_validator("sales_team_id")
    @classmethod
    def _team_id(cls, team: str | None) -> str | None:
        if team is not None and not re.fullmatch(r"T[A-Z0-9]{2,}", team):
            raise ValueError("must be a workspace id such as T0123ABCD (the vendor's own workspace)")
        return team

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, level: str) -> str:
        if level.lower() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("sales_email", "smtp_from")
    @classmethod
    def _mailbox(cls, address: str | None) -> str | None:
        """One address, syntax only (no DNS); ASCII, as every SMTP server takes (an IDN domain is encoded)."""
        if address is None:
            return None
        from email_validator import EmailNotValidError, validate_email  # only when an address is set

        try:
            checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as error:
            raise ValueError(str(error)) from None
        return checked.ascii_email or checked.normalized

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, url: SecretStr | None) -> SecretStr | None:
        """The shape only (bot/upgrade/sales_email.py reads it); the message never repeats the URL."""
        if url is None:
            return None
        parts = urlsplit(url.get_secret_value())
        try:
            parts.port  # noqa: B018 -- raises on a port that is not a number from 0 to 65535
        except ValueError:
            raise ValueError("the port must be a number from 1 to 65535") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname or parts.port == 0:
            raise ValueError(
                "must be smtp://[user:password@]host[:port] (STARTTLS, port 587) or smtps://… (TLS, port 465)"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                "must have no path, query or fragment (quote a / ? # in the password as %2F %3F %23)"
            )
        return url

    @model_validator(mode="after")
    def _sales_email_whole(self) -> Settings:
        """Emailing Sales needs the address and the server: half of it is a mistake, not "no email"."""
        if (self.sales_email is None) != (self.smtp_url is None):
            given, missing = (
                ("SALES_EMAIL", "SMTP_URL") if self.smtp_url is None else ("SMTP_URL", "SALES_EMAIL")
            )
            raise ValueError(
                f"{missing} is not set but {given} is: emailing upgrade requests to Sales needs both "
                f"SALES_EMAIL and SMTP_URL; to send no email unset {given}"
            )
        if self.smtp_from is not None and self.sales_email is None:
            raise ValueError(
                "SMTP_FROM is set but SALES_EMAIL and SMTP_URL are not: set both, or unset SMTP_FROM"
            )
        return self

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

    @model_validator(mode="after")
    def _sales_team_needs_oauth(self) -> Settings:
        """With one bot token there is one workspace, and Sales are in it: a Sales workspace apart from the
        customers' is the OAuth distribution's."""
        if self.sales_team_id is not None and not self.oauth_enabled:
            raise ValueError(
                "SALES_TEAM_ID is set but the app is installed into one workspace (SLACK_BOT_TOKEN), where "
                "Sales then are: unset SALES_TEAM_ID, or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to "
                "distribute the app by OAuth"
            )
        return self

    @model_validator(mode="after")
    def _readings_rolled_up_before_removed(self) -> Settings:
        if self.retain_daily_readings_periods < self.retain_readings_periods:
            raise ValueError(
                f"RETAIN_DAILY_READINGS_PERIODS ({self.retain_daily_readings_periods}) is less than "
                f"RETAIN_READINGS_PERIODS ({self.retain_readings_periods}): readings are removed only after "
                "they are rolled up; raise it or lower RETAIN_READINGS_PERIODS"
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

    def open_store(self) -> Store:
        """The store at DATABASE_URL, with this process's pool size."""
        from store import Store  # here, not at the top: `myplan --help` does not load the database layer

        if self.database_pool_size is None:
            return Store.from_url(self.database_url)
        return Store.from_url(self.database_url, pool_size=self.database_pool_size)

    def dashboard_link(self, path: str) -> str:
        return str(self.dashboard_url).rstrip("/") + "/" + path.lstrip("/")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across variables: its message names them
            raise SettingsError(message) from None
        raise SettingsError(f"{str(first['loc'][0]).upper()}: {message}") from None


def require(settings: Settings, *names: str) -> None:
    """Fail with one clear line when a setting the chosen mode needs is missing."""
    for name in names:
        if getattr(settings, name) is None:
            raise SettingsError(f"{name.upper()} is not set (see .env.example)")
