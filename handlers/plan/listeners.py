"""Plan Monitoring: `/plan`, `/plan features`, `/plan help`, Share in channel, the feature ⋮ menus and the
Plan Monitoring tab of the Home."""

from __future__ import annotations

from typing import Any, Final

from slack_sdk.models.blocks import Block

from bot.core.errors import NotFoundHere, UserFacingError
from handlers.commands import DEFAULT
from handlers.home import HomeTab
from handlers.interaction import Interaction
from handlers.plan.features import MenuChoice, MenuVerb, features_message, plan_monitoring_blocks
from handlers.plan.ids import Action
from handlers.plan.views import STATUS_LOOK, plan_message, shared_plan_message
from handlers.routes import Routes
from handlers.upgrade.entry import WHAT_ADMINS_DO, open_upgrade_modal
from handlers.upgrade.form import UpgradeForm
from store.domain.plan import FeatureStatus
from store.domain.upgrades import UpgradeKind

STALE_MENU: Final = "Run `/plan features` again."


def register(routes: Routes) -> None:
    routes.home_tab(HomeTab.PLAN, plan_tab)
    routes.subcommand(DEFAULT, show_plan, usage="/plan", summary="your subscription summary and usage")
    routes.subcommand(
        "features",
        show_features,
        usage="/plan features",
        summary="each feature's status and usage, with its menu",
    )
    routes.subcommand("help", routes.commands.show_help, usage="/plan help", summary="what My Plan can do")
    routes.action(Action.PLAN_SHARE, share)
    routes.action(Action.FEATURE_MENU, menu_chosen, value=MenuChoice, again=STALE_MENU)


async def plan_tab(interaction: Interaction[Any]) -> list[Block]:
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    dashboard = interaction.settings.dashboard_link
    return plan_monitoring_blocks(plan, is_admin=await interaction.is_admin(), dashboard=dashboard)


async def show_plan(interaction: Interaction[str]) -> None:
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    await interaction.reply(plan_message(plan, is_admin=await interaction.is_admin()))


async def show_features(interaction: Interaction[str]) -> None:
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    dashboard = interaction.settings.dashboard_link
    await interaction.reply(
        features_message(plan, is_admin=await interaction.is_admin(), dashboard=dashboard)
    )


async def share(interaction: Interaction[None]) -> None:
    """Post the summary visibly where `/plan` was run, fresh from the store."""
    if interaction.respond is None:
        raise UserFacingError("Share in channel works from a `/plan` reply.")
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    await interaction.reply(shared_plan_message(plan, interaction.user_id))


async def menu_chosen(interaction: Interaction[MenuChoice]) -> None:
    """Create, Manage and Configure are dashboard links (Slack opens them; the click is only
    acknowledged); Request add-on opens the upgrade modal prefilled with the locked feature."""
    choice = interaction.value
    if choice.verb != MenuVerb.REQUEST_ADDON:
        return
    await interaction.require_admin(WHAT_ADMINS_DO)
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    feature = next((f for f in plan.features if f.key == choice.feature), None)
    if feature is None:
        raise NotFoundHere(f"the feature {choice.feature.info.name}")
    if feature.status != FeatureStatus.LOCKED:
        status = STATUS_LOOK[feature.status][1].lower()
        raise UserFacingError(f"{feature.name} is already part of your plan ({status}).")
    await open_upgrade_modal(interaction, plan, UpgradeForm(kind=UpgradeKind.FEATURE, feature=feature.key))
