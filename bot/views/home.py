"""The App Home "My Plan": three tab buttons, as on the vendor's page, above the active tab's body."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.ids import Action
from bot.ids import Block as BlockId

MAX_HOME_BLOCKS = 100
CHROME_BLOCKS = 3  # header, tab buttons, divider


class HomeTab(StrEnum):
    PLAN = "plan"
    COMPANY = "company"
    RATES = "rates"

    @property
    def label(self) -> str:
        return {"plan": "Plan Monitoring", "company": "Company Information", "rates": "Rate Table"}[
            self.value
        ]


def tab_buttons(active: HomeTab) -> ActionsBlock:
    return ActionsBlock(
        block_id=BlockId.HOME_TABS,
        elements=[
            ButtonElement(
                text=tab.label,
                action_id=f"{Action.HOME_TAB}.{tab.value}",
                value=tab.value,
                style="primary" if tab == active else None,
            )
            for tab in HomeTab
        ],
    )


def home_view(active: HomeTab, body: Sequence[Block]) -> View:
    """The Home tab; `body` must leave room for the three blocks of chrome (100 blocks in all)."""
    if len(body) > MAX_HOME_BLOCKS - CHROME_BLOCKS:
        raise ValueError(
            f"home tab body has {len(body)} blocks; at most {MAX_HOME_BLOCKS - CHROME_BLOCKS} fit"
        )
    blocks: list[Block] = [HeaderBlock(text="My Plan"), tab_buttons(active), DividerBlock(), *body]
    return View(type="home", blocks=blocks)
