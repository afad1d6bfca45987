"""Where the money goes: after the `/plan usage` reply, and a section of the Plan Monitoring tab."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from bot.traffic.spend import SpendReport, spend_report
from handlers.home import HomeTab
from handlers.interaction import Interaction
from handlers.routes import Routes
from handlers.traffic.views import spend_blocks, spend_message


def register(routes: Routes) -> None:
    routes.follow_up("usage", show_spend)
    routes.home_section(HomeTab.PLAN, spend_section)


async def show_spend(interaction: Interaction[str]) -> None:
    """Only for an account with traffic this period or the last: no empty report for the others."""
    if (report := await _report(interaction)) is not None:
        await interaction.reply(spend_message(report))


async def spend_section(interaction: Interaction[Any]) -> list[Block]:
    report = await _report(interaction)
    return spend_blocks(report) if report is not None else []


async def _report(interaction: Interaction[Any]) -> SpendReport | None:
    account_id = await interaction.account_id()
    plan = await interaction.store.accounts.snapshot(account_id)
    report = await spend_report(
        interaction.store, account_id, plan.subscription, interaction.services.clock()
    )
    return None if report.is_empty and not report.total_before else report
