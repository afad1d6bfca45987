"""Where the money goes: this period's top destinations by cost and by volume, with the rate applied and
the change against the same days of the last period."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.plan.usage import quantity
from bot.traffic.spend import Compared, SpendReport
from handlers.messages import Message, escape, money, slack_datetime
from handlers.traffic.ids import Block as BlockId
from store.domain.traffic import DestinationSpend

UNITS: Final = {"voice": ("min", "min"), "sms": ("message", "messages")}
KINDS: Final = {"voice": "Most minutes", "sms": "Most messages"}
LINE_TYPES: Final = {"landline": "landline", "mobile": "mobile", "sms": "", None: ""}


def spend_message(report: SpendReport) -> Message:
    return Message(
        text=f"Where the money goes: {money(report.total)} this period", blocks=spend_blocks(report)
    )


def spend_blocks(report: SpendReport) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.TRAFFIC_TOTAL, text=MarkdownTextObject(text=_total(report)))
    ]
    if report.by_cost:
        lines = ["*Top destinations by cost*", *(_cost_line(c) for c in report.by_cost)]
        blocks.append(
            SectionBlock(block_id=BlockId.TRAFFIC_BY_COST, text=MarkdownTextObject(text="\n".join(lines)))
        )
    volume = [line for kind, top in report.by_volume.items() if top and (line := _volume_line(kind, top))]
    if volume:
        blocks.append(
            SectionBlock(block_id=BlockId.TRAFFIC_BY_VOLUME, text=MarkdownTextObject(text="\n".join(volume)))
        )
    if report.unpriced:
        blocks.append(
            ContextBlock(
                block_id=BlockId.TRAFFIC_UNPRICED, elements=[MarkdownTextObject(text=_unpriced(report))]
            )
        )
    window = report.window
    note = (
        f"Traffic from {slack_datetime(window.since)} to {slack_datetime(window.until)}, priced at the rate "
        "table in force each hour; changes compare the same days of the last period. Your invoice is "
        "authoritative."
    )
    blocks.append(ContextBlock(block_id=BlockId.TRAFFIC_NOTE, elements=[MarkdownTextObject(text=note)]))
    return blocks


def _total(report: SpendReport) -> str:
    change = _change(report.total, report.total_before)
    return f"*Where the money goes* · *{money(report.total)}* on calls and SMS this period so far{change}"


def _cost_line(compared: Compared) -> str:
    spend = compared.now
    singular, plural = UNITS[spend.kind]
    rate = f" at USD {spend.rate}/{singular}" if spend.rate is not None else ""
    before = compared.before.cost if compared.before is not None else Decimal(0)
    return (
        f"• {_name(spend)} — *{money(spend.cost)}* · {quantity(spend.quantity)} {plural}{rate}"
        f"{_change(spend.cost, before)}"
    )


def _volume_line(kind: str, top: tuple[Compared, ...]) -> str:
    _, plural = UNITS[kind]
    entries = " · ".join(f"{_name(c.now, kind_shown=False)} {quantity(c.now.quantity)}" for c in top)
    return f"*{KINDS[kind]}* ({plural}): {entries}"


def _unpriced(report: SpendReport) -> str:
    parts = [
        f"{quantity(s.unpriced_quantity)} {UNITS[s.kind][1]} to {escape(s.place)}" for s in report.unpriced
    ]
    return (
        f":grey_question: Not priced: {', '.join(parts)}. The rate table has no price for those numbers "
        "(premium-rate, satellite or unlisted ones), or none was in force then."
    )


def _name(spend: DestinationSpend, *, kind_shown: bool = True) -> str:
    """The place, then the line type priced (voice) or SMS when the kind is not otherwise shown."""
    shown_kind = "SMS" if kind_shown else ""
    line_type = LINE_TYPES[spend.priced_as] if spend.kind == "voice" else shown_kind
    return f"*{escape(spend.place)}*" + (f" {line_type}" if line_type else "")


def _change(now: Decimal, before: Decimal) -> str:
    if not before:
        return " · new this period" if now else ""
    percent = ((now - before) / before * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if percent == 0:
        return " · as the same days last period"
    arrow = ":arrow_up_small:" if percent > 0 else ":arrow_down_small:"
    return f" · {arrow} {abs(percent)}% on the same days last period"
