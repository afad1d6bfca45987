"""The subscription summary: what `/plan` replies and the top of the Plan Monitoring tab."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.ids import Block as BlockId
from bot.usage import is_high, percent_used
from bot.views.common import Message, as_of_context, money, quantity, slack_date, truncate, usage_line
from store.domain.plan import Meter, PlanSnapshot


def summary_blocks(plan: PlanSnapshot) -> list[Block]:
    """The Subscription Summary of the vendor's page, as blocks (header, facts, usage, as-of note)."""
    sub = plan.subscription
    facts = [
        f"*Plan*\n{sub.plan_name}",
        f"*Next payment*\n{slack_date(sub.next_payment_date)}",
        f"*Monthly fee*\n{money(sub.monthly_fee, plan.account.currency)}",
        f"*Staff licences*\n{sub.staff_licences_assigned} of {sub.staff_licences_purchased} assigned",
    ]
    return [
        HeaderBlock(text=truncate(f"My Plan · {plan.account.company_name}", 150)),
        SectionBlock(block_id=BlockId.PLAN_SUMMARY, fields=[MarkdownTextObject(text=f) for f in facts]),
        SectionBlock(block_id=BlockId.PLAN_USAGE, text=MarkdownTextObject(text=usage_text(plan))),
        as_of_context(plan.account.data_as_of, BlockId.PLAN_NOTE),
    ]


def usage_text(plan: PlanSnapshot) -> str:
    lines = ["*Usage this billing period*"]
    for meter in Meter:
        allowance = plan.allowance(meter)
        if allowance is None:
            continue
        percent = percent_used(allowance.used, allowance.available)
        lines.append(
            f"*{meter.label}*  {usage_line(allowance.used, allowance.available, meter.unit, percent)}"
        )
    return "\n".join(lines)


def summary_text(plan: PlanSnapshot) -> str:
    """Fallback text for notifications and screen readers."""
    sub = plan.subscription
    parts = [
        f"{plan.account.company_name}: {sub.plan_name} plan, {money(sub.monthly_fee, plan.account.currency)}/month"
    ]
    for allowance in plan.allowances:
        parts.append(f"{allowance.meter.label} {quantity(allowance.used)} of {quantity(allowance.available)}")
    return "; ".join(parts)


def plan_message(plan: PlanSnapshot) -> Message:
    blocks = summary_blocks(plan)
    high = [a.meter.label for a in plan.allowances if is_high(percent_used(a.used, a.available))]
    text = summary_text(plan) + (f" (high: {', '.join(high)})" if high else "")
    return Message(text=text, blocks=blocks)
