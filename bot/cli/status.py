"""`myplan status`: one screen for the operator, and an exit code a monitor can act on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import click

from bot.cli.common import cli, run, settings_from

if TYPE_CHECKING:
    from store.status import Outbox, Status

STALE: Final = timedelta(minutes=5)
"""A worker pass, or the oldest due alert, older than this needs attention (the worker passes every minute
and delivers every second)."""
PRUNE_LATE: Final = timedelta(days=2)
"""A running worker begins a prune every day: one not begun for this long needs attention."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print it as one JSON object, for scripts.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Database, installations, accounts, outboxes, the worker's last pass and Sales deliveries; exit 1
    when something needs attention (each thing is named)."""
    settings = settings_from(ctx)

    from store.clock import utcnow

    now = utcnow()

    async def read() -> tuple[str | None, str, Status]:
        from store.migrate import current_revision, head_revision

        store = settings.open_store()
        try:
            revision = await current_revision(store.db.engine)
            found = await store.status.read(now, oauth=settings.oauth_enabled)
        finally:
            await store.close()
        return revision, head_revision(), found

    revision, head, found = run(read())
    attention = needs_attention(revision, head, found, now)
    if as_json:
        document = {
            "database": {"revision": revision, "head": head},
            **found.model_dump(mode="json"),
            "attention": attention,
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo("\n".join(report(revision, head, found, now, attention)))
    if attention:
        raise click.exceptions.Exit(1)


def needs_attention(revision: str | None, head: str, found: Status, now: datetime) -> list[str]:
    """What an operator should act on, one line each; empty when all is well."""
    problems = []
    if revision != head:
        problems.append(
            f"the database is at revision {revision or 'none'}, the code needs {head}: myplan db upgrade"
        )
    if found.failing:
        problems.append(
            f"{len(found.failing)} account(s) whose alert evaluation fails (myplan alerts status)"
        )
    for name, outbox in (("alerts", found.alerts), ("spike alerts", found.spike_alerts)):
        if outbox.failed_last_day:
            problems.append(f"{outbox.failed_last_day} {name} failed in the last day")
        if outbox.oldest_due_at is not None and now - outbox.oldest_due_at > STALE:
            problems.append(f"{name} due since {_when(outbox.oldest_due_at)}: is a worker running?")
    last = found.last_evaluation_pass
    if last is None:
        problems.append("no worker pass yet: is `myplan worker` running?")
    elif now - last > STALE:
        problems.append(f"the worker's last pass was at {_when(last)}: is `myplan worker` running?")
    if last is not None and (found.last_prune is None or now - found.last_prune > PRUNE_LATE):
        began = f"last began at {_when(found.last_prune)}" if found.last_prune else "has not run"
        problems.append(f"the worker's daily prune {began}: data is kept past its retention (myplan prune)")
    if found.installations.linked_not_installed:
        teams = ", ".join(found.installations.linked_not_installed)
        problems.append(f"linked workspaces without an installation (uninstalled or revoked): {teams}")
    if found.failed_sales_deliveries:
        problems.append(f"{len(found.failed_sales_deliveries)} upgrade request(s) that did not reach Sales")
    return problems


def report(revision: str | None, head: str, found: Status, now: datetime, attention: list[str]) -> list[str]:
    installs = found.installations
    last = found.last_evaluation_pass
    lines = [
        f"My Plan status, {_when(now)}",
        f"database        revision {revision or 'none'}"
        + (" (current)" if revision == head else f" (the code needs {head})"),
        f"accounts        {found.accounts:,}: {found.linked:,} linked, {found.without_alerts_channel:,} without an alerts channel",
        *(
            f"  failing       {f.account_id}: {f.failures} failure(s) since {_when(f.since)}: {f.last_error}"
            for f in found.failing
        ),
        f"installations   {installs.workspaces:,} workspace(s); rotating tokens expired {installs.expired} (refreshed on "
        f"next use), expiring within a day {installs.expiring_within_a_day}",
        f"alerts          {_outbox(found.alerts, now)}",
        f"spike alerts    {_outbox(found.spike_alerts, now)}",
        f"worker          last pass {_when(last) + f' ({_ago(now - last)} ago)' if last else 'never'}",
        f"retention       last prune began {_when(found.last_prune) if found.last_prune else 'never'}",
        f"sales           {len(found.failed_sales_deliveries)} failed deliveries"
        + (f": {', '.join(found.failed_sales_deliveries)}" if found.failed_sales_deliveries else ""),
    ]
    if installs.linked_not_installed:
        lines.insert(5, f"  not installed {', '.join(installs.linked_not_installed)}")
    lines.append("")
    lines += ["needs attention:", *(f"  - {line}" for line in attention)] if attention else ["all well"]
    return lines


def _outbox(outbox: Outbox, now: datetime) -> str:
    oldest = f" (oldest {_ago(now - outbox.oldest_due_at)})" if outbox.oldest_due_at is not None else ""
    return (
        f"due {outbox.due}{oldest}, leased {outbox.leased}, failed in the last day {outbox.failed_last_day}"
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(span: timedelta) -> str:
    seconds = max(int(span.total_seconds()), 0)
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
