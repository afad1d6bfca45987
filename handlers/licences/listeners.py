"""Licence hygiene on demand: administrators get it after the `/plan usage` reply; Manage is a link."""

from __future__ import annotations

from handlers.interaction import Interaction
from handlers.licences.ids import Action
from handlers.licences.report import licence_report
from handlers.routes import Routes


def register(routes: Routes) -> None:
    routes.follow_up("usage", show_licence_hygiene)
    routes.action(Action.LICENCES_MANAGE, manage_opened)


async def show_licence_hygiene(interaction: Interaction[str]) -> None:
    """Only administrators: it names staff and prices licences, which is theirs to act on."""
    if not await interaction.is_admin():
        return
    report = await licence_report(
        interaction.store,
        await interaction.account_id(),
        now=interaction.services.clock(),
        dashboard=interaction.settings.dashboard_link,
    )
    await interaction.reply(report.message)


async def manage_opened(interaction: Interaction[None]) -> None:
    """Slack opens the staff page itself; the click only needs its ack."""
