"""Importing a rate table, the one path for the CLI and the ingest API, and announcing what changed.

`import_rates` checks the rows as a whole (known regions, no duplicate destination), stores them as the
new current version (all or nothing), and posts a summary of the changes to every linked account's
alerts channel. A retried import of the same table creates nothing and announces nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.rates.csvio import RateFileError, check_rows
from bot.views.rates import rate_changes_message
from store import Store
from store.domain.rates import AlertsTarget, RateImport, RateRow

log = logging.getLogger(__name__)

ClientForTeam = Callable[[str], Awaitable[AsyncWebClient | None]]
"""The Web API client that may post in a workspace (None: the app has no token for it)."""


@dataclass(frozen=True)
class ImportOutcome:
    """The import, and which alerts channels were told about it (and which could not be, and why)."""

    imported: RateImport
    announced: list[AlertsTarget] = field(default_factory=list)
    failed: list[tuple[AlertsTarget, str]] = field(default_factory=list)


def single_client(client: AsyncWebClient) -> ClientForTeam:
    """For a single-workspace install: one bot token posts everywhere."""

    async def client_for(team_id: str) -> AsyncWebClient:
        return client

    return client_for


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
