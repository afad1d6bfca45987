"""Quota alerts in Slack: `/plan alerts` (the settings modal) and the buttons on alert messages (View
plan, Request more, Snooze, Acknowledge). `/plan usage` is in `handlers.alerts.usage`."""

from __future__ import annotations

import logging
from typing import Any, Final

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.rules import snooze_until, watched_meters
from bot.core.errors import UnknownAlert
from bot.plan.usage import quantity
from handlers.alerts.ids import Action, Callback
from handlers.alerts.ids import Block as BlockId
from handlers.alerts.settings import (
    SETTINGS,
    AlertSettingsForm,
    AlertSettingsMeta,
    alert_settings_message,
    alert_settings_modal,
    alerts_channel_notice,
    settings_saved_message,
)
from handlers.alerts.usage import show_usage
from handlers.alerts.views import AlertRef, SnoozeValue, alert_message, already_acknowledged_message
from handlers.interaction import Accepted, Interaction, ViewAck, field_errors
from handlers.messages import Message
from handlers.plan.views import plan_message
from handlers.routes import Routes
from handlers.time_zone import learned_rules
from handlers.upgrade.entry import start_upgrade
from handlers.upgrade.form import UpgradeForm
from store.domain.alerts import Alert
from store.domain.plan import STAFF_LICENCES, Meter
from store.domain.upgrades import UpgradeKind
from store.errors import NotFound

log = logging.getLogger(__name__)

STALE: Final = "Run `/plan alerts` again."


def register(routes: Routes) -> None:
    routes.subcommand(
        "alerts",
        alert_settings,
        usage="/plan alerts",
        summary="quota alert settings: on/off, channel, thresholds, per meter",
    )
    routes.subcommand(
        "usage",
        show_usage,
        usage="/plan usage",
        summary="burn-down chart of this period's allowances, with run-out forecasts",
    )
    routes.action(Action.ALERT_VIEW_PLAN, view_plan, value=AlertRef, again=STALE)
    routes.action(Action.ALERT_REQUEST_MORE, request_more, value=AlertRef, again=STALE)
    routes.action(Action.ALERT_SNOOZE, snooze, value=SnoozeValue, again=STALE)
    routes.action(Action.ALERT_ACKNOWLEDGE, acknowledge, value=AlertRef, again=STALE)
    routes.view(Callback.ALERT_SETTINGS, check_settings, save_settings)


def upgrade_prefill(alert: Alert) -> UpgradeForm:
    """The upgrade request "Request more" opens: more of the allowance the alert is about (a feature at
    its limit needs a bigger plan), with the alert's figures in the note for Sales."""
    if alert.meter in {m.value for m in Meter}:
        kind = UpgradeKind.for_meter(Meter(alert.meter))
    elif alert.meter == STAFF_LICENCES:
        kind = UpgradeKind.STAFF_LICENCES
    else:
        kind = UpgradeKind.PLAN
    note = (
        f"Quota alert: {alert.label} at {quantity(alert.used)} of {quantity(alert.available)} {alert.unit}."
    )
    return UpgradeForm(kind=kind, note=note)


async def alert_settings(interaction: Interaction[str]) -> None:
    store = interaction.store
    account_id = await interaction.account_id()
    rules = await learned_rules(store, interaction.client, account_id, asking=interaction.user_id)
    recent = await store.alerts.recent(account_id)
    if not await interaction.is_admin():
        await interaction.reply(
            alert_settings_message(rules, recent, admins=await store.admins.list(account_id))
        )
        return
    meters = watched_meters(await store.accounts.snapshot(account_id))
    meta = AlertSettingsMeta(
        account_id=account_id, origin_channel=interaction.channel_id, meters=tuple(meters)
    )
    digest = await store.digests.schedule(account_id)
    await interaction.open_modal(alert_settings_modal(rules, meters, recent, meta, digest))


async def view_plan(interaction: Interaction[AlertRef]) -> None:
    await _own_alert(interaction)
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    await interaction.reply(plan_message(plan, is_admin=await interaction.is_admin()))


async def request_more(interaction: Interaction[AlertRef]) -> None:
    alert = await _own_alert(interaction)
    await start_upgrade(interaction, upgrade_prefill(alert))


async def snooze(interaction: Interaction[SnoozeValue]) -> None:
    await interaction.require_admin("snooze alerts")
    alert = await _alert(interaction, interaction.value.id)
    now = interaction.services.clock()
    until = snooze_until(interaction.value.choice, now, alert.period_end)
    updated = await interaction.store.alerts.snooze(
        alert.account_id, alert.id, by=interaction.user_id, until=until, now=now
    )
    await _refresh(interaction, updated)


async def acknowledge(interaction: Interaction[AlertRef]) -> None:
    await interaction.require_admin("acknowledge alerts")
    alert = await _own_alert(interaction)
    updated, changed = await interaction.store.alerts.acknowledge(
        alert.account_id, alert.id, by=interaction.user_id, now=interaction.services.clock()
    )
    if not changed:
        await _refresh(interaction, updated)  # puts right a message whose first update Slack refused
        await interaction.reply(already_acknowledged_message(updated))
        return
    await _refresh(interaction, updated)


async def check_settings(interaction: Interaction[None]) -> Accepted[AlertSettingsForm] | ViewAck:
    await interaction.require_admin("change alert settings")
    meta = await interaction.modal_metadata(AlertSettingsMeta, SETTINGS)
    form = AlertSettingsForm.from_state(interaction.view_state, meta.meters)
    errors = form.errors()
    channel_checked = not errors and form.enabled and form.channel
    if channel_checked and (problem := await _channel_problem(interaction.client, form.channel or "")):
        errors[BlockId.ALERTS_CHANNEL] = problem
    return field_errors(errors) if errors else Accepted(form)


async def save_settings(interaction: Interaction[AlertSettingsForm]) -> None:
    meta = await interaction.modal_metadata(AlertSettingsMeta, SETTINGS)
    account_id, user, form = meta.account_id, interaction.user_id, interaction.value
    store = interaction.store
    before = await store.alerts.rules(account_id)
    kept = {m: t for m, t in before.overrides.items() if m not in meta.meters}  # meters not shown
    rules = form.rules(channel_team_id=interaction.workspace.team_id).model_copy(
        update={"overrides": kept | form.overrides}
    )
    now = interaction.services.clock()
    _, after = await store.alerts.save_rules(account_id, rules, by=user, now=now)
    digest = form.digest(await store.digests.schedule(account_id))
    _, digest = await store.digests.save_schedule(account_id, digest, by=user, now=now)
    await _tell(interaction, meta.origin_channel, settings_saved_message(after, digest))
    if after.enabled and after.channel and after.channel != before.channel:
        plan = await store.accounts.snapshot(account_id)
        notice = alerts_channel_notice(plan.account.company_name, user)
        await interaction.client.chat_postMessage(channel=after.channel, **notice.as_kwargs())
    await interaction.services.alerts.on_usage(account_id)  # new thresholds may already be crossed


async def _own_alert(interaction: Interaction[AlertRef]) -> Alert:
    return await _alert(interaction, interaction.value.id)


async def _alert(interaction: Interaction[Any], alert_id: int) -> Alert:
    """The alert named in a payload, checked to belong to the requesting workspace's account."""
    try:
        return await interaction.store.alerts.get(await interaction.account_id(), alert_id)
    except NotFound:
        raise UnknownAlert() from None


async def _refresh(interaction: Interaction[Any], alert: Alert) -> None:
    """Update the alert's message in place (it shows who acknowledged or snoozed it)."""
    if alert.channel is None or alert.message_ts is None:
        return  # never posted (e.g. failed): nothing to update
    plan = await interaction.store.accounts.snapshot(alert.account_id)
    message = alert_message(alert, company=plan.account.company_name)
    await interaction.client.chat_update(channel=alert.channel, ts=alert.message_ts, **message.as_kwargs())


async def _channel_problem(client: AsyncWebClient, channel: str) -> str | None:
    """Why alerts could not be posted to `channel`, or None (also when Slack won't say)."""
    invite = "Invite My Plan to that channel first (/invite @My Plan), or choose another."
    try:
        info = await client.conversations_info(channel=channel)
    except SlackApiError as error:
        code = (error.response.data or {}).get("error") if isinstance(error.response.data, dict) else None
        if code == "channel_not_found":
            return invite
        log.warning("could not check alerts channel %s: %s", channel, code)
        return None
    details = info.get("channel") or {}
    if details.get("is_archived"):
        return "That channel is archived. Choose another."
    if details.get("is_member") is False:
        return invite
    return None


async def _tell(interaction: Interaction[Any], channel: str, message: Message) -> None:
    """Ephemerally where the user ran the command; in their DM if the app cannot post there."""
    user = interaction.user_id
    if channel:
        try:
            await interaction.client.chat_postEphemeral(channel=channel, user=user, **message.as_kwargs())
            return
        except SlackApiError:
            pass
    await interaction.client.chat_postMessage(channel=user, **message.as_kwargs())
