"""The unfurl capability's block ids."""

from __future__ import annotations

from enum import StrEnum


class Block(StrEnum):
    UNFURL_FEATURE = "unfurl.feature"
    UNFURL_NOTE = "unfurl.note"
