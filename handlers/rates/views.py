"""Rate Table views: `/rates` answers, the Home tab's Rate Table, and the rate-change announcement.

Pure functions from domain objects to Block Kit. Buttons that look something up again carry the query
text in a `LookupValue`, so a click re-runs the lookup against the table current at that moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.rates import (
    AMOUNTS_READ,
    Ambiguous,
    CallDuration,
    CostLine,
    DestinationMatch,
    LineType,
    LookupResult,
    NoMatch,
    PhoneMatch,
    Quantity,
    RateRow,
    SmsCount,
    UnpricedNumber,
    estimate,
    format_usd,
)
from bot.rates.lookup import NO_TABLE_TEXT
from handlers.messages import Message, escape, slack_date, truncate
from handlers.payloads import Payload
from handlers.rates.ids import LOOKUP_BUTTON, Action
from handlers.rates.ids import Block as BlockId
from store.domain.rates import RateTableInfo

BILLING_NOTE = "Calls are billed per minute: every started minute counts."
VOIP_NOTE = (
    "VoIP calls (staff-to-visitor and staff-to-staff) have one fixed rate per minute in all countries."
)
MAX_SHOWN_QUERY = 100  # characters of what the user typed that we echo back
MAX_BUTTON_TEXT = 75
MAX_OTHER_BUTTONS = 5
MAX_NAMES_SHOWN = 10

KIND_LABELS = {"landline": "Landline", "mobile": "Mobile", "sms": "SMS", "voip": "VoIP"}


class LookupValue(Payload):
    """What a Share or suggestion button carries: the `/rates` text to run again."""

    q: str = Field(max_length=400)


@dataclass(frozen=True)
class RateAnswer:
    """Everything a `/rates` reply shows: what was asked, what it matched, and the prices that apply."""

    text: str
    """The full text after `/rates` (query plus any "12 min"), for Share."""
    quantity: Quantity | None
    result: LookupResult
    table: RateTableInfo
    voip_per_min: Decimal
    unread_amount: str | None = None
    """An amount asked for in a form no estimate reads ("10000000 min"): said so, the rates shown."""


# -- small formatting helpers ------------------------------------------------------------------------------


def shown_query(text: str) -> str:
    """What the user typed, shortened and made safe to echo."""
    return escape(truncate(" ".join(text.split()), MAX_SHOWN_QUERY))


def flag(iso_code: str) -> str:
    """The regional-indicator flag of a two-letter code (Slack shows it as the country's flag)."""
    if len(iso_code) != 2 or not iso_code.isascii() or not iso_code.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in iso_code.upper())


def destination_title(row: RateRow) -> str:
    return f"{flag(row.iso_code)} {escape(row.destination)}".strip()


def per_minute(rate: Decimal) -> str:
    return f"{format_usd(rate)} /min"


def quantity_text(quantity: Quantity | None) -> str:
    """A form of `quantity` that `parse_rate_query` reads back exactly ("720s", "300 sms")."""
    if quantity is None:
        return ""
    if isinstance(quantity, SmsCount):
        return f"{quantity.count} sms"
    return f"{quantity.seconds}s"


def lookup_text(query: str, quantity: Quantity | None) -> str:
    return " ".join(part for part in (query, quantity_text(quantity)) if part)


def _lookup_button(index: int, text: str, query: str, quantity: Quantity | None) -> ButtonElement:
    return ButtonElement(
        text=truncate(text, MAX_BUTTON_TEXT),
        action_id=LOOKUP_BUTTON.id(index),
        value=LookupValue(q=lookup_text(query, quantity)).encode(),
    )


def _row_buttons(rows: Sequence[RateRow], quantity: Quantity | None, verb: str = "") -> ActionsBlock:
    """One button per destination, looking it up (with the same estimate); `verb` prefixes the name."""
    return ActionsBlock(
        block_id=BlockId.RATES_CHOICES,
        elements=[
            _lookup_button(
                index, f"{verb} {flag(row.iso_code)} {row.destination}".strip(), row.iso_code, quantity
            )
            for index, row in enumerate(rows)
        ],
    )


def table_note(table: RateTableInfo) -> str:
    sample = f" · :test_tube: *{escape(table.label)}*" if table.sample else ""
    return f"All rates in USD · rate table version {table.version}, effective {slack_date(table.effective_date)}{sample}"


# -- rates of one destination ------------------------------------------------------------------------------


def _rate_field(label: str, amount: str, mark: str | None) -> MarkdownTextObject:
    if mark:
        return MarkdownTextObject(text=f"*{label}* :point_left: {mark}\n*{amount}*")
    return MarkdownTextObject(text=f"*{label}*\n{amount}")


def rate_fields(
    row: RateRow, voip_per_min: Decimal, line_type: LineType | None = None, block_id: str | None = None
) -> SectionBlock:
    """Landline, mobile, SMS and the fixed VoIP rate; a phone number's own line type is highlighted."""
    mark = "either may apply" if line_type == "either" else "this number"
    landline = mark if line_type in ("landline", "either") else None
    mobile = mark if line_type in ("mobile", "either") else None
    return SectionBlock(
        block_id=block_id,
        fields=[
            _rate_field("Landline", per_minute(row.landline_per_min), landline),
            _rate_field("Mobile", per_minute(row.mobile_per_min), mobile),
            MarkdownTextObject(text=f"*SMS*\n{format_usd(row.sms_per_message)} /message"),
            MarkdownTextObject(text=f"*VoIP* (in-app calls)\n{per_minute(voip_per_min)}"),
        ],
    )


def _cost_line(line: CostLine) -> str:
    return (
        f"{KIND_LABELS[line.kind]}: {line.units:,} × {format_usd(line.unit_rate)} = *{format_usd(line.cost)}*"
    )


def estimate_block(
    row: RateRow, quantity: Quantity, line_type: LineType | None, voip_per_min: Decimal | None
) -> SectionBlock:
    """The cost of `quantity`, exact per started minute (or per message), line by line."""
    priced = estimate(row, quantity, line_type)
    lines = [f"*Estimate for {quantity.describe()}*", *(_cost_line(line) for line in priced.lines)]
    if isinstance(quantity, CallDuration) and len(priced.lines) == 2:
        lines.append("_Which rate applies depends on whether the number called is a landline or a mobile._")
    if isinstance(quantity, SmsCount) and line_type == "landline":
        lines.append("_This number looks like a landline: it may not be able to receive SMS._")
    if isinstance(quantity, CallDuration) and voip_per_min is not None:
        voip = voip_per_min * quantity.started_minutes
        lines.append(f"_An in-app VoIP call of the same length: {format_usd(voip)}._")
    return SectionBlock(block_id=BlockId.RATES_ESTIMATE, text=MarkdownTextObject(text="\n".join(lines)))


# -- `/rates` answers --------------------------------------------------------------------------------------


def rate_message(answer: RateAnswer, *, shared_by: str | None = None) -> Message:
    """The reply to `/rates`: ephemeral with Share, or (`shared_by`) the visible copy posted on Share."""
    result = answer.result
    if isinstance(result, DestinationMatch):
        blocks, text, shareable = _destination_blocks(answer, result), _destination_text(result.row), True
    elif isinstance(result, PhoneMatch):
        blocks, text, shareable = _phone_blocks(answer, result), _phone_text(result), True
    elif isinstance(result, UnpricedNumber):
        blocks, text, shareable = _unpriced_blocks(answer, result), result.explanation, True
    elif isinstance(result, Ambiguous):
        blocks, text, shareable = _ambiguous_blocks(answer, result), "Which destination did you mean?", False
    else:
        blocks, text, shareable = _no_match_blocks(answer, result), f"No rate for “{result.query}”.", False
    notes = [table_note(answer.table)]
    if answer.unread_amount is not None:
        notes.insert(0, f"No estimate for “{shown_query(answer.unread_amount)}”: I read {AMOUNTS_READ}")
    if shared_by is not None:
        notes.insert(0, f"Shared by <@{shared_by}> · `/rates {shown_query(answer.text)}`")
    blocks.append(
        ContextBlock(block_id=BlockId.RATES_NOTE, elements=[MarkdownTextObject(text=" · ".join(notes))])
    )
    if shareable and shared_by is None:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.RATES_ACTIONS,
                elements=[
                    ButtonElement(
                        text="Share",
                        action_id=Action.RATES_SHARE,
                        value=LookupValue(q=answer.text[:400]).encode(),
                    )
                ],
            )
        )
    return Message(
        text=truncate(text, 300), blocks=blocks, response_type="in_channel" if shared_by else "ephemeral"
    )


def _destination_text(row: RateRow) -> str:
    return (
        f"{row.destination} (+{row.dial_code}): landline {per_minute(row.landline_per_min)}, "
        f"mobile {per_minute(row.mobile_per_min)}, SMS {format_usd(row.sms_per_message)} /message"
    )


def _destination_blocks(answer: RateAnswer, match: DestinationMatch) -> list[Block]:
    row = match.row
    heading = f"*{destination_title(row)}*  ·  dial code +{row.dial_code}  ·  {row.iso_code}"
    if match.matched_by == "fuzzy":
        heading += f"\n_Showing {escape(row.destination)} for “{shown_query(answer.text)}”._"
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.RATES_RESULT, text=MarkdownTextObject(text=heading)),
        rate_fields(row, answer.voip_per_min, block_id=BlockId.RATES_RATES),
    ]
    if answer.quantity is not None:
        blocks.append(estimate_block(row, answer.quantity, None, answer.voip_per_min))
    if match.matched_by == "dial_code" and match.others:
        blocks += _shared_code_blocks(row, match.others, answer.quantity)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"{BILLING_NOTE} {VOIP_NOTE}")]))
    return blocks


def _shared_code_blocks(main: RateRow, others: Sequence[RateRow], quantity: Quantity | None) -> list[Block]:
    """+1, +7, +44…: the main region is shown; the others are one click away."""
    names = ", ".join(escape(row.destination) for row in others[:MAX_NAMES_SHOWN])
    more = f" and {len(others) - MAX_NAMES_SHOWN} more" if len(others) > MAX_NAMES_SHOWN else ""
    text = (
        f"+{main.dial_code} is also the dial code of {names}{more}. "
        "Type a full phone number and I will work out which one it is."
    )
    return [
        ContextBlock(elements=[MarkdownTextObject(text=text)]),
        _row_buttons(others[:MAX_OTHER_BUTTONS], quantity),
    ]


_LINE_TYPE_WORDS: dict[LineType, str] = {
    "landline": "a *landline* number",
    "mobile": "a *mobile* number",
    "either": "a number that *could be either* a mobile or a landline",
}


def _phone_text(match: PhoneMatch) -> str:
    kind = {"landline": "landline", "mobile": "mobile", "either": "mobile or landline"}[match.line_type]
    row = match.row
    rate = {
        "landline": per_minute(row.landline_per_min),
        "mobile": per_minute(row.mobile_per_min),
        "either": f"{per_minute(row.landline_per_min)} (landline) or {per_minute(row.mobile_per_min)} (mobile)",
    }[match.line_type]
    return f"{match.formatted}: {kind} in {row.destination}, {rate}"


def _phone_blocks(answer: RateAnswer, match: PhoneMatch) -> list[Block]:
    row = match.row
    heading = f":telephone_receiver: *{match.formatted}* is {_LINE_TYPE_WORDS[match.line_type]} in *{destination_title(row)}* (+{row.dial_code})."
    if match.line_type == "either":
        heading += (
            "\nIts numbering plan gives mobiles and landlines the same ranges, so either rate may apply."
        )
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.RATES_RESULT, text=MarkdownTextObject(text=heading)),
        rate_fields(row, answer.voip_per_min, match.line_type, block_id=BlockId.RATES_RATES),
    ]
    if answer.quantity is not None:
        blocks.append(estimate_block(row, answer.quantity, match.line_type, None))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"{BILLING_NOTE} {VOIP_NOTE}")]))
    return blocks


def _unpriced_blocks(answer: RateAnswer, number: UnpricedNumber) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(
            block_id=BlockId.RATES_RESULT,
            text=MarkdownTextObject(text=f":warning: {escape(number.explanation)}"),
        )
    ]
    if number.row is not None and number.kind != "no_rate":
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"The regular landline and mobile rates of {escape(number.row.destination)} do not apply to it."
                    )
                ]
            )
        )
        blocks.append(_row_buttons([number.row], answer.quantity, verb="Rates for"))
    return blocks


def _ambiguous_blocks(answer: RateAnswer, ambiguous: Ambiguous) -> list[Block]:
    if len(ambiguous.suggestions) == 1:
        text = f"I am not sure what “{shown_query(ambiguous.query)}” is. Did you mean this one?"
    else:
        text = f"“{shown_query(ambiguous.query)}” could be more than one destination. Which one did you mean?"
    return [
        SectionBlock(block_id=BlockId.RATES_RESULT, text=MarkdownTextObject(text=f":mag: {text}")),
        _row_buttons(ambiguous.suggestions, answer.quantity),
    ]


def _no_match_blocks(answer: RateAnswer, no_match: NoMatch) -> list[Block]:
    lines = [f":shrug: No rate for “{shown_query(no_match.query)}”."]
    if no_match.hint:
        lines.append(escape(no_match.hint))
    if no_match.closest:
        lines.append("The closest destinations:")
    else:
        lines.append(
            "Try a country or region name, an ISO code (`GB`), a dial code (`+44`) "
            "or a phone number with its country code (`+44 20 7946 0018`)."
        )
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.RATES_RESULT, text=MarkdownTextObject(text="\n".join(lines)))
    ]
    if no_match.closest:
        blocks.append(_row_buttons(no_match.closest, answer.quantity))
    return blocks


def rates_help_message(command: str = "/rates") -> Message:
    """What to type after `/rates` (an empty query, or only "12 min")."""
    lines = [
        f"*{command} <destination or number> [12 min | 1h 5m | 300 sms]*",
        f"• a country or region: `{command} Hong Kong`, `{command} viet nam` (typos are fine)",
        f"• an ISO code or dial code: `{command} GB`, `{command} +852`",
        f"• a phone number in any format: `{command} +1 (212) 555-0123`, `{command} 0044 20 7946 0018`",
        f"• an estimate: `{command} UK 12 min`, `{command} +852 9123 4567 1h 5m`, `{command} Japan 300 sms`",
        f"• an SMS campaign's cost, for a list of up to 100,000 numbers: `{command} campaign`",
    ]
    return Message(
        text=f"Try {command} Hong Kong, {command} +44 20 7946 0018 or {command} UK 12 min.",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
            ContextBlock(
                elements=[MarkdownTextObject(text=f"{BILLING_NOTE} Replies are only visible to you.")]
            ),
        ],
    )


def no_table_message() -> Message:
    text = NO_TABLE_TEXT
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":card_index: {text}"))])


# -- the App Home tab --------------------------------------------------------------------------------------
