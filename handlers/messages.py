"""Messages and formatting shared by every view builder: the `Message` type, money, quantities, dates
as each reader's own time zone, usage bars, mrkdwn escaping, and the short notices every surface uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.plan.usage import is_high, quantity, usage_bar, whole_percent
from bot.plan.usage import money as money
from handlers.limits import MAX_MESSAGE_BLOCKS, MAX_MESSAGE_TEXT, fitted
from handlers.limits import truncate as truncate

INVOICE_NOTE = (
    "Figures may not be updated in real time. Your monthly invoice is authoritative for usage and fees."
)


@dataclass(frozen=True)
class Message:
    """A Slack message: fallback text plus blocks, ready for respond() or chat.postMessage."""

    text: str
    blocks: Sequence[Block] = field(default_factory=tuple)
    response_type: Literal["ephemeral", "in_channel"] = "ephemeral"

    def as_kwargs(self) -> dict[str, Any]:
        """Within Block Kit's limits whatever text went in (`handlers.limits`)."""
        blocks = [fitted(block).to_dict() for block in self.blocks[:MAX_MESSAGE_BLOCKS]]
        return {"text": truncate(self.text, MAX_MESSAGE_TEXT), "blocks": blocks}

    def as_response(self, *, replace_original: bool = False) -> dict[str, Any]:
        return {**self.as_kwargs(), "response_type": self.response_type, "replace_original": replace_original}


def slack_datetime(moment: datetime, token: str = "{date_short_pretty} at {time}") -> str:
    """A time each reader sees in their own time zone."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"


def slack_date(day: date) -> str:
    """A calendar date via Slack's date formatting. Noon UTC keeps the same day for every UTC−12…+11 reader."""
    noon = datetime.combine(day, time(12), tzinfo=UTC)
    return f"<!date^{int(noon.timestamp())}^{{date_long_pretty}}|{day.isoformat()}>"


def usage_line(used: Decimal | int, available: Decimal | int, unit: str, percent: Decimal | None) -> str:
    """`▰▰▰▰▱▱▱▱▱▱ 42% · 2,100 of 5,000 min used`, flagged when high."""
    if percent is None:
        return f"{quantity(used)} {unit} used"
    flag = " :warning:" if is_high(percent) else ""
    return f"`{usage_bar(percent)}` {whole_percent(percent)}%{flag} · {quantity(used)} of {quantity(available)} {unit}"


def as_of_context(as_of: datetime, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(
        block_id=block_id,
        elements=[
            MarkdownTextObject(
                text=f":information_source: Data as of {slack_datetime(as_of)}. {INVOICE_NOTE}"
            )
        ],
    )


def escape(text: str) -> str:
    """Text typed by users, made safe for mrkdwn: no `<!channel>` pings or forged links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def not_linked_message(team_id: str) -> Message:
    text = (
        "This Slack workspace isn't linked to a My Plan service account yet.\n"
        "Ask your maaiiconnect administrator for a link code and run `/plan link CODE`, "
        f"or have the operator run `myplan link {team_id} ACCOUNT_ID`."
    )
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":link: {text}"))])


def unavailable_message() -> Message:
    text = (
        "My Plan is temporarily unavailable — its data store can't be reached. Please try again in a minute."
    )
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":hourglass: {text}"))])


def failure_message() -> Message:
    text = "Sorry, something went wrong on our side and it has been logged. Please try again."
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":warning: {text}"))])


def plain(text: str, emoji: str = "") -> Message:
    shown = f"{emoji} {text}" if emoji else text
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=shown))])


def notice_modal(message: Message, title: str = "My Plan") -> View:
    """A modal that only explains something (replaces a modal whose submission could not be taken)."""
    return View(type="modal", title=title, close="Close", blocks=list(message.blocks))
