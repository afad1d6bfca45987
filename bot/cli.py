"""`myplan`: the operator's command line."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

import click

from bot.settings import Settings, SettingsError, load_settings, require
from store import Store
from store.errors import NotFound, StoreUnavailable
from store.migrate import upgrade_url

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def settings_from(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def with_store(func: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async command body with a store, closing it afterwards."""

    @click.pass_context
    @wraps(func)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> None:
        async def body() -> None:
            store = Store.from_url(settings_from(ctx).database_url)
            try:
                await func(store, *args, **kwargs)
            finally:
                await store.close()

        run(body())

    return wrapper


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """My Plan for Slack: your contact-centre subscription plan in Slack."""
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = settings


@cli.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the web server (Slack requests, health check); Socket Mode when SLACK_APP_TOKEN is set."""
    from bot.runner import serve as serve_forever

    serve_forever(settings_from(ctx))


@cli.command()
@click.option(
    "--evaluate-every", default=60.0, show_default=True, help="Seconds between evaluations of every account."
)
@click.option("--deliver-every", default=1.0, show_default=True, help="Seconds between delivery passes.")
@click.pass_context
def worker(ctx: click.Context, evaluate_every: float, deliver_every: float) -> None:
    """Run the notifier: evaluate quota alerts on an interval and post them to Slack."""
    from bot.worker import run_worker

    settings = settings_from(ctx)
    require(settings, "slack_bot_token")
    run(run_worker(settings, evaluate_every=evaluate_every, deliver_every=deliver_every))


@cli.group()
def alerts() -> None:
    """Quota alerts."""


@alerts.command("run")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; claim and post nothing.")
@click.pass_context
def alerts_run(ctx: click.Context, dry_run: bool) -> None:
    """Evaluate quota alerts for every account once and post what is due."""
    from bot.worker import run_once

    settings = settings_from(ctx)
    if not dry_run:
        require(settings, "slack_bot_token")
    for line in run(run_once(settings, dry_run=dry_run)):
        click.echo(line)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    run(upgrade_url(settings_from(ctx).database_url))
    click.echo("database is up to date")


@cli.command()
@click.option("--team", default="T0DEMO", show_default=True, help="Slack workspace (team id) to link.")
@click.option(
    "--admin", default="U0DEMOADMIN", show_default=True, help="Slack user id to make administrator."
)
@with_store
async def demo(store: Store, team: str, admin: str) -> None:
    """Load the sample account `demo` (sample data) and link it to a workspace."""
    from bot.demo import DEMO_ACCOUNT, load_demo
    from store.clock import utcnow

    await load_demo(store, team_id=team, admin=admin, now=utcnow())
    click.echo(
        f"sample account '{DEMO_ACCOUNT}' loaded and linked to workspace {team} (administrator {admin})"
    )


@cli.command()
@click.argument("team")
@click.argument("account")
@with_store
async def link(store: Store, team: str, account: str) -> None:
    """Link Slack workspace TEAM (team id) to service account ACCOUNT."""
    await store.workspaces.link(team, account, by="myplan link")
    click.echo(f"workspace {team} is linked to account {account}")


@cli.group()
def admins() -> None:
    """Administrators of a service account (Slack user ids)."""


@admins.command("add")
@click.argument("account")
@click.argument("user")
@with_store
async def admins_add(store: Store, account: str, user: str) -> None:
    """Make USER an administrator of ACCOUNT."""
    added = await store.admins.add(account, user, by="myplan admins")
    click.echo(f"{user} is {'now' if added else 'already'} an administrator of {account}")


@admins.command("remove")
@click.argument("account")
@click.argument("user")
@with_store
async def admins_remove(store: Store, account: str, user: str) -> None:
    """Remove USER from ACCOUNT's administrators."""
    removed = await store.admins.remove(account, user)
    click.echo(f"{user} {'removed from' if removed else 'was not one of'} the administrators of {account}")


@admins.command("list")
@click.argument("account")
@with_store
async def admins_list(store: Store, account: str) -> None:
    """List ACCOUNT's administrators."""
    if not await store.accounts.exists(account):
        raise NotFound(f"account {account!r}")
    for user in await store.admins.list(account):
        click.echo(user)


@cli.command("try")
@click.argument("command_text")
@click.option("--team", default="T0DEMO", show_default=True)
@click.option("--user", default="U0DEMOADMIN", show_default=True)
@click.pass_context
def try_command(ctx: click.Context, command_text: str, team: str, user: str) -> None:
    """Send COMMAND_TEXT (e.g. "/plan") through the real app to a local fake Slack and print the reply."""
    from bot.devtools.try_slack import try_slash_command

    click.echo(run(try_slash_command(settings_from(ctx), command_text, team_id=team, user_id=user)))


def main() -> None:
    """Entry point: known failures end with one clear line, not a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)
    except SettingsError as error:
        sys.exit(f"myplan: configuration error: {error}")
    except StoreUnavailable as error:
        sys.exit(f"myplan: database unavailable: {error}")
    except NotFound as error:
        sys.exit(f"myplan: not found: {error}")
