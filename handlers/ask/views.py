"""Answers to questions in plain words, built from domain objects with the views the slash commands use:
the plan's usage bars and summary (`handlers.plan.views`), the forecasts of `/plan usage`
(`handlers.alerts.views`), the weekly digest's changes (`handlers.digest.views`) and the `/rates` answer
(`handlers.rates.views`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.alerts.forecast import runs_out_before_renewal
from bot.ask import GRAMMAR
from bot.digest.changes import WeekChanges
from bot.digest.schedule import DigestWeek
from bot.plan.usage import quantity
from handlers.alerts.views import NO_FORECAST, forecast_line
from handlers.ask.ids import Block as BlockId
from handlers.digest.views import changes_section, week_context
from handlers.messages import Message, as_of_context, escape, money, slack_date, truncate
from handlers.plan.views import allowance_line, feature_overview, summary_blocks, summary_text
from handlers.rates.ids import Block as RatesBlock
from handlers.rates.views import BILLING_NOTE, RateAnswer, rate_message
from store.domain.alerts import Forecast
from store.domain.plan import Meter, PlanSnapshot

MAX_SECTION_CHARS: Final = 3000
MAX_ECHOED: Final = 100
MAX_ADMINS_SHOWN: Final = 25
SLASH_COMMANDS_HINT: Final = "For everything else there are the slash commands: `/plan help`."


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=truncate(text, MAX_SECTION_CHARS)))


def _context(text: str, block_id: str = BlockId.NOTE) -> ContextBlock:
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=text)])


def _shown(meters: Sequence[Meter]) -> tuple[Meter, ...]:
    """The allowances asked about: those named, else all."""
    return tuple(meters) or tuple(Meter)


def _label(meter: Meter) -> str:
    return meter.label[0].lower() + meter.label[1:]


# -- "how many voice minutes are left?" --------------------------------------------------------------------


def allowances_message(plan: PlanSnapshot, meters: Sequence[Meter]) -> Message:
    """What is left of each allowance asked about, with its usage bar as `/plan` draws it."""
    headlines, bars, texts = [], [], []
    for meter in _shown(meters):
        allowance = plan.allowance(meter)
        if allowance is None:
            headlines.append(f"Your plan has no {_label(meter)} allowance.")
            texts.append(f"no {_label(meter)} allowance")
            continue
        left = allowance.available - allowance.used
        if left >= 0:
            headlines.append(f"*{quantity(left)} {meter.unit}* of {_label(meter)} left this billing period.")
            texts.append(
                f"{meter.label}: {quantity(left)} {meter.unit} left of {quantity(allowance.available)}"
            )
        else:
            headlines.append(f"{meter.label}: *used up*, {quantity(-left)} {meter.unit} over the allowance.")
            texts.append(f"{meter.label}: used up, {quantity(-left)} {meter.unit} over")
        bars.append(allowance_line(plan, meter) or "")
    renewal = plan.subscription.next_payment_date
    blocks: list[Block] = [_section(BlockId.ANSWER, "\n".join(headlines))]
    if bars:
        details = "\n".join([*bars, f"The allowances start again on {slack_date(renewal)}."])
        blocks.append(_section(BlockId.DETAILS, details))
    blocks.append(as_of_context(plan.account.data_as_of, BlockId.NOTE))
    return Message(text="; ".join(texts), blocks=blocks)


# -- "will we run out?" ------------------------------------------------------------------------------------


def forecasts_message(
    plan: PlanSnapshot, forecasts: Mapping[Meter, Forecast | None], meters: Sequence[Meter]
) -> Message:
    """Whether any allowance asked about runs out before renewal at this pace, then each one's bar and
    forecast, as `/plan usage` shows them."""
    renewal = plan.subscription.next_payment_date
    shown = [m for m in _shown(meters) if plan.allowance(m) is not None]
    known = {m: f for m in shown if (f := forecasts.get(m)) is not None}
    short = [m for m, f in known.items() if runs_out_before_renewal(f, renewal)]
    if not shown:
        answer = "Your plan has no such allowance."
    elif short:
        names = _and([_label(m) for m in short])
        answer = (
            f":warning: *Yes*: at this pace {names} will run out before renewal on {slack_date(renewal)}."
        )
    elif known:
        names = _and([_label(m) for m in known])
        answer = (
            f":white_check_mark: *No*: at this pace {names} will last until renewal on {slack_date(renewal)}."
        )
    else:
        answer = "I can't tell yet: there are not enough readings this period, or usage is not rising."
    if known and not short and len(known) < len(shown):
        answer += " (Some allowances have no forecast yet.)"
    lines = []
    for meter in shown:
        forecast = known.get(meter)
        lines += [
            allowance_line(plan, meter) or "",
            forecast_line(meter.label, forecast, renewal) if forecast is not None else NO_FORECAST,
        ]
    blocks: list[Block] = [_section(BlockId.ANSWER, answer)]
    if lines:
        blocks.append(_section(BlockId.DETAILS, "\n".join(lines)))
    blocks.append(as_of_context(plan.account.data_as_of, BlockId.NOTE))
    text = (
        f"Will run out before renewal: {', '.join(m.label for m in short)}"
        if short
        else "Nothing runs out before renewal at this pace"
    )
    return Message(text=text if known else "No forecast yet", blocks=blocks)


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


# -- "when do we renew?" -----------------------------------------------------------------------------------


def renewal_message(plan: PlanSnapshot, today: date) -> Message:
    """The next payment date, its fee, and that the allowances start again then."""
    sub = plan.subscription
    when, fee = sub.next_payment_date, money(sub.monthly_fee, plan.account.currency)
    days = (when - today).days
    if days >= 0:
        soon = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
        answer = (
            f":calendar: Your *{escape(sub.plan_name)}* plan renews on {slack_date(when)} ({soon}), with the next"
            f" payment of *{fee}*. The allowances start again then."
        )
        text = f"Your {sub.plan_name} plan renews on {when.isoformat()}, with the next payment of {fee}."
    else:
        answer = (
            f":calendar: The next payment date on record, {slack_date(when)}, has passed: the new billing period"
            " has not reached My Plan yet."
        )
        text = f"The next payment date on record, {when.isoformat()}, has passed."
    blocks: list[Block] = [
        _section(BlockId.ANSWER, answer),
        as_of_context(plan.account.data_as_of, BlockId.NOTE),
    ]
    return Message(text=text, blocks=blocks)


# -- "who are our admins?" ---------------------------------------------------------------------------------


def admins_message(admins: Sequence[str], names: Mapping[str, str] | None = None) -> Message:
    """The account's administrators: as mentions, or by `names` where a mention would notify them (a
    channel)."""
    if admins:
        shown = [_person(user, names) for user in admins[:MAX_ADMINS_SHOWN]]
        more = f" and {len(admins) - MAX_ADMINS_SHOWN} more" if len(admins) > MAX_ADMINS_SHOWN else ""
        answer = f":bust_in_silhouette: My Plan's administrators here: {', '.join(shown)}{more}."
        text = f"My Plan's administrators: {', '.join(shown)}{more}."
    else:
        answer = ":bust_in_silhouette: No administrators are named for this account: the workspace's owners and admins are its administrators."
        text = answer.split(" ", 1)[1]
    note = (
        "The workspace's owners and admins count as administrators too. Administrators request upgrades,"
        " edit Company Information and change the alert settings."
    )
    return Message(text=text, blocks=[_section(BlockId.ANSWER, answer), _context(note)])


def _person(user: str, names: Mapping[str, str] | None) -> str:
    if names is None:
        return f"<@{user}>"
    name = names.get(user)
    return f"*{escape(name)}*" if name else f"<@{user}>"


# -- "what changed this week?" -----------------------------------------------------------------------------


def changes_message(changes: WeekChanges, week: DigestWeek, *, requests_hidden: bool) -> Message:
    """The weekly digest's changes for `week`; `requests_hidden`: upgrade requests left out (they are the
    administrators')."""
    blocks: list[Block] = [week_context(week), changes_section(changes, week)]
    if requests_hidden:
        blocks.append(_context("Upgrade requests are shown to administrators only."))
    return Message(text=f"What changed in the week to {week.week.isoformat()}", blocks=blocks)


# -- "what plan are we on?" --------------------------------------------------------------------------------


def plan_summary_message(plan: PlanSnapshot) -> Message:
    """The subscription summary and feature overview, as `/plan` shows them (its buttons belong to `/plan`)."""
    return Message(text=summary_text(plan), blocks=[*summary_blocks(plan), feature_overview(plan)])


# -- "what does a 10-minute call to Japan cost?" ------------------------------------------------------------


def rates_answer_message(answer: RateAnswer) -> Message:
    """The `/rates` answer, without its Share button: the answer is already where it was asked."""
    message = rate_message(answer)
    blocks = [b for b in message.blocks if b.block_id != RatesBlock.RATES_ACTIONS]
    return Message(text=message.text, blocks=blocks)


def which_destination_message() -> Message:
    text = (
        "Where to? Name a destination or a number: “What does a 10-minute call to Japan cost?”,"
        " “rates for +44 20 7946 0018”, “300 SMS to India”."
    )
    return Message(
        text=text, blocks=[_section(BlockId.ANSWER, f":earth_africa: {text}"), _context(BILLING_NOTE)]
    )


# -- what I can answer -------------------------------------------------------------------------------------


def examples_message(question: str | None = None) -> Message:
    """What I can answer; `question`: the one not understood, said back."""
    if question is None:
        intro = "Here is what I can answer, in your own words:"
    else:
        shown = escape(truncate(" ".join(question.split()), MAX_ECHOED))
        intro = (
            f"Sorry, I didn't understand “{shown}”. I can answer questions like these:"
            if shown
            else "I can answer questions like these:"
        )
    lines = [f"• *{entry.example}* — {entry.answers}" for entry in GRAMMAR]
    note = f"Typos and other word orders are fine. {SLASH_COMMANDS_HINT}"
    blocks: list[Block] = [
        _section(BlockId.ANSWER, f":speech_balloon: {intro}"),
        _section(BlockId.EXAMPLES, "\n".join(lines)),
        _context(note),
    ]
    examples = ", ".join(f"“{entry.example}”" for entry in GRAMMAR[:4])
    return Message(text=f"{intro} {examples}…", blocks=blocks)
