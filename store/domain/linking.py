"""Linking a Slack workspace to a service account with a one-time code."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class LinkOutcome(StrEnum):
    LINKED = "linked"
    """The workspace is now linked to the code's account (or already was) and the user is an administrator."""
    UNKNOWN = "unknown"
    """No such code: a wrong guess."""
    EXPIRED = "expired"
    USED = "used"
    LINKED_ELSEWHERE = "linked_elsewhere"
    """The workspace is linked to another account; the code was left unused."""


class Redemption(BaseModel):
    """What happened when a workspace tried a link code."""

    model_config = ConfigDict(frozen=True)

    outcome: LinkOutcome
    account_id: str | None = None
    """The code's account when LINKED; the workspace's current account when LINKED_ELSEWHERE."""
    already_linked: bool = False
    """LINKED, and the workspace was linked to that account before."""
