"""`/plan usage`: each allowance's run-out forecast, and its burn-down chart sent to the user's DM."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError

from bot.alerts.burndown import plan_burn_downs
from bot.alerts.chart import BurnDown, burndown_png
from handlers.alerts.views import chart_comment, usage_summary_message
from handlers.interaction import Interaction
from store.domain.plan import Meter, PlanSnapshot

log = logging.getLogger(__name__)


async def show_usage(interaction: Interaction[str]) -> None:
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    charts = await plan_burn_downs(interaction.store, plan)
    chart_channel = await _send_chart(interaction, plan, charts) if charts else None
    forecasts = {meter: chart.forecast for meter, chart in charts.items()}
    await interaction.reply(usage_summary_message(plan, forecasts, chart_channel=chart_channel))


async def _send_chart(
    interaction: Interaction[str], plan: PlanSnapshot, charts: dict[Meter, BurnDown]
) -> str | None:
    """Upload the chart to the user's DM with My Plan (replies stay private); the DM's id, or None."""
    png = await asyncio.to_thread(
        burndown_png,
        list(charts.values()),
        title=f"{plan.account.company_name}: allowances this billing period",
    )
    try:
        opened = await interaction.client.conversations_open(users=interaction.user_id)
        dm = str(opened["channel"]["id"])
        await interaction.client.files_upload_v2(
            channel=dm,
            file=png,
            filename="usage-burn-down.png",
            title="Allowances this billing period",
            alt_txt="Burn-down chart of each allowance with the run-out forecast and the renewal date",
            initial_comment=chart_comment(plan, interaction.services.clock()),
        )
    except SlackApiError as error:
        log.warning("could not send the usage chart to %s: %s", interaction.user_id, error)
        return None
    return dm
