"""Rate tables: `import-rates` and `export-rates`. An import is announced in the linked accounts' alerts
channels by the same code as the ingest API's, with each workspace's own token (OAuth or the bot token)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from bot.cli.common import DATE, LABEL, VERSION, cli, settings_from, with_store

if TYPE_CHECKING:
    from store import Store
    from store.domain.rates import RateRow


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
    from bot.core import bounds

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
    help="Post the changes to each linked account's alerts channel.",
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
    from handlers.slack_clients import SlackClients
    from store.clock import utcnow

    rows = _read_rate_file(file)
    settings = settings_from(click.get_current_context())
    slack_configured = settings.oauth_enabled or settings.slack_bot_token is not None
    client_for_team = None
    if notify and slack_configured:
        client_for_team = SlackClients.for_settings(settings, store).client_for_team
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
        click.echo("Slack is not configured: alerts channels were not told about the changes")
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
    type=VERSION,
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
