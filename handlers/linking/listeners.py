"""`/plan link CODE`: a workspace admin links the workspace to a service account with a one-time code."""

from __future__ import annotations

from bot.linking.codes import NotWorkspaceAdmin, redeem_link_code
from handlers.interaction import Interaction
from handlers.linking.views import link_usage_message, linked_message
from handlers.routes import Routes


def register(routes: Routes) -> None:
    routes.subcommand(
        "link",
        link,
        usage="/plan link CODE",
        summary="link this workspace to your service account (workspace admins)",
    )


async def link(interaction: Interaction[str]) -> None:
    if not interaction.value:
        await interaction.reply(link_usage_message())
        return
    workspace = interaction.workspace
    if not await workspace.is_workspace_admin(interaction.user_id):
        raise NotWorkspaceAdmin()
    store = interaction.store
    linked = await redeem_link_code(
        store, team_id=workspace.team_id, user_id=interaction.user_id, text=interaction.value
    )
    plan = await store.accounts.snapshot(linked.account_id)
    await interaction.reply(
        linked_message(plan.account.company_name, linked.account_id, already_linked=linked.already_linked)
    )
