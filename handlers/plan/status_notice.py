"""The short notice posted to an account's alerts channel when a feature's status changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from handlers.messages import Message, slack_datetime, truncate
from handlers.plan.views import STATUS_LOOK
from store.domain.account import FeatureStatusChange
from store.domain.plan import Account, Feature, FeatureStatus

_MEANING = {
    FeatureStatus.AVAILABLE: "is ready to use",
    FeatureStatus.PENDING: "needs configuring before it can be used",
    FeatureStatus.PROCESSING: "is being activated",
    FeatureStatus.LOCKED: "is not part of your plan any more",
}
MAX_SECTION_TEXT = 3000


def status_notice(
    account: Account,
    changes: Sequence[tuple[Feature, FeatureStatusChange]],
    dashboard_link: Callable[[str], str],
) -> Message:
    """One message for the status changes of one update (usually a single feature)."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=truncate(_line(feature, change, dashboard_link), MAX_SECTION_TEXT))
        )
        for feature, change in changes
    ]
    latest = max(change.at for _, change in changes)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text=f"{truncate(account.company_name, 200)} · {slack_datetime(latest)}")
            ]
        )
    )
    text = "; ".join(
        f"{feature.name} is now {STATUS_LOOK[change.after][1]} (was {STATUS_LOOK[change.before][1]})"
        for feature, change in changes
    )
    return Message(text=text, blocks=blocks)


def _line(feature: Feature, change: FeatureStatusChange, dashboard_link: Callable[[str], str]) -> str:
    after = change.after
    line = (
        f"{STATUS_LOOK[after][0]} *{feature.name}* {_MEANING[after]}: now *{STATUS_LOOK[after][1]}*"
        f" (was {STATUS_LOOK[change.before][1]})."
    )
    if after == FeatureStatus.PENDING:
        if feature.pending_reason:
            line += f"\n{feature.pending_reason}"
        if feature.configure_path:
            line += f"\n<{dashboard_link(feature.configure_path)}|Configure it in the dashboard>"
    elif after == FeatureStatus.AVAILABLE and feature.manage_path:
        line += f"\n<{dashboard_link(feature.manage_path)}|Manage it in the dashboard>"
    elif after == FeatureStatus.LOCKED:
        line += "\nAn administrator can request it as an add-on or an upgrade."
    return line
