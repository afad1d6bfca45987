"""Campaign views: the modal, and the answer (ephemeral with Share, or the shared copy).

The answer is drawn from a `CampaignSummary`, which is also what Share carries in its value: the priced
list is not kept anywhere, so the shared copy is the same answer drawn again. A summary is bounded (the ten
most expensive destinations, the first ten invalid lines, short texts) to fit Slack's 2,000 characters of a
button value.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Final

from pydantic import ConfigDict, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from bot.campaign.recipients import (
    FILE_FIELD,
    MAX_FILE_MB,
    MAX_MESSAGE_CHARS,
    MAX_PASTED_CHARS,
    MAX_RECIPIENTS,
    MESSAGE_FIELD,
    PASTED_FIELD,
)
from bot.campaign.results import CampaignQuote, DestinationQuote, PeriodSpend
from bot.campaign.segments import PER_PART, SINGLE, Encoding
from bot.rates import UnpricedKind, format_usd
from handlers.campaign.form import CampaignMetadata
from handlers.campaign.ids import Action, Callback
from handlers.campaign.ids import Block as BlockId
from handlers.messages import Message, escape, money, slack_date, truncate
from handlers.payloads import Payload
from handlers.rates.views import flag
from store.domain.rates import RateTableInfo

MAX_DESTINATIONS_SHOWN: Final = 10
MAX_INVALID_SHOWN: Final = 10
MAX_NAME: Final = 32
MAX_LINE_TEXT: Final = 20
MAX_SEGMENTS_AS_ONE: Final = 10
"""Many carriers reassemble at most this many segments into one message."""
COMMAND: Final = "/rates campaign"

Count = Annotated[int, Field(ge=0, le=10**9)]

UNPRICED_LABELS: Final[dict[UnpricedKind, str]] = {
    "toll_free": "toll-free",
    "premium": "premium-rate",
    "shared_cost": "shared-cost",
    "uan": "universal access",
    "voicemail": "voicemail",
    "voip": "VoIP",
    "personal": "personal (follow-me)",
    "pager": "pager",
    "non_geographic": "international non-geographic",
    "unknown": "of no known type",
    "no_rate": "with no rate in the table",
}


# -- the modal ---------------------------------------------------------------------------------------------


def campaign_modal(metadata: CampaignMetadata, country: str | None) -> View:
    """Recipients (a file, or pasted numbers) and the message; national numbers are read in `country`."""
    national = (
        f"Numbers without a country code are read as numbers of your account's country ({country})."
        if country
        else "Write each number with its country code (+44 20 7946 0018)."
    )
    intro = (
        "*What will an SMS campaign cost?* Give me the recipients — upload a file *or* paste the numbers — "
        "and the message. I count its segments and price every recipient at the current rate table's SMS "
        f"rates. Up to {MAX_RECIPIENTS:,} numbers; nothing is sent."
    )
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.CAMPAIGN_INTRO, text=MarkdownTextObject(text=intro)),
        InputBlock(
            block_id=BlockId.CAMPAIGN_FILE,
            label=FILE_FIELD,
            optional=True,
            element=FileInputElement(action_id=Action.CAMPAIGN_FILE, filetypes=["csv", "txt"], max_files=1),
            hint=f"A CSV with a phone column, or one number per line. At most {MAX_FILE_MB} MB.",
        ),
        InputBlock(
            block_id=BlockId.CAMPAIGN_NUMBERS,
            label=PASTED_FIELD,
            optional=True,
            element=PlainTextInputElement(
                action_id=Action.CAMPAIGN_NUMBERS,
                multiline=True,
                max_length=MAX_PASTED_CHARS,
                placeholder="+44 7400 123456, one number per line",
            ),
            hint=f"…or paste up to about 200 numbers, one per line. {national}",
        ),
        InputBlock(
            block_id=BlockId.CAMPAIGN_MESSAGE,
            label=MESSAGE_FIELD,
            element=PlainTextInputElement(
                action_id=Action.CAMPAIGN_MESSAGE, multiline=True, max_length=MAX_MESSAGE_CHARS
            ),
            hint=(
                "One SMS holds 160 GSM-7 characters (153 per segment when longer). An emoji or any other "
                "character outside GSM-7 makes it UCS-2: 70 characters (67 per segment)."
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=Callback.CAMPAIGN,
        title="SMS campaign cost",
        submit="Price it",
        close="Cancel",
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


# -- the answer --------------------------------------------------------------------------------------------


class DestinationLine(Payload):
    """One destination of the answer: its recipients by line type and its SMS rate. Short keys in the
    encoded value (up to ten of these ride in Share's 2,000 characters)."""

    model_config = ConfigDict(populate_by_name=True)

    iso: str = Field(max_length=8, alias="i")
    name: str = Field(max_length=MAX_NAME, alias="n")
    mobile: Count = Field(default=0, alias="m")
    landline: Count = Field(default=0, alias="l")
    either: Count = Field(default=0, alias="e")
    rate: Decimal = Field(alias="r")

    @property
    def recipients(self) -> int:
        return self.mobile + self.landline + self.either

    def cost(self, segments: int) -> Decimal:
        """Exact: the rate times a whole number of messages."""
        return self.rate * self.recipients * segments


class InvalidLine(Payload):
    model_config = ConfigDict(populate_by_name=True)

    line: int = Field(ge=1, alias="l")
    text: str = Field(default="", max_length=MAX_LINE_TEXT, alias="t")


class CampaignSummary(Payload):
    """What the answer shows; the Share button carries it, to show it again."""

    encoding: Encoding
    characters: Count
    segments: int = Field(ge=1, le=MAX_MESSAGE_CHARS)
    not_gsm: str = Field(default="", max_length=10)
    recipients: Count
    priced: Count
    messages: Count
    total: Decimal
    destinations: tuple[DestinationLine, ...] = Field(default=(), max_length=MAX_DESTINATIONS_SHOWN)
    other_destinations: Count = 0
    other_recipients: Count = 0
    other_cost: Decimal = Decimal(0)
    landlines: Count = 0
    unpriced: dict[UnpricedKind, Count] = Field(default_factory=dict)
    invalid: tuple[InvalidLine, ...] = Field(default=(), max_length=MAX_INVALID_SHOWN)
    invalid_count: Count = 0
    duplicates: Count = 0
    spent: Decimal
    since: date
    table_version: int = Field(ge=1)
    effective: date
    sample: bool = False

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True, by_alias=True)


def summary_of(quote: CampaignQuote, spend: PeriodSpend, table: RateTableInfo) -> CampaignSummary:
    shown, others = quote.destinations[:MAX_DESTINATIONS_SHOWN], quote.destinations[MAX_DESTINATIONS_SHOWN:]
    return CampaignSummary(
        encoding=quote.message.encoding,
        characters=quote.message.characters,
        segments=quote.message.segments,
        not_gsm="".join(quote.message.not_gsm),
        recipients=quote.recipients,
        priced=quote.priced,
        messages=quote.messages,
        total=quote.total,
        destinations=tuple(_destination_line(destination) for destination in shown),
        other_destinations=len(others),
        other_recipients=sum(d.recipients for d in others),
        other_cost=sum((d.cost for d in others), Decimal(0)),
        landlines=quote.landlines,
        unpriced=dict(quote.unpriced),
        invalid=tuple(
            InvalidLine(line=r.line, text=truncate(r.text, MAX_LINE_TEXT))
            for r in quote.invalid[:MAX_INVALID_SHOWN]
        ),
        invalid_count=quote.invalid_count,
        duplicates=quote.duplicates,
        spent=spend.spent,
        since=spend.since,
        table_version=table.version,
        effective=table.effective_date,
        sample=table.sample,
    )


def _destination_line(destination: DestinationQuote) -> DestinationLine:
    row = destination.row
    return DestinationLine(
        iso=row.iso_code,
        name=truncate(row.destination, MAX_NAME),
        mobile=destination.mobile,
        landline=destination.landline,
        either=destination.either,
        rate=row.sms_per_message,
    )


def campaign_message(
    summary: CampaignSummary, *, shareable: bool = True, shared_by: str | None = None
) -> Message:
    """The answer: ephemeral (with Share when `shareable`), or (`shared_by`) the visible copy Share posts."""
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.CAMPAIGN_TOTAL, text=MarkdownTextObject(text=_total_text(summary))),
        SectionBlock(
            block_id=BlockId.CAMPAIGN_SEGMENTS, text=MarkdownTextObject(text=_segments_text(summary))
        ),
    ]
    if summary.destinations:
        blocks.append(
            SectionBlock(
                block_id=BlockId.CAMPAIGN_DESTINATIONS,
                text=MarkdownTextObject(text=_destinations_text(summary)),
            )
        )
    if summary.landlines:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_landlines_text(summary.landlines))]))
    if summary.unpriced:
        blocks.append(
            SectionBlock(
                block_id=BlockId.CAMPAIGN_UNPRICED, text=MarkdownTextObject(text=_unpriced_text(summary))
            )
        )
    if summary.invalid_count:
        blocks.append(
            SectionBlock(
                block_id=BlockId.CAMPAIGN_INVALID, text=MarkdownTextObject(text=_invalid_text(summary))
            )
        )
    blocks.append(
        SectionBlock(block_id=BlockId.CAMPAIGN_SPEND, text=MarkdownTextObject(text=_spend_text(summary)))
    )
    blocks.append(
        ContextBlock(
            block_id=BlockId.CAMPAIGN_NOTE, elements=[MarkdownTextObject(text=_note(summary, shared_by))]
        )
    )
    if shareable and shared_by is None:
        share = ButtonElement(text="Share", action_id=Action.CAMPAIGN_SHARE, value=summary.encode())
        blocks.append(ActionsBlock(block_id=BlockId.CAMPAIGN_ACTIONS, elements=[share]))
    text = (
        f"SMS campaign: {money(summary.total)} for {summary.priced:,} recipients × "
        f"{_plural(summary.segments, 'segment')}"
    )
    return Message(text=text, blocks=blocks, response_type="in_channel" if shared_by else "ephemeral")


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _total_text(summary: CampaignSummary) -> str:
    lines = [
        f":money_with_wings: *SMS campaign: {money(summary.total)}* — {_plural(summary.priced, 'recipient')} × "
        f"{_plural(summary.segments, 'segment')} = {_plural(summary.messages, 'message')}"
    ]
    counts = [f"{_plural(summary.recipients, 'line')} read", f"{summary.priced:,} priced"]
    if unpriced := sum(summary.unpriced.values()):
        counts.append(f"{unpriced:,} not priced")
    if summary.invalid_count:
        counts.append(f"{summary.invalid_count:,} invalid")
    if summary.duplicates:
        counts.append(f"{_plural(summary.duplicates, 'duplicate')} (priced once)")
    lines.append(" · ".join(counts))
    return "\n".join(lines)


def _segments_text(summary: CampaignSummary) -> str:
    encoding = summary.encoding
    fits = f"{SINGLE[encoding]} fit in one SMS, {PER_PART[encoding]} per segment when longer"
    why = ""
    if summary.not_gsm:
        why = f" because of {', '.join(_character(char) for char in summary.not_gsm)}"
    text = (
        f"*Message*: {_plural(summary.characters, 'character')}, {encoding}{why} → "
        f"*{_plural(summary.segments, 'segment')}* per recipient ({fits})."
    )
    if summary.segments > MAX_SEGMENTS_AS_ONE:
        text += f"\n:warning: Many carriers join at most {MAX_SEGMENTS_AS_ONE} segments into one message."
    return text


def _character(char: str) -> str:
    """One character, shown on its own (a backtick cannot be shown inside a code span)."""
    return "a backtick" if char == "`" else f"`{escape(char)}`"


def _destinations_text(summary: CampaignSummary) -> str:
    lines = ["*By destination*"]
    lines += [_destination_text(line, summary.segments) for line in summary.destinations]
    if summary.other_destinations:
        lines.append(
            f"…and {_plural(summary.other_destinations, 'more destination')}: "
            f"{_plural(summary.other_recipients, 'recipient')}, {money(summary.other_cost)}"
        )
    return "\n".join(lines)


def _destination_text(line: DestinationLine, segments: int) -> str:
    kinds = [
        f"{count:,} {label}"
        for count, label in (
            (line.mobile, "mobile"),
            (line.landline, "landline"),
            (line.either, "mobile or landline"),
        )
        if count
    ]
    name = f"{flag(line.iso)} *{escape(line.name)}*".strip()
    recipients = kinds[0] if len(kinds) == 1 else f"{line.recipients:,} ({', '.join(kinds)})"
    return f"{name} · {recipients} × {segments} × {format_usd(line.rate)} = *{money(line.cost(segments))}*"


def _landlines_text(landlines: int) -> str:
    return (
        f":warning: {_plural(landlines, 'number')} {'is a landline' if landlines == 1 else 'are landlines'}, "
        "which may not receive SMS; priced all the same."
    )


def _unpriced_text(summary: CampaignSummary) -> str:
    parts = [f"{count:,} {UNPRICED_LABELS[kind]}" for kind, count in summary.unpriced.items()]
    return (
        f"*Not priced* ({sum(summary.unpriced.values()):,}): {', '.join(parts)}. "
        "The table's SMS rates do not apply to these numbers; try one with `/rates` to see why."
    )


def _invalid_text(summary: CampaignSummary) -> str:
    shown = [f"line {line.line}: `{_code_safe(line.text) or '(empty)'}`" for line in summary.invalid]
    more = summary.invalid_count - len(summary.invalid)
    tail = f" and {more:,} more" if more > 0 else ""
    return (
        f"*{_plural(summary.invalid_count, 'invalid number')}* (not priced): {', '.join(shown)}{tail}. "
        "Check the digits and the country code."
    )


def _code_safe(text: str) -> str:
    return escape(text.replace("`", "'"))


def _spend_text(summary: CampaignSummary) -> str:
    since = slack_date(summary.since)
    if summary.spent <= 0:
        return (
            f":bar_chart: *This period* (since {since}): no traffic recorded yet; "
            f"this campaign would be {money(summary.total)}."
        )
    after = summary.spent + summary.total
    share = (summary.total * 100 / summary.spent).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    more = f"+{share:,}%" if share >= 1 or not summary.total else "+less than 1%"
    return (
        f":bar_chart: *This period* (since {since}): {money(summary.spent)} of traffic so far. "
        f"This campaign would add {money(summary.total)} ({more}), to {money(after)}."
    )


def _note(summary: CampaignSummary, shared_by: str | None) -> str:
    parts = [
        f"SMS rates in USD of rate table version {summary.table_version}, effective {slack_date(summary.effective)}"
    ]
    if summary.sample:
        parts.append(":test_tube: *sample rates*")
    parts.append("An estimate: your monthly invoice is authoritative")
    if shared_by is not None:
        parts.insert(0, f"Shared by <@{shared_by}> · `{COMMAND}`")
    return " · ".join(parts)
