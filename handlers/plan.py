"""`/plan`, `/plan features`, `/plan help`, Share in channel, and the Plan Monitoring tab of the Home."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.models.blocks import Block

from bot.errors import UserFacingError
from bot.ids import Action
from bot.listeners import ack_then, responder
from bot.services import Services
from bot.tenant import tenant_of
from bot.views.features import features_message, plan_monitoring_blocks
from bot.views.home import HomeTab
from bot.views.plan import plan_message, shared_plan_message
from handlers.home import HomeRequest, HomeTabs
from handlers.router import CommandRequest, PlanCommands


def register(app: AsyncApp, services: Services, commands: PlanCommands, tabs: HomeTabs) -> None:

    @tabs.tab(HomeTab.PLAN)
    async def plan_tab(request: HomeRequest) -> list[Block]:
        account_id = await request.tenant.account_id()
        plan = await request.services.store.accounts.snapshot(account_id)
        is_admin = await request.tenant.is_admin(request.user_id)
        return plan_monitoring_blocks(
            plan, is_admin=is_admin, dashboard=request.services.settings.dashboard_link
        )

    @commands.subcommand(PlanCommands.DEFAULT, usage="/plan", summary="your subscription summary and usage")
    async def show_plan(request: CommandRequest) -> None:
        account_id = await request.tenant.account_id()
        plan = await request.services.store.accounts.snapshot(account_id)
        await request.reply(plan_message(plan))

    @commands.subcommand(
        "features", usage="/plan features", summary="each feature's status and usage, with its menu"
    )
    async def show_features(request: CommandRequest) -> None:
        account_id = await request.tenant.account_id()
        plan = await request.services.store.accounts.snapshot(account_id)
        is_admin = await request.tenant.is_admin(request.user_id)
        dashboard = request.services.settings.dashboard_link
        await request.reply(features_message(plan, is_admin=is_admin, dashboard=dashboard))

    @commands.subcommand("help", usage="/plan help", summary="what My Plan can do")
    async def show_help(request: CommandRequest) -> None:
        await request.reply(commands.help())

    async def share(args: AsyncArgs) -> None:
        """Post the summary visibly where `/plan` was run, fresh from the store."""
        respond = responder(args)
        if respond is None:
            raise UserFacingError("Share in channel works from a `/plan` reply.")
        plan = await services.store.accounts.snapshot(await tenant_of(args.context).account_id())
        user_id = (args.body or {})["user"]["id"]
        await respond(**shared_plan_message(plan, user_id).as_response())

    app.action(Action.PLAN_SHARE)(ack_then(share))
