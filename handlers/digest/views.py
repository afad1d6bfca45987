"""The weekly digest message: each allowance with its bar and forecast, what changed since last week, and
where the burn-down chart is; and the same as plain text (`myplan digest send --dry-run`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.digest.changes import RateUpdate, WeekChanges
from bot.digest.schedule import DigestWeek
from bot.plan.usage import quantity
from bot.upgrade.summary import wanted
from handlers.alerts.views import allowances_text
from handlers.digest.ids import Block as BlockId
from handlers.messages import INVOICE_NOTE, Message, escape, slack_date, slack_datetime, truncate
from store.domain.alerts import Forecast
from store.domain.digests import FeatureStatusSince
from store.domain.plan import FeatureKey, Meter, PlanSnapshot
from store.domain.upgrades import UpgradeRequest

MAX_SECTION_CHARS: Final = 3000
MAX_HEADER_CHARS: Final = 150
_SLACK_DATE: Final = re.compile(r"<!date\^[^|>]*\|([^>]*)>")


def digest_message(
    plan: PlanSnapshot,
    forecasts: Mapping[Meter, Forecast | None],
    changes: WeekChanges,
    week: DigestWeek,
    *,
    chart: bool,
    note: str = "",
) -> Message:
    """The digest: a header naming the company and the week, the allowances, the week's changes, and a
    footer (the chart is in the thread when `chart`; `note`, e.g. why it came by DM)."""
    company = plan.account.company_name
    blocks: list[Block] = [
        HeaderBlock(
            block_id=BlockId.DIGEST_HEADER, text=truncate(f"Weekly digest: {company}", MAX_HEADER_CHARS)
        ),
        week_context(week),
        _section(BlockId.DIGEST_ALLOWANCES, allowances_text(plan, forecasts)),
        changes_section(changes, week),
    ]
    footer = [note] if note else []
    if chart:
        footer.append("The burn-down chart is in the thread.")
    footer.append(f"Data as of {slack_datetime(plan.account.data_as_of)}. {INVOICE_NOTE}")
    blocks.append(
        ContextBlock(block_id=BlockId.DIGEST_NOTE, elements=[MarkdownTextObject(text=" ".join(footer))])
    )
    return Message(
        text=f"Weekly digest for {company}, the week to {week.week.isoformat()}",
        blocks=blocks,
        response_type="in_channel",
    )


def week_context(week: DigestWeek) -> ContextBlock:
    """Which week: from and to, in each reader's time zone."""
    return ContextBlock(
        block_id=BlockId.DIGEST_WEEK,
        elements=[
            MarkdownTextObject(
                text=f":calendar: The week from {slack_datetime(week.since)} to {slack_datetime(week.until)}"
            )
        ],
    )


def changes_section(changes: WeekChanges, week: DigestWeek) -> SectionBlock:
    """What changed in the week (also the answer to "what changed this week?")."""
    return _section(BlockId.DIGEST_CHANGES, _changes_text(changes, week))


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=truncate(text, MAX_SECTION_CHARS)))


def _changes_text(changes: WeekChanges, week: DigestWeek) -> str:
    lines = ["*What changed since last week*"]
    lines += [
        f"• {meter.label}: {quantity(amount)} {meter.unit} used this week"
        for meter, amount in changes.usage_added.items()
    ]
    lines += [_feature_line(feature) for feature in changes.features]
    lines += [_upgrade_line(request, week) for request in changes.upgrades]
    lines += [_rates_line(update) for update in changes.rates]
    if changes.is_quiet:
        lines.append("Nothing changed: no usage, feature, request or rate changes this week.")
    return "\n".join(lines)


def _feature_line(feature: FeatureStatusSince) -> str:
    known = {key.value: key for key in FeatureKey}
    name = known[feature.key].info.name if feature.key in known else feature.key
    return f"• {name} is now *{feature.status.capitalize()}* (since {slack_datetime(feature.since)})"


def _upgrade_line(request: UpgradeRequest, week: DigestWeek) -> str:
    def within(moment: datetime | None) -> bool:
        return moment is not None and week.since <= moment < week.until

    steps = []
    if within(request.created_at):
        steps.append(f"opened by <@{request.requested_by}>")
    if within(request.acknowledged_at):
        steps.append(f"acknowledged by <@{request.acknowledged_by}>")
    if within(request.done_at):
        steps.append(f"done by <@{request.done_by}>")
    return f"• Request *{escape(wanted(request))}* (`{request.id}`): {', '.join(steps)}"


def _rates_line(update: RateUpdate) -> str:
    changes, table = update.changes, update.table
    counts = (
        f"{len(changes.added)} destination{'s' if len(changes.added) != 1 else ''} added, "
        f"{len(changes.removed)} removed, {len(changes.increased)} rate{'s' if len(changes.increased) != 1 else ''} "
        f"up, {len(changes.decreased)} down"
    )
    return f"• Rate table version {table.version} took effect on {slack_date(table.effective_date)}: {counts}"


def digest_text(message: Message) -> str:
    """The digest as plain text, block by block as it will be posted (dates as their UTC fallbacks)."""
    parts: list[str] = []
    for block in message.blocks:
        if isinstance(block, HeaderBlock) and block.text is not None:
            parts.append(block.text.text)
        elif isinstance(block, SectionBlock) and block.text is not None:
            parts.append(_plain(block.text.text))
        elif isinstance(block, ContextBlock):
            parts.append(" ".join(_plain(getattr(e, "text", "")) for e in block.elements))
    return "\n\n".join(parts)


def _plain(mrkdwn: str) -> str:
    return _SLACK_DATE.sub(r"\1", mrkdwn).replace("*", "")
