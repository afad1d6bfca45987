"""Importing a rate table, the one path for the CLI and the ingest API, and announcing what changed.

`import_rates` checks the rows as a whole (known regions, no duplicate destination), stores them as the
new current version (all or nothing), and posts a summary of the changes to every linked account's
alerts channel. A retried import of the same table creates nothing and announces nothing.

An account with traffic in the 30 days before the import gets, in the same message, what the new rates
would change in its bill (`bot.traffic.impact`): one message per channel, so the account's own figure sits
under the headline, is in the notification text, and cannot arrive without the notice (or the notice
without it, as a second post in a thread could). If the projection cannot be made, the notice goes
without it, as before, and the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.plan.usage import CENT, quantity
from bot.rates import format_usd
from bot.rates.csvio import RateFileError, check_rows
from bot.traffic.impact import (
    WINDOW,
    ComparedTables,
    DestinationImpact,
    Impact,
    compared_tables,
    rate_change_impact,
)
from handlers.messages import Message, escape, money, slack_date, truncate
from handlers.rates.ids import Block as BlockId
from handlers.rates.views import BILLING_NOTE, KIND_LABELS, MAX_NAMES_SHOWN, flag
from handlers.slack_clients import ClientForTeam
from store import Store
from store.clock import utcnow
from store.domain.rates import AlertsTarget, RateChange, RateImport, RateRow

log = logging.getLogger(__name__)

MAX_INCREASES_SHOWN = 5
MAX_IMPACTS_SHOWN: Final = 5
"""Destinations shown in an account's projected change (and in each list of what is not projected)."""
UNITS: Final = {"voice": ("min", "min"), "sms": ("message", "messages")}
MINUS: Final = "\u2212"


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
    now: datetime | None = None,
) -> ImportOutcome:
    """Check, store and announce a rate table. Raises `RateFileError` (nothing stored) if the rows are bad.

    Rows from a CSV file come from `parse_csv`; rows from JSON are `RateRow`s already. `client_for_team`
    None stores without announcing (e.g. no Slack token configured). `now` is the import's time (default:
    the clock), which the projected changes are counted back from.
    """
    problems = check_rows(rows)
    if problems:
        raise RateFileError(problems)
    imported = await store.rates.import_table(
        rows, effective_date=effective_date, label=label, sample=sample, now=now
    )
    if client_for_team is None or not imported.created or imported.changes.is_empty:
        return ImportOutcome(imported)
    announced, failed = await announce_changes(store, imported, client_for_team, now=now)
    return ImportOutcome(imported, announced, failed)


async def announce_changes(
    store: Store, imported: RateImport, client_for_team: ClientForTeam, *, now: datetime | None = None
) -> tuple[list[AlertsTarget], list[tuple[AlertsTarget, str]]]:
    """Post the summary to each alerts channel, with the account's projected change when it has traffic in
    the 30 days to `now` (default: the import's own time); one channel failing does not stop the others."""
    plain = rate_changes_message(imported)
    projector = _Projector(store, imported, _moment(now, imported))
    announced: list[AlertsTarget] = []
    failed: list[tuple[AlertsTarget, str]] = []
    for target in await store.rates.alerts_targets():
        client = await client_for_team(target.team_id)
        if client is None:
            failed.append((target, f"no Slack token for workspace {target.team_id}"))
            continue
        impact = await projector.impact(target.account_id)
        message = rate_changes_message(imported, impact) if impact is not None else plain
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


def _moment(now: datetime | None, imported: RateImport) -> datetime:
    moment = now or imported.table.imported_at or utcnow()
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _Projector:
    """Each account's projected change from one import: the tables read once, for the first account with
    traffic; accounts without traffic in the window cost no query of their own."""

    def __init__(self, store: Store, imported: RateImport, now: datetime) -> None:
        self._store, self._imported, self._now = store, imported, now
        self._with_traffic: set[str] | None = None
        self._tables: ComparedTables | None = None

    async def impact(self, account_id: str) -> Impact | None:
        """None when the account has no traffic in the window, or when the projection failed (logged: the
        notice then goes without it, as it did before projections)."""
        try:
            if self._with_traffic is None:
                found = await self._store.traffic.accounts_with_traffic(self._now - WINDOW, self._now)
                self._with_traffic = set(found)
            if account_id not in self._with_traffic:
                return None
            if self._tables is None:
                self._tables = await compared_tables(self._store, self._imported)
            impact = await rate_change_impact(
                self._store, account_id, self._imported, self._now, tables=self._tables
            )
        except Exception:  # an addition to the notice: logged with its traceback, the notice still goes
            log.exception("rate change impact for %s not projected; the notice goes without it", account_id)
            return None
        return impact if impact.has_traffic else None


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


def rate_changes_message(imported: RateImport, impact: Impact | None = None) -> Message:
    """Posted to each linked account's alerts channel after an import: counts, the account's projected
    change when it has traffic (`impact`), then the largest increases."""
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
    text = f"The rate table has been updated (version {table.version}): {counts}."
    if impact is not None:
        headline, lines = impact_lines(impact)
        blocks.append(
            SectionBlock(
                block_id=BlockId.RATES_IMPACT,
                text=MarkdownTextObject(text=truncate("\n".join([headline, *lines]), 3000)),
            )
        )
        text += " " + headline.replace("*", "")
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
    return Message(text=text, blocks=blocks)


# -- an account's projected change -----------------------------------------------------------------------


def signed_money(amount: Decimal) -> str:
    """`+USD 42.10`, `−USD 3.05`: rounded half-up to the cent (as invoices are), signed by the exact amount,
    so a change under half a cent still says which way it goes (`+USD 0.00`)."""
    sign = "+" if amount > 0 else MINUS if amount < 0 else ""
    return sign + money(abs(amount).quantize(CENT, rounding=ROUND_HALF_UP))


def impact_lines(impact: Impact) -> tuple[str, list[str]]:
    """The headline (bold parts in `*`), then a line per destination: the largest changes first, then what
    the projection leaves out (destinations the new table removed, traffic no table prices)."""
    days = WINDOW.days
    if impact.changed and impact.total:
        mostly = impact.mostly
        assert mostly is not None
        share = "all" if len(impact.changed) == 1 else "mostly"
        headline = (
            f"*For your account: {signed_money(impact.total)} a month*, {share} {_name(mostly, bold=False)}, "
            f"projected from its last {days} days of traffic at the new rates."
        )
    elif impact.changed:
        headline = (
            f"*For your account: no net change* — on its last {days} days of traffic, the rises and falls "
            "below cancel out."
        )
    elif impact.unchanged:
        which = "that both tables price " if impact.not_projected else ""
        headline = (
            f":white_check_mark: *For your account: no change* — the destinations {which}of its last {days} "
            "days of traffic cost the same at the new rates."
        )
    else:
        headline = (
            f"*For your account: nothing to project* — none of its last {days} days of traffic went to "
            "destinations priced by both tables."
        )
    lines = [_impact_line(d) for d in impact.changed[:MAX_IMPACTS_SHOWN]]
    rest = impact.changed[MAX_IMPACTS_SHOWN:]
    if rest:
        together = sum((d.change for d in rest), Decimal(0))
        lines.append(f"• {len(rest)} more destination{_s(len(rest))}: {signed_money(together)} together")
    removed = impact.removed
    if removed:
        lines.append(
            "*No longer in the rate table*, so not in the projection: "
            + _listed([f"{_name(d)} ({_used(d)})" for d in removed])
        )
    others = [d for d in impact.not_projected if d.reason != "removed"]
    if others:
        lines.append("*Not in the projection:* " + _listed([_left_out(d) for d in others]))
    return headline, lines


def _impact_line(impact: DestinationImpact) -> str:
    assert impact.old_rate is not None
    assert impact.new_rate is not None
    return (
        f"• {_name(impact)}: *{signed_money(impact.change)}* · {_amount(impact)} at "
        f"{format_usd(impact.old_rate)} → {format_usd(impact.new_rate)}"
    )


def _name(impact: DestinationImpact, *, bold: bool = True) -> str:
    """`🇬🇧 *United Kingdom* mobile`, `*Hong Kong* SMS`; `+881` for traffic matched to no entry."""
    place = escape(impact.place)
    kind = "SMS" if impact.kind == "sms" else impact.priced_as or ""
    if not bold:
        return f"{place} {kind}".rstrip()
    flagged = f"{flag(impact.iso_code)} " if impact.iso_code and flag(impact.iso_code) else ""
    return f"{flagged}*{place}*" + (f" {kind}" if kind else "")


def _amount(impact: DestinationImpact) -> str:
    """`2,000 min`, `1 message`, `300 messages`."""
    singular, plural = UNITS[impact.kind]
    return f"{quantity(impact.quantity)} {singular if impact.quantity == 1 else plural}"


def _used(impact: DestinationImpact) -> str:
    return f"{_amount(impact)}, {money(impact.cost)} in the last {WINDOW.days} days"


def _left_out(impact: DestinationImpact) -> str:
    why = "not priced" if impact.reason == "unpriced" else "not in the previous table"
    return f"{_amount(impact)} to {_name(impact)} ({why})"


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:MAX_IMPACTS_SHOWN])
    more = len(items) - MAX_IMPACTS_SHOWN
    return shown + (f"; and {more} more" if more > 0 else "") + "."


def _s(count: int) -> str:
    return "s" if count != 1 else ""
