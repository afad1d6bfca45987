"""A spike alert's message: the destination, the last hours' volume and cost against the baseline, the
rate, what has been done about it (a block, a mute), and its buttons."""

from __future__ import annotations

from typing import Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.plan.usage import quantity
from bot.traffic.high_risk import HIGH_RISK_PREFIXES, high_risk_prefix
from handlers.messages import Message, escape, money, slack_datetime
from handlers.payloads import Payload, RowId
from handlers.traffic.ids import Action
from handlers.traffic.ids import Block as BlockId
from store.domain.traffic import BlockState, DestinationBlock, Mute, MuteReason, SpikeAlert

KIND_WORDS: Final = {"voice": ("calls", "min", "minute"), "sms": ("SMS", "messages", "message")}
PREFIXES_SHOWN: Final = 5


class SpikeRef(Payload):
    """The spike alert a button of its message is about."""

    id: RowId


def spike_message(alert: SpikeAlert) -> Message:
    what, unit, _ = KIND_WORDS[alert.kind]
    text = f"Traffic spike: {what} to {alert.place}, {quantity(alert.quantity)} {unit} in 12 hours"
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.SPIKE_HEADLINE, text=MarkdownTextObject(text=_headline(alert))),
        SectionBlock(
            block_id=BlockId.SPIKE_FIGURES, fields=[MarkdownTextObject(text=f) for f in _figures(alert)]
        ),
    ]
    if state := _state(alert.block, alert.mute):
        blocks.append(ContextBlock(block_id=BlockId.SPIKE_STATE, elements=[MarkdownTextObject(text=state)]))
    blocks.append(ActionsBlock(block_id=BlockId.SPIKE_ACTIONS, elements=_buttons(alert)))
    note = (
        f"{slack_datetime(alert.window_start)} to {slack_datetime(alert.window_end)} · costs at the rate "
        "table in force each hour · the usual: the median of the past days, halved to 12 hours"
    )
    blocks.append(ContextBlock(block_id=BlockId.SPIKE_NOTE, elements=[MarkdownTextObject(text=note)]))
    return Message(text=text, blocks=blocks, response_type="in_channel")


def _headline(alert: SpikeAlert) -> str:
    what, _, _ = KIND_WORDS[alert.kind]
    place = escape(alert.place)
    if not alert.high_risk:
        return f":chart_with_upwards_trend: *Traffic spike: {what} to {place}*"
    known = next(
        (HIGH_RISK_PREFIXES[p] for prefix in alert.prefixes if (p := high_risk_prefix(prefix))), None
    )
    why = f"{escape(known)} is" if known else "these numbers are"
    return (
        f":rotating_light: *Possible toll fraud: {what} to {place}* — {why} known for premium-rate fraud. "
        "Check who is calling, and block the destination if it is not yours."
    )


def _figures(alert: SpikeAlert) -> list[str]:
    _, unit, singular = KIND_WORDS[alert.kind]
    usual = f"{quantity(alert.baseline.normalize())} {unit}" if alert.baseline_days else "no history yet"
    shown = ", ".join(alert.prefixes[:PREFIXES_SHOWN])
    more = len(alert.prefixes) - PREFIXES_SHOWN
    rate = f"USD {alert.rate}/{singular}" if alert.rate is not None else "not in the rate table"
    return [
        f"*Last 12 hours*\n{quantity(alert.quantity)} {unit} · {money(alert.cost)}",
        f"*Usual for 12 hours*\n{usual}"
        + (f" (median of {alert.baseline_days} days)" if alert.baseline_days else ""),
        f"*Rate*\n{rate}",
        f"*Destinations*\n{shown}" + (f" and {more} more" if more > 0 else ""),
    ]


def _state(block: DestinationBlock | None, mute: Mute | None) -> str | None:
    lines = []
    if block is not None:
        lines.append(_block_line(block))
    if mute is not None:
        until = slack_datetime(mute.until)
        if mute.reason is MuteReason.EXPECTED:
            lines.append(
                f":white_check_mark: Marked expected by <@{mute.by}>: no spike alerts for it until {until}."
            )
        else:
            lines.append(f":zzz: Snoozed by <@{mute.by}> until {until}.")
    return "\n".join(lines) or None


def _block_line(block: DestinationBlock) -> str:
    if block.state is BlockState.REQUESTED:
        return (
            f":no_entry: Block requested by <@{block.requested_by}> {slack_datetime(block.requested_at)}; "
            "waiting for the billing platform to confirm it."
        )
    if block.state is BlockState.CONFIRMED:
        return f":no_entry: Blocked: the billing platform confirmed it {slack_datetime(block.updated_at)}."
    return f":arrow_forward: The block was lifted by the billing platform {slack_datetime(block.updated_at)}."


def _buttons(alert: SpikeAlert) -> list[ButtonElement]:
    value = SpikeRef(id=alert.id).encode()
    buttons = []
    if alert.block is None or alert.block.state is BlockState.LIFTED:
        buttons.append(
            ButtonElement(
                text="Block destination",
                action_id=Action.SPIKE_BLOCK,
                value=value,
                style="danger",
                confirm=ConfirmObject(
                    title="Block this destination?",
                    text=f"The billing platform is asked to block {KIND_WORDS[alert.kind][0]} to "
                    f"{alert.place} for this account. It can be lifted there.",
                    confirm="Block",
                    deny="Cancel",
                ),
            )
        )
    buttons.append(ButtonElement(text="It's expected", action_id=Action.SPIKE_EXPECTED, value=value))
    buttons.append(ButtonElement(text="Snooze 24 hours", action_id=Action.SPIKE_SNOOZE, value=value))
    return buttons


def block_exists_message(block: DestinationBlock) -> Message:
    text = f"{block.place} is already blocked for this account: {_block_line(block)}"
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text))])
