"""The weekly digest's block ids and message metadata event."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Block(StrEnum):
    DIGEST_HEADER = "digest.header"
    DIGEST_WEEK = "digest.week"
    DIGEST_ALLOWANCES = "digest.allowances"
    DIGEST_CHANGES = "digest.changes"
    DIGEST_NOTE = "digest.note"


DIGEST_EVENT: Final = "myplan_weekly_digest"
"""Message metadata event type: each digest carries its id, so a post whose answer was lost can be found."""
