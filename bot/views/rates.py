"""Rate Table views: `/rates` answers, the Home tab's Rate Table, and the rate-change announcement.

Pure functions from domain objects to Block Kit. Buttons that look something up again carry the query
text in a `LookupValue`, so a click re-runs the lookup against the table current at that moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    ExternalDataSelectElement,
    MarkdownTextObject,
    Option,
    SectionBlock,
)

from bot.ids import Action
from bot.ids import Block as BlockId
from bot.rates import (
    Ambiguous,
    CallDuration,
    CostLine,
    DestinationMatch,
    LineType,
    LookupResult,
    NoMatch,
    PhoneMatch,
    Quantity,
    RatePage,
    RateRow,
    SmsCount,
    UnpricedNumber,
    estimate,
    format_usd,
)
from bot.views.common import Message, slack_date, slack_datetime, truncate
from store.domain.rates import RateChange, RateImport, RateTableInfo

BILLING_NOTE = "Calls are billed per minute: every started minute counts."
VOIP_NOTE = (
    "VoIP calls (staff-to-visitor and staff-to-staff) have one fixed rate per minute in all countries."
)
MAX_SHOWN_QUERY = 100  # characters of what the user typed that we echo back
MAX_BUTTON_TEXT = 75
MAX_OTHER_BUTTONS = 5
MAX_INCREASES_SHOWN = 5
MAX_NAMES_SHOWN = 10
PAGE_SIZE = 20

_KIND_LABELS = {"landline": "Landline", "mobile": "Mobile", "sms": "SMS", "voip": "VoIP"}


class LookupValue(BaseModel):
    """What a Share or suggestion button carries: the `/rates` text to run again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str = Field(max_length=400)

    def encode(self) -> str:
        return self.model_dump_json()

    @classmethod
    def decode(cls, value: str | None) -> LookupValue | None:
        try:
            return cls.model_validate_json(value or "")
        except ValidationError:
            return None


class PageValue(BaseModel):
    """What a Prev/Next button of the Home's table carries: the page to show."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    page: int = Field(ge=1)

    @classmethod
    def decode(cls, value: str | None) -> PageValue | None:
        try:
            return cls.model_validate_json(value or "")
        except ValidationError:
            return None


@dataclass(frozen=True)
class RateAnswer:
    """Everything a `/rates` reply shows: what was asked, what it matched, and the prices that apply."""

    text: str
    """The full text after `/rates` (query plus any "12 min"), for Share."""
    quantity: Quantity | None
    result: LookupResult
    table: RateTableInfo
    voip_per_min: Decimal


# -- small formatting helpers ------------------------------------------------------------------------------


def escape(text: str) -> str:
    """User text inside mrkdwn: Slack's three control characters, so `<!channel>` stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
        action_id=f"{Action.RATES_LOOKUP}.{index}",
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
    return f"{_KIND_LABELS[line.kind]}: {line.units:,} × {format_usd(line.unit_rate)} = *{format_usd(line.cost)}*"


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
    text = "No rate table has been loaded yet. The operator can load one with `myplan import-rates FILE.csv`."
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":card_index: {text}"))])


# -- the App Home tab --------------------------------------------------------------------------------------


def destination_option(row: RateRow) -> Option:
    label = f"{flag(row.iso_code)} {row.destination} (+{row.dial_code})".strip()
    return Option(text=truncate(label, 75), value=row.iso_code)


def destination_options(rows: Sequence[RateRow]) -> list[dict[str, object]]:
    """Options for the type-ahead picker, as an `options` listener acks them (Slack allows 100)."""
    return [destination_option(row).to_dict() for row in rows[:100]]


@dataclass(frozen=True)
class RatesTab:
    """What the Rate Table tab shows for one user."""

    table: RateTableInfo
    page: RatePage
    chosen: RateRow | None
    voip_per_min: Decimal


def rates_tab_blocks(tab: RatesTab) -> list[Block]:
    """The Rate Table tab: picker and export, the chosen destination, the table a page at a time."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Rate Table* · {tab.page.total_rows:,} destinations\n"
                "Landline and mobile call rates per minute and SMS rates per message, in USD."
            )
        )
    ]
    if tab.table.sample:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f":test_tube: *{escape(tab.table.label)}*")])
        )
    picker = ExternalDataSelectElement(
        action_id=Action.RATES_PICK,
        placeholder="Find a destination, code or dial code…",
        min_query_length=1,
        initial_option=destination_option(tab.chosen) if tab.chosen else None,
    )
    export = ButtonElement(text="Export CSV", action_id=Action.RATES_EXPORT, value=str(tab.table.version))
    blocks.append(ActionsBlock(block_id=BlockId.RATES_TOOLS, elements=[picker, export]))
    if tab.chosen is not None:
        row = tab.chosen
        blocks.append(
            SectionBlock(
                block_id=BlockId.RATES_CHOSEN,
                text=MarkdownTextObject(
                    text=f"*{destination_title(row)}*  ·  +{row.dial_code}  ·  {row.iso_code}"
                ),
            )
        )
        blocks.append(rate_fields(row, tab.voip_per_min))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f":blue_book: {BILLING_NOTE} VoIP calls (staff-to-visitor and staff-to-staff) cost "
                    f"*{per_minute(tab.voip_per_min)}* in all countries. "
                    "Look up any phone number with `/rates +44 20 7946 0018`."
                )
            ]
        )
    )
    blocks.append(DividerBlock())
    blocks += _page_blocks(tab)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_table_context(tab.table))]))
    return blocks


def _table_context(table: RateTableInfo) -> str:
    imported = f", imported {slack_datetime(table.imported_at)}" if table.imported_at else ""
    return f"Rate table version {table.version}, effective {slack_date(table.effective_date)}{imported}."


def _page_blocks(tab: RatesTab) -> list[Block]:
    page = tab.page
    first = (page.number - 1) * page.size + 1
    last = first + len(page.rows) - 1
    head = (
        f"*Destinations {first:,}–{last:,} of {page.total_rows:,}* · page {page.number} of {page.total_pages}"
        if page.rows
        else "*The rate table is empty.*"
    )
    blocks: list[Block] = [SectionBlock(block_id=BlockId.RATES_PAGE_HEAD, text=MarkdownTextObject(text=head))]
    chosen = tab.chosen.iso_code if tab.chosen else None
    for row in page.rows:
        marker = ":arrow_forward: " if row.iso_code == chosen else ""
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{marker}*{destination_title(row)}*  `+{row.dial_code}`\n"
                    f"Landline {format_usd(row.landline_per_min)} · Mobile {format_usd(row.mobile_per_min)}"
                    f" · SMS {format_usd(row.sms_per_message)}"
                )
            )
        )
    pager = _pager(page)
    if pager is not None:
        blocks.append(pager)
    return blocks


def _pager(page: RatePage) -> ActionsBlock | None:
    """First/Prev/Next/Last, each only where it leads somewhere (nothing before page 1 or after the last)."""
    targets = [
        ("first", "⏮ First", 1, page.number > 2),
        ("prev", "◀ Prev", page.number - 1, page.number > 1),
        ("next", "Next ▶", page.number + 1, page.number < page.total_pages),
        ("last", "Last ⏭", page.total_pages, page.number < page.total_pages - 1),
    ]
    buttons = [
        ButtonElement(
            text=text, action_id=f"{Action.RATES_PAGE}.{name}", value=PageValue(page=target).model_dump_json()
        )
        for name, text, target, shown in targets
        if shown
    ]
    return ActionsBlock(block_id=BlockId.RATES_PAGER, elements=buttons) if buttons else None


# -- rate-change announcement -----------------------------------------------------------------------------


def _change_line(change: RateChange) -> str:
    percent = f" (+{change.delta * 100 / change.old:.0f}%)" if change.old else ""
    return (
        f"• {flag(change.iso_code)} {escape(change.destination)} {_KIND_LABELS[change.kind].lower()}: "
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
