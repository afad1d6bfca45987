"""The subscription summary: what `/plan` replies and the top of the Plan Monitoring tab."""

from __future__ import annotations

from collections import Counter

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.plan.usage import is_high, percent_used, quantity
from handlers.messages import Message, as_of_context, money, slack_date, truncate, usage_line
from handlers.plan.ids import Action
from handlers.plan.ids import Block as BlockId
from handlers.upgrade.ids import Action as UpgradeAction
from store.domain.plan import FeatureStatus, Meter, PlanSnapshot


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
    lines += [line for meter in Meter if (line := allowance_line(plan, meter)) is not None]
    return "\n".join(lines)


def allowance_line(plan: PlanSnapshot, meter: Meter) -> str | None:
    """`*Voice call minutes*  ▰▰▰▱… 79% · 3,960 of 5,000 min`; None when the plan has no such allowance."""
    allowance = plan.allowance(meter)
    if allowance is None:
        return None
    percent = percent_used(allowance.used, allowance.available)
    return f"*{meter.label}*  {usage_line(allowance.used, allowance.available, meter.unit, percent)}"


def summary_text(plan: PlanSnapshot) -> str:
    """Fallback text for notifications and screen readers."""
    sub = plan.subscription
    parts = [
        f"{plan.account.company_name}: {sub.plan_name} plan, {money(sub.monthly_fee, plan.account.currency)}/month"
    ]
    for allowance in plan.allowances:
        parts.append(f"{allowance.meter.label} {quantity(allowance.used)} of {quantity(allowance.available)}")
    return "; ".join(parts)


def plan_actions(*, is_admin: bool, share: bool) -> list[ActionsBlock]:
    """Upgrade for administrators only (staff see only what they may use) and, on a private reply,
    Share in channel; no block when there is no button."""
    buttons = []
    if is_admin:
        buttons.append(ButtonElement(text="Upgrade", action_id=UpgradeAction.UPGRADE_OPEN, style="primary"))
    if share:
        buttons.append(ButtonElement(text="Share in channel", action_id=Action.PLAN_SHARE))
    return [ActionsBlock(block_id=BlockId.PLAN_ACTIONS, elements=buttons)] if buttons else []


def feature_overview(plan: PlanSnapshot) -> ContextBlock:
    """One line under `/plan`: how many features are in each status."""
    counts = Counter(f.status for f in plan.features)
    wording = {
        FeatureStatus.AVAILABLE: "available",
        FeatureStatus.PENDING: "need configuring",
        FeatureStatus.PROCESSING: "being activated",
        FeatureStatus.LOCKED: "locked",
    }
    parts = [f"{counts[s]} {wording[s]}" for s in FeatureStatus if counts[s]]
    summary = " · ".join(parts) if parts else "none listed yet"
    return ContextBlock(
        block_id=BlockId.PLAN_FEATURES,
        elements=[MarkdownTextObject(text=f"*Features:* {summary} — `/plan features` for details")],
    )


def plan_message(plan: PlanSnapshot, *, is_admin: bool) -> Message:
    """`/plan`: the summary, the feature overview, Upgrade (administrators) and Share in channel."""
    blocks = [*summary_blocks(plan), feature_overview(plan), *plan_actions(is_admin=is_admin, share=True)]
    return Message(text=_fallback_text(plan), blocks=blocks)


def shared_plan_message(plan: PlanSnapshot, shared_by: str) -> Message:
    """The summary posted visibly in a channel, saying who shared it; no buttons."""
    shared = ContextBlock(elements=[MarkdownTextObject(text=f"Shared by <@{shared_by}>")])
    blocks = [*summary_blocks(plan), feature_overview(plan), shared]
    return Message(text=_fallback_text(plan), blocks=blocks, response_type="in_channel")


def _fallback_text(plan: PlanSnapshot) -> str:
    high = [a.meter.label for a in plan.allowances if is_high(percent_used(a.used, a.available))]
    return summary_text(plan) + (f" (high: {', '.join(high)})" if high else "")
