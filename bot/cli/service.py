"""Running the service: `serve`, `worker`, `alerts`, `db upgrade`, `demo`, `try`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from bot.cli.common import (
    TEAM,
    USER,
    cli,
    require_migrated,
    require_slack_credentials,
    run,
    settings_from,
    with_store,
)

if TYPE_CHECKING:
    from bot.settings import Settings
    from store import Store


@cli.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the web server (Slack requests, health check); Socket Mode when SLACK_APP_TOKEN is set."""
    from bot.runner import serve as serve_forever

    settings = settings_from(ctx)
    require_migrated(settings)
    serve_forever(settings)


@cli.command()
@click.option(
    "--evaluate-every",
    default=60.0,
    show_default=True,
    help="Seconds between evaluation passes (over the accounts whose evaluation is due).",
)
@click.option("--deliver-every", default=1.0, show_default=True, help="Seconds between delivery passes.")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics (default: not served).",
)
@click.pass_context
def worker(ctx: click.Context, evaluate_every: float, deliver_every: float, metrics_port: int | None) -> None:
    """Run the notifier: evaluate quota alerts on an interval and post them to Slack."""
    from bot.worker import run_worker

    settings = settings_from(ctx)
    require_slack_credentials(settings)
    require_migrated(settings)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1")
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

    store = settings.open_store()
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
    from store.migrate import head_revision, upgrade_url

    applied = run(upgrade_url(settings_from(ctx).database_url))
    head = head_revision()
    if applied:
        click.echo(
            f"applied {applied} migration{'s' if applied != 1 else ''}: the database is at revision {head}"
        )
    else:
        click.echo(f"the database is already at revision {head}: no migrations to apply")


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


@cli.command("try")
@click.argument("command_text")
@click.option("--team", default="T0DEMO", show_default=True)
@click.option("--user", default="U0DEMOADMIN", show_default=True)
@click.pass_context
def try_command(ctx: click.Context, command_text: str, team: str, user: str) -> None:
    """Send COMMAND_TEXT (e.g. "/plan") through the real app to a local fake Slack and print the reply."""
    from bot.devtools.try_slack import try_slash_command

    require_migrated(settings_from(ctx))
    click.echo(run(try_slash_command(settings_from(ctx), command_text, team_id=team, user_id=user)))
