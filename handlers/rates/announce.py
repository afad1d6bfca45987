"""Importing a rate table, the one path for the CLI and the ingest API, and announcing what changed.

`import_rates` checks the rows as a whole (known regions, no duplicate destination), stores them as the
new current version (all or nothing), and posts a summary of the changes to every linked account's
alerts channel. A retried import of the same table creates nothing and announces nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.rates import format_usd
from bot.rates.csvio import RateFileError, check_rows
from handlers.messages import Message, escape, slack_date, truncate
from handlers.rates.ids import Block as BlockId
from handlers.rates.views import BILLING_NOTE, KIND_LABELS, MAX_NAMES_SHOWN, flag
from handlers.slack_clients import ClientForTeam
from store import Store
from store.domain.rates import AlertsTarget, RateChange, RateImport, RateRow

log = logging.getLogger(__name__)

MAX_INCREASES_SHOWN = 5


@dataclass(frozen=True)
class ImportOutcome:
    """The import, and which alerts channels were told about it (and which could not be, and why)."""

    imported: RateImport
    announced: list[AlertsTarget] = field(default_factory=list)
    failed: list[tuple[AlertsTarget, str]] = field(default_factory=list)


async def import_rates(
    store: Store,
    rows: Sequence[RateRow],
    *,
    effective_date: date,
    label: str,
    client_for_team: ClientForTeam | None,
    sample: bool = False,
) -> ImportOutcome:
    """Check, store and announce a rate table. Raises `RateFileError` (nothing stored) if the rows are bad.

    Rows from a CSV file come from `parse_csv`; rows from JSON are `RateRow`s already. `client_for_team`
    None stores without announcing (e.g. no Slack token configured).
    """
    problems = check_rows(rows)
    if problems:
        raise RateFileError(problems)
    imported = await store.rates.import_table(rows, effective_date=effective_date, label=label, sample=sample)
    if client_for_team is None or not imported.created or imported.changes.is_empty:
        return ImportOutcome(imported)
    announced, failed = await announce_changes(store, imported, client_for_team)
    return ImportOutcome(imported, announced, failed)


async def announce_changes(
    store: Store, imported: RateImport, client_for_team: ClientForTeam
) -> tuple[list[AlertsTarget], list[tuple[AlertsTarget, str]]]:
    """Post the summary to each alerts channel; one channel failing does not stop the others."""
    message = rate_changes_message(imported)
    announced: list[AlertsTarget] = []
    failed: list[tuple[AlertsTarget, str]] = []
    for target in await store.rates.alerts_targets():
        client = await client_for_team(target.team_id)
        if client is None:
            failed.append((target, f"no Slack token for workspace {target.team_id}"))
            continue
        try:
            await client.chat_postMessage(channel=target.channel, **message.as_kwargs())
        except SlackApiError as error:
            failed.append((target, str(error.response.get("error") or error)))
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
            failed.append((target, f"{type(error).__name__}: {error}"))
        else:
            announced.append(target)
    for target, reason in failed:
        log.warning("rate change not announced to %s (%s): %s", target.channel, target.account_id, reason)
    return announced, failed


def _change_line(change: RateChange) -> str:
    percent = f" (+{change.delta * 100 / change.old:.0f}%)" if change.old else ""
    return (
        f"• {flag(change.iso_code)} {escape(change.destination)} {KIND_LABELS[change.kind].lower()}: "
        f"{format_usd(change.old)} → *{format_usd(change.new)}*{percent}"
    )


def _names(rows: Sequence[RateRow]) -> str:
    names = ", ".join(escape(row.destination) for row in rows[:MAX_NAMES_SHOWN])
    return names + (f" and {len(rows) - MAX_NAMES_SHOWN} more" if len(rows) > MAX_NAMES_SHOWN else "")


def largest_increases(imported: RateImport, count: int = MAX_INCREASES_SHOWN) -> list[RateChange]:
    """Biggest rises first (by amount, then by share of the old rate), so the costliest news leads."""
    return sorted(
        imported.changes.increased,
        key=lambda c: (-c.delta, -(c.delta / c.old) if c.old else 0, c.destination),
    )[:count]


def rate_changes_message(imported: RateImport) -> Message:
    """Posted to each linked account's alerts channel after an import: counts, then the largest increases."""
    changes, table = imported.changes, imported.table
    counts = (
        f"{len(changes.added)} destination{'s' if len(changes.added) != 1 else ''} added, "
        f"{len(changes.removed)} removed, {len(changes.increased)} rate{'s' if len(changes.increased) != 1 else ''} up, "
        f"{len(changes.decreased)} down"
    )
    summary = (
        f":chart_with_upwards_trend: *The rate table has been updated* (version {table.version}, "
        f"effective {slack_date(table.effective_date)}): {counts}."
    )
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.RATES_CHANGES, text=MarkdownTextObject(text=summary))
    ]
    increases = largest_increases(imported)
    if increases:
        lines = ["*Largest increases*", *(_change_line(change) for change in increases)]
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    details = []
    if changes.added:
        details.append(f"Added: {_names(changes.added)}.")
    if changes.removed:
        details.append(f"Removed: {_names(changes.removed)}.")
    if details:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(details), 3000))))
    footer = f"All rates in USD. Look any destination or number up with `/rates`. {BILLING_NOTE}"
    if table.sample:
        footer += f" :test_tube: {escape(table.label)}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return Message(
        text=f"The rate table has been updated (version {table.version}): {counts}.", blocks=blocks
    )
