"""`/plan` and `/plan help`: the subscription summary."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.views.home import HomeTab
from bot.views.plan import plan_message, summary_blocks
from handlers.home import HomeRequest, HomeTabs
from handlers.router import CommandRequest, PlanCommands


def register(commands: PlanCommands, tabs: HomeTabs) -> None:
    @tabs.tab(HomeTab.PLAN)
    async def plan_tab(request: HomeRequest) -> list[Block]:
        account_id = await request.tenant.account_id()
        return summary_blocks(await request.services.store.accounts.snapshot(account_id))

    @commands.subcommand(PlanCommands.DEFAULT, usage="/plan", summary="your subscription summary and usage")
    async def show_plan(request: CommandRequest) -> None:
        account_id = await request.tenant.account_id()
        plan = await request.services.store.accounts.snapshot(account_id)
        await request.reply(plan_message(plan))

    @commands.subcommand("help", usage="/plan help", summary="what My Plan can do")
    async def show_help(request: CommandRequest) -> None:
        await request.reply(commands.help())
