"""Feature ⋮ menus. Create, Manage and Configure are dashboard links (Slack opens them; the click
is only acknowledged); Request add-on opens the upgrade modal prefilled with the locked feature."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.errors import NotFoundHere, UserFacingError
from bot.ids import Action
from bot.listeners import ack_then
from bot.services import Services
from bot.tenant import tenant_of
from bot.views.features import STATUS_LOOK, MenuChoice, MenuVerb
from bot.views.upgrade import UpgradeForm
from handlers.upgrade import WHAT_ADMINS_DO, open_upgrade_modal
from store.domain.plan import FeatureStatus
from store.domain.upgrades import UpgradeKind

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    async def menu_chosen(args: AsyncArgs) -> None:
        selected = (args.action or {}).get("selected_option") or {}
        try:
            choice = MenuChoice.parse(str(selected.get("value") or ""))
        except ValidationError:
            log.info("ignored an unknown feature menu option %r", selected.get("value"))
            return
        if choice.verb != MenuVerb.REQUEST_ADDON:
            return  # a dashboard link: Slack has opened it in the browser
        await request_addon(args, choice)

    async def request_addon(args: AsyncArgs, choice: MenuChoice) -> None:
        body = args.body or {}
        tenant = tenant_of(args.context)
        await tenant.require_admin(body["user"]["id"], WHAT_ADMINS_DO)
        plan = await services.store.accounts.snapshot(await tenant.account_id())
        feature = next((f for f in plan.features if f.key == choice.feature), None)
        if feature is None:
            raise NotFoundHere(f"the feature {choice.feature.info.name}")
        if feature.status != FeatureStatus.LOCKED:
            status = STATUS_LOOK[feature.status][1].lower()
            raise UserFacingError(f"{feature.name} is already part of your plan ({status}).")
        prefill = UpgradeForm(kind=UpgradeKind.FEATURE, feature=feature.key)
        await open_upgrade_modal(args.client, body["trigger_id"], plan, prefill)

    app.action(Action.FEATURE_MENU)(ack_then(menu_chosen))
