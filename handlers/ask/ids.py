"""The ask capability's block ids."""

from __future__ import annotations

from enum import StrEnum


class Block(StrEnum):
    ANSWER = "ask.answer"  # the direct answer
    DETAILS = "ask.details"  # what it rests on (bars, forecasts)
    NOTE = "ask.note"  # the data's "as of" time and the invoice note, or a hint
    EXAMPLES = "ask.examples"  # what I can answer
