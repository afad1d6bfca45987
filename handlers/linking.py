"""`/plan link CODE`: a workspace admin links the workspace to a service account with a one-time code."""

from __future__ import annotations

from bot.linking import NotWorkspaceAdmin, redeem_link_code
from bot.views.linking import link_usage_message, linked_message
from handlers.router import CommandRequest, PlanCommands


def register(commands: PlanCommands) -> None:
    @commands.subcommand(
        "link",
        usage="/plan link CODE",
        summary="link this workspace to your service account (workspace admins)",
    )
    async def link(request: CommandRequest) -> None:
        if not request.args:
            await request.reply(link_usage_message())
            return
        if not await request.tenant.is_workspace_admin(request.user_id):
            raise NotWorkspaceAdmin()
        store = request.services.store
        linked = await redeem_link_code(
            store, team_id=request.tenant.team_id, user_id=request.user_id, text=request.args
        )
        plan = await store.accounts.snapshot(linked.account_id)
        await request.reply(
            linked_message(plan.account.company_name, linked.account_id, already_linked=linked.already_linked)
        )
