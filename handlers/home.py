"""The App Home tab: published when the Home is opened and when a tab button is clicked."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserFacingError
from bot.ids import Action
from bot.listeners import ack_then, message_for
from bot.services import Services
from bot.tenant import Tenant, tenant_of
from bot.views.home import HomeTab, home_view
from bot.views.notices import plain
from store.errors import StoreUnavailable


@dataclass(frozen=True)
class HomeRequest:
    """Whose Home is being drawn, with what a tab builder needs."""

    user_id: str
    tenant: Tenant
    client: AsyncWebClient
    services: Services


TabBuilder = Callable[[HomeRequest], Awaitable[list[Block]]]


class HomeTabs:
    """The tab builders registered by each capability, and publishing the Home with one of them."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._builders: dict[HomeTab, TabBuilder] = {}

    def tab(self, tab: HomeTab) -> Callable[[TabBuilder], TabBuilder]:
        def register(builder: TabBuilder) -> TabBuilder:
            self._builders[tab] = builder
            return builder

        return register

    async def publish(
        self, client: AsyncWebClient, tenant: Tenant, user_id: str, tab: HomeTab | None = None
    ) -> None:
        """Publish `tab` (or the user's last tab) to the user's Home, remembering it as their last."""
        if tab is None:
            tab = _parse_tab(await self._last_tab(tenant.team_id, user_id))
        else:
            await self._services.store.home.remember_tab(tenant.team_id, user_id, tab.value)
        request = HomeRequest(user_id=user_id, tenant=tenant, client=client, services=self._services)
        await client.views_publish(user_id=user_id, view=home_view(tab, await self._body(tab, request)))

    async def _last_tab(self, team_id: str, user_id: str) -> str | None:
        try:
            return await self._services.store.home.last_tab(team_id, user_id)
        except StoreUnavailable:
            return None  # the body will say the store is unavailable

    async def _body(self, tab: HomeTab, request: HomeRequest) -> list[Block]:
        builder = self._builders.get(tab)
        if builder is None:
            return list(plain(f"{tab.label} is on its way.", ":construction:").blocks)
        try:
            return await builder(request)
        except (UserFacingError, StoreUnavailable) as error:
            # The Home has no response_url: the explanation goes where the user is looking.
            return list(message_for(error).blocks)


def _parse_tab(value: str | None) -> HomeTab:
    try:
        return HomeTab(value or HomeTab.PLAN)
    except ValueError:
        return HomeTab.PLAN


def register(app: AsyncApp, tabs: HomeTabs) -> None:
    async def home_opened(args: AsyncArgs) -> None:
        event = args.event or {}
        if event.get("tab") != "home":
            return  # the Messages tab: nothing to publish
        await tabs.publish(args.client, tenant_of(args.context), event["user"])

    async def tab_clicked(args: AsyncArgs) -> None:
        action = args.action or {}
        user = (args.body or {})["user"]["id"]
        await tabs.publish(args.client, tenant_of(args.context), user, _parse_tab(action.get("value")))

    app.event("app_home_opened")(ack_then(home_opened))
    app.action(re.compile(rf"^{re.escape(Action.HOME_TAB)}\.\w+$"))(ack_then(tab_clicked))
