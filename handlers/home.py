"""The App Home "My Plan": three tab buttons, as on the vendor's page, above the active tab's body.

Each capability registers the builder of its tab (`Routes.home_tab`); the Home is published when it is
opened and when a tab button is clicked, showing the user's last tab."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Final

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.core.errors import UserFacingError
from handlers.errors import message_for
from handlers.interaction import Interaction
from handlers.limits import view_dict
from handlers.messages import plain
from handlers.payloads import Payload, SuffixedId
from store.errors import StoreUnavailable

MAX_HOME_BLOCKS = 100
CHROME_BLOCKS = 3  # header, tab buttons, divider
TABS_BLOCK: Final = "home.tabs"
TAB_BUTTON: Final = SuffixedId("home.tab")
"""One button per tab: `home.tab.plan`, `home.tab.company`, `home.tab.rates`."""


class HomeTab(StrEnum):
    PLAN = "plan"
    COMPANY = "company"
    RATES = "rates"

    @property
    def label(self) -> str:
        return {"plan": "Plan Monitoring", "company": "Company Information", "rates": "Rate Table"}[
            self.value
        ]


class TabChoice(Payload):
    tab: HomeTab


def tab_buttons(active: HomeTab) -> ActionsBlock:
    return ActionsBlock(
        block_id=TABS_BLOCK,
        elements=[
            ButtonElement(
                text=tab.label,
                action_id=TAB_BUTTON.id(tab.value),
                value=TabChoice(tab=tab).encode(),
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


TabBuilder = Callable[[Interaction[Any]], Awaitable[list[Block]]]


class HomeTabs:
    """The tab builders registered by each capability, and publishing the Home with one of them."""

    def __init__(self) -> None:
        self._builders: dict[HomeTab, TabBuilder] = {}
        self._sections: dict[HomeTab, list[TabBuilder]] = {}

    def add(self, tab: HomeTab, builder: TabBuilder) -> None:
        self._builders[tab] = builder

    def add_section(self, tab: HomeTab, builder: TabBuilder) -> None:
        """Another capability's section under a tab's body (nothing when it builds no blocks)."""
        self._sections.setdefault(tab, []).append(builder)

    async def publish(self, interaction: Interaction[Any], tab: str | None = None) -> None:
        """Publish `tab` (or the user's last tab) to the user's Home, remembering it as their last."""
        team_id, user_id = interaction.workspace.team_id, interaction.user_id
        if tab is None:
            shown = _parse_tab(await _last_tab(interaction))
        else:
            shown = _parse_tab(tab)
            await interaction.store.home.remember_tab(team_id, user_id, shown.value)
        body = await self._body(shown, interaction)
        await interaction.client.views_publish(user_id=user_id, view=view_dict(home_view(shown, body)))

    async def _body(self, tab: HomeTab, interaction: Interaction[Any]) -> list[Block]:
        builder = self._builders.get(tab)
        if builder is None:
            return list(plain(f"{tab.label} is on its way.", ":construction:").blocks)
        body = await _built(builder, interaction)
        for section in self._sections.get(tab, []):
            blocks = await _built(section, interaction)
            if blocks and len(body) + 1 + len(blocks) <= MAX_HOME_BLOCKS - CHROME_BLOCKS:
                body += [DividerBlock(), *blocks]
        return body

    async def home_opened(self, interaction: Interaction[Mapping[str, Any]]) -> None:
        if interaction.value.get("tab") != "home":
            return  # the Messages tab: nothing to publish
        await self.publish(interaction)

    async def tab_clicked(self, interaction: Interaction[TabChoice]) -> None:
        await self.publish(interaction, interaction.value.tab)


async def _built(builder: TabBuilder, interaction: Interaction[Any]) -> list[Block]:
    try:
        return await builder(interaction)
    except (UserFacingError, StoreUnavailable) as error:
        # The Home has no response_url: the explanation goes where the user is looking.
        return list(message_for(error).blocks)


async def _last_tab(interaction: Interaction[Any]) -> str | None:
    try:
        return await interaction.store.home.last_tab(interaction.workspace.team_id, interaction.user_id)
    except StoreUnavailable:
        return None  # the body will say the store is unavailable


def _parse_tab(value: str | None) -> HomeTab:
    try:
        return HomeTab(value or HomeTab.PLAN)
    except ValueError:
        return HomeTab.PLAN
