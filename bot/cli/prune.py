"""`myplan prune [--dry-run]`: the retention policy applied now (the worker applies it once a day)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli.common import cli, require_migrated, run, settings_from

if TYPE_CHECKING:
    from bot.retention.prune import PruneReport
    from bot.settings import Settings


@cli.command()
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.pass_context
def prune(ctx: click.Context, dry_run: bool) -> None:
    """Apply the retention policy (the RETAIN_* settings) now, in bounded batches: roll old usage readings
    up to one a day and remove older ones, compact old alerts, remove old traffic and audit entries. Exit 1
    when some account could not be pruned (each is named; the rest were)."""
    from bot.retention.policy import RetentionPolicy

    settings = settings_from(ctx)
    require_migrated(settings)
    report = run(_prune(settings, dry_run=dry_run))
    click.echo("\n".join(report.lines(RetentionPolicy.from_settings(settings))))
    if report.failed_accounts:
        raise click.exceptions.Exit(1)


async def _prune(settings: Settings, *, dry_run: bool) -> PruneReport:
    from bot.retention.policy import RetentionPolicy
    from bot.retention.prune import prune as apply
    from store.clock import utcnow

    store = settings.open_store()
    try:
        return await apply(store, RetentionPolicy.from_settings(settings), utcnow(), dry_run=dry_run)
    finally:
        await store.close()
