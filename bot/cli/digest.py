"""`myplan digest send ACCOUNT [--dry-run]`: the weekly digest of the seven days to now, at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli.common import ACCOUNT, cli, require_slack_credentials, run, settings_from

if TYPE_CHECKING:
    from bot.settings import Settings


@cli.group()
def digest() -> None:
    """The weekly digest (sent by `myplan worker` on each account's day and hour)."""


@digest.command("send")
@click.argument("account", type=ACCOUNT)
@click.option("--dry-run", is_flag=True, help="Print the digest and where it would go; post nothing.")
@click.pass_context
def digest_send(ctx: click.Context, account: str, dry_run: bool) -> None:
    """Send ACCOUNT's weekly digest (the seven days to now) to its alerts channel now. An extra copy: the
    scheduled digest still goes out on its day."""
    settings = settings_from(ctx)
    if not dry_run:
        require_slack_credentials(settings)
    click.echo(run(_send(settings, account, dry_run=dry_run)))


async def _send(settings: Settings, account: str, *, dry_run: bool) -> str:
    from handlers.digest.service import DigestService
    from handlers.slack_clients import SlackClients

    store = settings.open_store()
    try:
        service = DigestService(store, SlackClients.for_settings(settings, store).client_for_team)
        return await (service.preview(account) if dry_run else service.send_now(account))
    finally:
        await store.close()
