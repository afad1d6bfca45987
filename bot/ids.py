"""Every action_id, callback_id and block_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    HOME_TAB = "home.tab"
    # Rate Table: buttons that look a destination up again (suggestions; suffixed .0–.n), Share, the
    # Home tab's picker (an external_select served by an options listener), paging and export.
    RATES_LOOKUP = "rates.lookup"
    RATES_SHARE = "rates.share"
    RATES_PICK = "rates.pick"
    RATES_PAGE = "rates.page"
    RATES_EXPORT = "rates.export"


class Block(StrEnum):
    HOME_TABS = "home.tabs"
    PLAN_SUMMARY = "plan.summary"
    PLAN_USAGE = "plan.usage"
    PLAN_NOTE = "plan.note"
    PLAN_ACTIONS = "plan.actions"
    RATES_RESULT = "rates.result"
    RATES_RATES = "rates.rates"
    RATES_ESTIMATE = "rates.estimate"
    RATES_CHOICES = "rates.choices"
    RATES_NOTE = "rates.note"
    RATES_ACTIONS = "rates.actions"
    RATES_CHANGES = "rates.changes"
    RATES_TOOLS = "rates.tools"
    RATES_CHOSEN = "rates.chosen"
    RATES_PAGE_HEAD = "rates.page.head"
    RATES_PAGER = "rates.pager"


class Callback(StrEnum):
    pass
