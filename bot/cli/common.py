"""What every `myplan` command shares: the group, the settings, a store per command, checked arguments.

Only click is imported up front: the settings (pydantic), the store (SQLAlchemy) and Slack load when a
command needs them, so `myplan --help` and a command's `--help` start at once (bench/cli_start.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from bot.settings import Settings

T = TypeVar("T")

VERBOSE = False
"""--verbose: failures show their traceback as well as their one line."""


def run(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    return asyncio.run(coro)


def settings_from(ctx: click.Context) -> Settings:
    """The settings, read (and logging set up) on first use: `--help` needs neither."""
    from bot.settings import Settings, load_settings

    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = load_settings()
        from bot import logs

        logs.configure(root.obj.log_level, root.obj.log_format)
    return root.obj


def with_store(func: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async command body with a store, closing it afterwards."""

    @click.pass_context
    @wraps(func)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> None:

        async def body() -> None:
            store = settings_from(ctx).open_store()
            try:
                await func(store, *args, **kwargs)
            finally:
                await store.close()

        run(body())

    return wrapper


if TYPE_CHECKING:
    _ParamType = click.ParamType[Any, Any]
else:  # generic only from click 8.2 on
    _ParamType = click.ParamType


class Bounded(_ParamType):
    """A command-line value checked against its bounds, as the ingest API checks it: `kind` names one of
    `bot.core.bounds`' types (loaded when a value is checked, not when the command line is built)."""

    def __init__(self, kind: str, name: str, *, convert: Callable[[str], object] = str) -> None:
        self.kind = kind
        self.name = name
        self._convert = convert

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from bot.core import bounds

        if not isinstance(value, str):
            return value
        try:
            return bounds.check(getattr(bounds, self.kind), self._convert(value))
        except (bounds.OutOfBounds, ValueError) as error:
            self.fail(f"{value!r} is not a valid {self.name}: {error}", param, ctx)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("use YYYY-MM-DD") from None


ACCOUNT = Bounded("AccountId", "account id")
TEAM = Bounded("TeamId", "Slack workspace (team) id")
USER = Bounded("UserId", "Slack user id")
LABEL = Bounded("Label", "label")
DATE = Bounded("BoundedDate", "date", convert=_date)
VERSION = Bounded("Count", "version number", convert=int)


@click.group()
@click.option("--verbose", is_flag=True, help="On a failure, show the traceback too.")
@click.version_option(package_name="myplan-for-slack", message="myplan %(version)s")
def cli(verbose: bool) -> None:
    """My Plan for Slack: your contact-centre subscription plan in Slack."""
    global VERBOSE
    VERBOSE = verbose


def require_migrated(settings: Settings) -> None:
    """Refuse to start on a database without the schema the code needs (`SchemaNotCurrent` says the fix)."""
    from store.migrate import check_schema_url

    run(check_schema_url(settings.database_url))


def require_slack_credentials(settings: Settings) -> None:
    """The notifier posts with the single bot token, or with each workspace's OAuth installation."""
    from bot.settings import require

    if not settings.oauth_enabled:
        require(settings, "slack_bot_token")
