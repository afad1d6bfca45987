"""What an upgrade request says, in words every place that shows it shares (the Sales post, the requester's
messages, the email to Sales)."""

from __future__ import annotations

from bot.plan.usage import is_high, percent_used, quantity
from store.domain.upgrades import Evidence, UpgradeKind, UpgradeRequest, UsageFigure


def request_title(request: UpgradeRequest) -> str:
    return "Add-on request" if request.kind == UpgradeKind.FEATURE else "Upgrade request"


def wanted(request: UpgradeRequest) -> str:
    """What was asked for, in a few words: "More voice call minutes: 2,000 minutes"."""
    if request.kind == UpgradeKind.FEATURE and request.feature_name:
        return f"Add-on: {request.feature_name}"
    if request.quantity is not None:
        return f"{request.kind.label}: {quantity(request.quantity)} {request.kind.unit}"
    return request.kind.label


def high_figures(evidence: Evidence) -> list[UsageFigure]:
    """Every allowance or feature at or above the 80% warning level."""
    return [
        f
        for f in (*evidence.allowances, *evidence.features)
        if f.limit is not None and is_high(percent_used(f.used, f.limit))
    ]
