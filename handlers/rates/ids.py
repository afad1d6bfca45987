"""The rates capability's action, block and callback ids."""

from __future__ import annotations

from enum import StrEnum

from handlers.payloads import SuffixedId


class Action(StrEnum):
    RATES_SHARE = "rates.share"
    RATES_PICK = "rates.pick"
    RATES_EXPORT = "rates.export"


class Block(StrEnum):
    RATES_RESULT = "rates.result"
    RATES_RATES = "rates.rates"
    RATES_ESTIMATE = "rates.estimate"
    RATES_CHOICES = "rates.choices"
    RATES_NOTE = "rates.note"
    RATES_ACTIONS = "rates.actions"
    RATES_CHANGES = "rates.changes"
    RATES_IMPACT = "rates.impact"
    RATES_TOOLS = "rates.tools"
    RATES_CHOSEN = "rates.chosen"
    RATES_PAGE_HEAD = "rates.page.head"
    RATES_PAGER = "rates.pager"


LOOKUP_BUTTON = SuffixedId("rates.lookup", r"\d+")
"""Buttons that look a destination up again (suggestions): `rates.lookup.0` … `rates.lookup.n`."""
PAGE_BUTTON = SuffixedId("rates.page", "first|prev|next|last")
"""The Rate Table tab's pager: `rates.page.first`, `.prev`, `.next`, `.last`."""
