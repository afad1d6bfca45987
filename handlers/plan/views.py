"""The subscription summary: what `/plan` replies and the top of the Plan Monitoring tab."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

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
from handlers.messages import Message, as_of_context, money, slack_date, slack_datetime, truncate, usage_line
from handlers.plan.ids import Action
from handlers.plan.ids import Block as BlockId
from handlers.upgrade.ids import Action as UpgradeAction
from store.domain.plan import Feature, FeatureStatus, Meter, PlanSnapshot


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


Dashboard = Callable[[str], str]
"""Turns a dashboard path ("/campaigns/new") into the full URL of the vendor dashboard."""

STATUS_LOOK = {
    FeatureStatus.AVAILABLE: (":large_green_circle:", "Available"),
    FeatureStatus.PENDING: (":large_yellow_circle:", "Pending"),
    FeatureStatus.PROCESSING: (":hourglass_flowing_sand:", "Processing"),
    FeatureStatus.LOCKED: (":lock:", "Locked"),
}


def feature_status_text(feature: Feature, *, currency: str, is_admin: bool, dashboard: Dashboard) -> str:
    """`*Virtual Numbers*  🟢 Available` and what the status means, as Plan Monitoring shows a feature."""
    emoji, label = STATUS_LOOK[feature.status]
    detail = status_detail(feature, currency=currency, is_admin=is_admin, dashboard=dashboard)
    return f"*{feature.name}*  {emoji} {label}\n{detail}"


def status_detail(feature: Feature, *, currency: str, is_admin: bool, dashboard: Dashboard) -> str:
    """What the status means for this feature, and what the reader can do about it."""
    match feature.status:
        case FeatureStatus.AVAILABLE:
            if feature.limit is None:
                usage = f"{quantity(feature.used)} {feature.unit}"
            else:
                usage = usage_line(
                    feature.used, feature.limit, feature.unit, percent_used(feature.used, feature.limit)
                )
            fee = f" · {money(feature.monthly_fee, currency)}/month" if feature.monthly_fee else ""
            return usage + fee
        case FeatureStatus.PENDING:
            reason = feature.pending_reason or "It needs configuring before it can be used."
            if not is_admin:
                return f"Needs configuring: {reason}\nAn administrator can configure it."
            path = feature.configure_path or feature.manage_path
            link = f"\n<{dashboard(path)}|Configure it in the dashboard>" if path else ""
            return f"Needs configuring: {reason}{link}"
        case FeatureStatus.PROCESSING:
            return (
                f"Being activated since {slack_datetime(feature.status_since)}; it will be available shortly."
            )
        case FeatureStatus.LOCKED:
            if is_admin:
                return "Not in your plan. Choose *Request add-on* in its ⋮ menu to ask Sales for it."
            return "Not in your plan. An administrator can request it as an add-on."
