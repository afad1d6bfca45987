"""`myplan`: the operator's command line."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import click

from bot.core import bounds
from bot.settings import Settings, SettingsError, load_settings, require
from store import Store
from store.domain.rates import RateRow
from store.errors import NotFound, StoreUnavailable
from store.migrate import upgrade_url
from store.rates import ImportConflict

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


if TYPE_CHECKING:
    _ParamType = click.ParamType[Any, Any]
else:  # generic only from click 8.2 on
    _ParamType = click.ParamType


class Bounded(_ParamType):
    """A command-line value checked against its bounds (`bot.core.bounds`), as the ingest API checks it."""

    def __init__(self, kind: Any, name: str, *, convert: Callable[[str], object] = str) -> None:
        self.kind = kind
        self.name = name
        self._convert = convert

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return bounds.check(self.kind, self._convert(value))
        except (bounds.OutOfBounds, ValueError) as error:
            self.fail(f"{value!r} is not a valid {self.name}: {error}", param, ctx)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("use YYYY-MM-DD") from None


ACCOUNT = Bounded(bounds.AccountId, "account id")
TEAM = Bounded(bounds.TeamId, "Slack workspace (team) id")
USER = Bounded(bounds.UserId, "Slack user id")
LABEL = Bounded(bounds.Label, "label")
DATE = Bounded(bounds.BoundedDate, "date", convert=_date)


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
    require_slack_credentials(settings)
    run(run_worker(settings, evaluate_every=evaluate_every, deliver_every=deliver_every))


def require_slack_credentials(settings: Settings) -> None:
    """The notifier posts with the single bot token, or with each workspace's OAuth installation."""
    if not settings.oauth_enabled:
        require(settings, "slack_bot_token")


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
        require_slack_credentials(settings)
    for line in run(run_once(settings, dry_run=dry_run)):
        click.echo(line)
    if failing := run(_failing_accounts(settings)):
        click.echo(
            f"{len(failing)} account(s) skipped, their evaluation failed: {', '.join(failing)} "
            "(myplan alerts status says why)",
            err=True,
        )


async def _failing_accounts(settings: Settings) -> list[str]:
    store = Store.from_url(settings.database_url)
    try:
        return [failure.account_id for failure in await store.alerts.failing_accounts()]
    finally:
        await store.close()


@alerts.command("status")
@with_store
async def alerts_status(store: Store) -> None:
    """List the accounts whose alert evaluation fails: why, and when it is tried next (exit 1 if any)."""
    failing = await store.alerts.failing_accounts()
    if not failing:
        click.echo("every account's alerts are being evaluated")
        return
    click.echo(f"{len(failing)} account(s) skipped by alert evaluation:")
    for failure in failing:
        click.echo(
            f"  {failure.account_id}: failed {failure.failures} time(s) in a row since "
            f"{_when(failure.first_failed_at)}, last at {_when(failure.last_failed_at)}: {failure.last_error}; "
            f"next try at {_when(failure.retry_at)}"
        )
    raise click.exceptions.Exit(1)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


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
@click.option(
    "--team", type=TEAM, default="T0DEMO", show_default=True, help="Slack workspace (team id) to link."
)
@click.option(
    "--admin",
    type=USER,
    default="U0DEMOADMIN",
    show_default=True,
    help="Slack user id to make administrator.",
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
    table = await store.rates.current_info()
    if table is not None and table.sample:
        click.echo(f"sample rate table is current (version {table.version}): {table.label}")
    elif table is not None:
        click.echo(f"kept the imported rate table (version {table.version}, {table.label!r})")


@cli.command()
@click.argument("team", type=TEAM)
@click.argument("account", type=ACCOUNT)
@with_store
async def link(store: Store, team: str, account: str) -> None:
    """Link Slack workspace TEAM (team id) to service account ACCOUNT."""
    await store.workspaces.link(team, account, by="myplan link")
    click.echo(f"workspace {team} is linked to account {account}")


@cli.command("link-code")
@click.argument("account", type=ACCOUNT)
@with_store
async def link_code(store: Store, account: str) -> None:
    """Issue a one-time code that links a Slack workspace to ACCOUNT (a workspace admin runs /plan link CODE)."""
    from bot.linking.codes import issue_link_code

    issued = await issue_link_code(store, account, by="myplan link-code")
    expires = issued.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"link code for account {account}: {issued.code} (works once, until {expires})")
    click.echo(f"In Slack, a workspace owner or admin runs: /plan link {issued.code}")


@cli.group()
def admins() -> None:
    """Administrators of a service account (Slack user ids)."""


@admins.command("add")
@click.argument("account", type=ACCOUNT)
@click.argument("user", type=USER)
@with_store
async def admins_add(store: Store, account: str, user: str) -> None:
    """Make USER an administrator of ACCOUNT."""
    added = await store.admins.add(account, user, by="myplan admins")
    click.echo(f"{user} is {'now' if added else 'already'} an administrator of {account}")


@admins.command("remove")
@click.argument("account", type=ACCOUNT)
@click.argument("user", type=USER)
@with_store
async def admins_remove(store: Store, account: str, user: str) -> None:
    """Remove USER from ACCOUNT's administrators."""
    removed = await store.admins.remove(account, user)
    click.echo(f"{user} {'removed from' if removed else 'was not one of'} the administrators of {account}")


@admins.command("list")
@click.argument("account", type=ACCOUNT)
@with_store
async def admins_list(store: Store, account: str) -> None:
    """List ACCOUNT's administrators."""
    if not await store.accounts.exists(account):
        raise NotFound(f"account {account!r}")
    for user in await store.admins.list(account):
        click.echo(user)


def _read_rate_file(file: BinaryIO) -> list[RateRow]:
    """Every row of a rate CSV, or a ClickException listing each bad line (and nothing is imported)."""
    from bot.rates import RateFileError, parse_csv

    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise click.ClickException(
            f"{file.name} is not UTF-8 text (byte {error.start}); save it as CSV UTF-8"
        ) from None
    try:
        return parse_csv(text)
    except RateFileError as error:
        lines = "\n".join(f"  line {line}: {reason}" for line, reason in error.problems)
        raise click.ClickException(
            f"{file.name} was rejected, nothing was imported ({len(error.problems)} problem"
            f"{'s' if len(error.problems) != 1 else ''}):\n{lines}"
        ) from None


def _label_of(file: BinaryIO) -> str:
    """The file's name as the version's label, unless it cannot be one (a line break in it, say)."""
    name = Path(file.name).name[: bounds.MAX_LABEL]
    try:
        return str(bounds.check(bounds.Label, name))
    except bounds.OutOfBounds:
        return "Rate table"


@cli.command("import-rates")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--effective-date",
    type=DATE,
    default=None,
    help="Date the rates take effect, YYYY-MM-DD, from 2000 to 2099 (default: today).",
)
@click.option(
    "--label", type=LABEL, default=None, help="A name for this version, one line (default: the file name)."
)
@click.option(
    "--notify/--no-notify",
    default=True,
    show_default=True,
    help="Post the changes to each linked account's alerts channel (needs SLACK_BOT_TOKEN).",
)
@with_store
async def import_rates_command(
    store: Store, file: BinaryIO, effective_date: date | None, label: str | None, notify: bool
) -> None:
    """Import FILE.csv ("-" for stdin) as the new rate table; the previous version is kept.

    The header must be dial_code,iso_code,destination,landline_per_min,mobile_per_min,sms_per_message
    (rates in USD). Every line is checked first: a bad file is rejected whole, listing each problem.
    """
    from handlers.rates.announce import import_rates
    from handlers.slack_clients import build_client, single_client
    from store.clock import utcnow

    rows = _read_rate_file(file)
    settings = settings_from(click.get_current_context())
    client_for_team = None
    if notify and settings.slack_bot_token is not None:
        client_for_team = single_client(build_client(settings))
    outcome = await import_rates(
        store,
        rows,
        effective_date=effective_date or utcnow().date(),
        label=label or _label_of(file),
        client_for_team=client_for_team,
    )
    table, changes = outcome.imported.table, outcome.imported.changes
    if not outcome.imported.created:
        click.echo(f"rate table version {table.version} already has exactly these rates: nothing imported")
        return
    click.echo(
        f"imported rate table version {table.version}: {len(rows)} destinations, "
        f"effective {table.effective_date.isoformat()}, label {table.label!r}"
    )
    if outcome.imported.previous is not None:
        click.echo(
            f"changes from version {outcome.imported.previous.version}: {len(changes.added)} added, "
            f"{len(changes.removed)} removed, {len(changes.increased)} rates up, {len(changes.decreased)} down"
        )
    if notify and client_for_team is None and not changes.is_empty:
        click.echo("SLACK_BOT_TOKEN is not set: alerts channels were not told about the changes")
    if outcome.announced:
        click.echo(f"announced the changes in {len(outcome.announced)} alerts channel(s)")
    for target, reason in outcome.failed:
        click.echo(
            f"could not announce in {target.channel} (account {target.account_id}): {reason}", err=True
        )


@cli.command("export-rates")
@click.option(
    "--output", "-o", type=click.File("wb"), default="-", help="File to write (default: standard output)."
)
@click.option(
    "--version",
    "version",
    type=click.IntRange(1, bounds.MAX_COUNT),
    default=None,
    help="An older version (default: the current).",
)
@with_store
async def export_rates_command(store: Store, output: BinaryIO, version: int | None) -> None:
    """Write the rate table as CSV, exactly as import-rates reads it."""
    from bot.rates import to_csv

    table = await store.rates.table(version)
    if table is None:
        raise click.ClickException(
            "no rate table has been imported yet"
            if version is None
            else f"there is no rate table version {version}"
        )
    output.write(to_csv(table.rows).encode("utf-8"))
    output.flush()


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
        code = cli.main(standalone_mode=False)  # an Exit raised by a command comes back as its code
        if isinstance(code, int) and code != 0:
            sys.exit(code)
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
    except ImportConflict as error:
        sys.exit(f"myplan: {error}")
