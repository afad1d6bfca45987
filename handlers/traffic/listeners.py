"""Traffic by destination in Slack: where the money goes (after `/plan usage`, and a section of the Plan
Monitoring tab), and the buttons of spike alerts."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Final

from slack_sdk.models.blocks import Block

from bot.core.errors import NotFoundHere
from bot.traffic.spend import SpendReport, spend_report
from bot.traffic.webhook import BlockWebhook
from handlers import periodic
from handlers.home import HomeTab
from handlers.interaction import Interaction
from handlers.routes import Routes
from handlers.traffic.ids import Action
from handlers.traffic.spike_views import SpikeRef, block_exists_message, spike_message
from handlers.traffic.views import spend_blocks, spend_message
from store.domain.traffic import MuteReason, SpikeAlert
from store.errors import NotFound

log = logging.getLogger(__name__)

STALE: Final = "That alert is no longer available."
WHAT_ADMINS_DO: Final = "act on traffic spike alerts"
EXPECTED_FOR: Final = timedelta(days=7)
SNOOZE_FOR: Final = timedelta(hours=24)


def register(routes: Routes) -> None:
    routes.follow_up("usage", show_spend)
    routes.home_section(HomeTab.PLAN, spend_section)
    routes.action(Action.SPIKE_BLOCK, block_clicked, value=SpikeRef, again=STALE)
    routes.action(Action.SPIKE_EXPECTED, expected_clicked, value=SpikeRef, again=STALE)
    routes.action(Action.SPIKE_SNOOZE, snooze_clicked, value=SpikeRef, again=STALE)


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


async def block_clicked(interaction: Interaction[SpikeRef]) -> None:
    """Record the block and hand it to the billing platform (its webhook now, when one is set)."""
    await interaction.require_admin(WHAT_ADMINS_DO)
    spike = await _own_spike(interaction)
    services = interaction.services
    webhook = BlockWebhook.from_settings(
        services.settings, services.store, services.session, clock=services.clock
    )
    block, created = await services.store.traffic_alerts.block(
        spike.id, by=interaction.user_id, now=services.clock(), webhook=webhook is not None
    )
    if not created:
        await interaction.reply(block_exists_message(block))
    await _refresh(interaction, spike.id)
    if created and webhook is not None:
        await periodic.logged(f"destination block {block.id} webhook", webhook.deliver_due())


async def expected_clicked(interaction: Interaction[SpikeRef]) -> None:
    await _mute(interaction, MuteReason.EXPECTED, EXPECTED_FOR)


async def snooze_clicked(interaction: Interaction[SpikeRef]) -> None:
    await _mute(interaction, MuteReason.SNOOZED, SNOOZE_FOR)


async def _mute(interaction: Interaction[SpikeRef], reason: MuteReason, length: timedelta) -> None:
    await interaction.require_admin(WHAT_ADMINS_DO)
    spike = await _own_spike(interaction)
    now = interaction.services.clock()
    await interaction.store.traffic_alerts.mute(
        spike.id, reason=reason, until=now + length, by=interaction.user_id, now=now
    )
    await _refresh(interaction, spike.id)


async def _own_spike(interaction: Interaction[SpikeRef]) -> SpikeAlert:
    """The alert named by the button, checked to belong to the requesting workspace's account."""
    try:
        spike = await interaction.store.traffic_alerts.get(interaction.value.id)
    except NotFound:
        spike = None
    if spike is None or spike.account_id != await interaction.account_id():
        raise NotFoundHere("that spike alert")
    return spike


async def _refresh(interaction: Interaction[Any], spike_id: int) -> None:
    """Show the alert's state in its message (the worker catches up if this update fails)."""
    alert = await interaction.store.traffic_alerts.get(spike_id)
    if alert.channel is None or alert.message_ts is None:
        return
    await interaction.client.chat_update(
        channel=alert.channel, ts=alert.message_ts, **spike_message(alert).as_kwargs()
    )
    await interaction.store.traffic_alerts.shown(alert.id, alert.version)
