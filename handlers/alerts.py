"""Quota alerts in Slack: `/plan alerts` (settings modal), `/plan usage` (burn-down chart), and the
buttons on alert messages (View plan, Request more, Snooze, Acknowledge)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.chart import BurnDown, burndown_png
from bot.alerts.forecast import forecast_from_readings
from bot.alerts.rules import SnoozeChoice, midnight, snooze_until, watched_meters
from bot.errors import UnknownAlert
from bot.ids import Action, Callback
from bot.ids import Block as BlockId
from bot.listeners import ack_then, check_then
from bot.services import Services
from bot.tenant import Tenant, tenant_of
from bot.views.alerts import (
    AlertSettingsForm,
    AlertSettingsMeta,
    alert_message,
    alert_settings_message,
    alert_settings_modal,
    alerts_channel_notice,
    already_acknowledged_message,
    chart_comment,
    settings_saved_message,
    usage_summary_message,
)
from bot.views.common import Message, quantity
from bot.views.plan import plan_message
from bot.views.upgrade import UpgradeForm
from handlers.router import CommandRequest, PlanCommands
from handlers.upgrade import start_upgrade
from store import Store
from store.clock import utcnow
from store.domain.alerts import Alert
from store.domain.plan import Meter, PlanSnapshot
from store.domain.upgrades import UpgradeKind
from store.errors import NotFound
from store.usage import STAFF_LICENCES

log = logging.getLogger(__name__)


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


def register(app: AsyncApp, commands: PlanCommands, services: Services) -> None:
    def now() -> datetime:
        return services.alerts.clock() if services.alerts is not None else utcnow()

    @commands.subcommand(
        "alerts", usage="/plan alerts", summary="quota alert settings: on/off, channel, thresholds, per meter"
    )
    async def alert_settings(request: CommandRequest) -> None:
        store = request.services.store
        account_id = await request.tenant.account_id()
        rules = await store.alerts.rules(account_id)
        recent = await store.alerts.recent(account_id)
        if not await request.tenant.is_admin(request.user_id):
            await request.reply(
                alert_settings_message(rules, recent, admins=await store.admins.list(account_id))
            )
            return
        meters = watched_meters(await store.accounts.snapshot(account_id))
        meta = AlertSettingsMeta(origin_channel=request.channel_id, meters=tuple(meters))
        await request.client.views_open(
            trigger_id=request.trigger_id, view=alert_settings_modal(rules, meters, recent, meta)
        )

    @commands.subcommand(
        "usage",
        usage="/plan usage",
        summary="burn-down chart of this period's allowances, with run-out forecasts",
    )
    async def usage(request: CommandRequest) -> None:
        store = request.services.store
        account_id = await request.tenant.account_id()
        plan = await store.accounts.snapshot(account_id)
        forecasts, charts = await _allowance_forecasts(request, plan)
        chart_channel = None
        if charts:
            chart_channel = await _send_chart(request, plan, charts, now())
        await request.reply(usage_summary_message(plan, forecasts, chart_channel=chart_channel))

    async def _own_alert(args: AsyncArgs, tenant: Tenant) -> Alert:
        return await _alert(services.store, tenant, str((args.action or {}).get("value", "")))

    async def view_plan(args: AsyncArgs) -> None:
        tenant = tenant_of(args.context)
        await _own_alert(args, tenant)
        plan = await services.store.accounts.snapshot(await tenant.account_id())
        await args.respond(**plan_message(plan).as_response())

    async def request_more(args: AsyncArgs) -> None:
        tenant = tenant_of(args.context)
        alert = await _own_alert(args, tenant)
        trigger_id = str((args.body or {}).get("trigger_id", ""))
        await start_upgrade(services, tenant, args.client, _user(args), trigger_id, upgrade_prefill(alert))

    async def snooze(args: AsyncArgs) -> None:
        tenant = tenant_of(args.context)
        user = _user(args)
        await tenant.require_admin(user, "snooze alerts")
        value = str(((args.action or {}).get("selected_option") or {}).get("value", ""))
        alert_id, _, choice = value.partition(":")
        try:
            chosen = SnoozeChoice(choice)
        except ValueError:
            raise UnknownAlert() from None
        alert = await _alert(services.store, tenant, alert_id)
        at = now()
        until = snooze_until(chosen, at, alert.period_end)
        updated = await services.store.alerts.snooze(alert.account_id, alert.id, by=user, until=until, now=at)
        await _refresh(args.client, updated)

    async def acknowledge(args: AsyncArgs) -> None:
        tenant = tenant_of(args.context)
        user = _user(args)
        await tenant.require_admin(user, "acknowledge alerts")
        alert = await _own_alert(args, tenant)
        updated, changed = await services.store.alerts.acknowledge(
            alert.account_id, alert.id, by=user, now=now()
        )
        if not changed:
            await args.respond(**already_acknowledged_message(updated).as_response())
            return
        await _refresh(args.client, updated)

    async def _refresh(client: AsyncWebClient, alert: Alert) -> None:
        """Update the alert's message in place (it shows who acknowledged or snoozed it)."""
        if alert.channel is None or alert.message_ts is None:
            return  # never posted (e.g. failed): nothing to update
        plan = await services.store.accounts.snapshot(alert.account_id)
        message = alert_message(alert, company=plan.account.company_name)
        await client.chat_update(channel=alert.channel, ts=alert.message_ts, **message.as_kwargs())

    async def check_settings(args: AsyncArgs) -> dict[str, Any]:
        tenant = tenant_of(args.context)
        await tenant.require_admin(_user(args), "change alert settings")
        form = _form(args)
        errors = form.errors()
        channel_checked = not errors and form.enabled and form.channel
        if channel_checked and (problem := await _channel_problem(args.client, form.channel or "")):
            errors[BlockId.ALERTS_CHANNEL] = problem
        if errors:
            return {"response_action": "errors", "errors": errors}
        return {}

    async def save_settings(args: AsyncArgs) -> None:
        tenant = tenant_of(args.context)
        user = _user(args)
        account_id = await tenant.account_id()
        meta, form = _meta(args), _form(args)
        store = services.store
        before = await store.alerts.rules(account_id)
        kept = {m: t for m, t in before.overrides.items() if m not in meta.meters}  # meters not shown
        rules = form.rules(channel_team_id=tenant.team_id).model_copy(
            update={"overrides": kept | form.overrides}
        )
        _, after = await store.alerts.save_rules(account_id, rules, by=user, now=now())
        await _tell(args.client, user, meta.origin_channel, settings_saved_message(after))
        if after.enabled and after.channel and after.channel != before.channel:
            plan = await store.accounts.snapshot(account_id)
            notice = alerts_channel_notice(plan.account.company_name, user)
            await args.client.chat_postMessage(channel=after.channel, **notice.as_kwargs())
        if services.alerts is not None:  # new thresholds may already be crossed
            await services.alerts.on_usage(account_id)

    app.action(Action.ALERT_VIEW_PLAN)(ack_then(view_plan))
    app.action(Action.ALERT_REQUEST_MORE)(ack_then(request_more))
    app.action(Action.ALERT_SNOOZE)(ack_then(snooze))
    app.action(Action.ALERT_ACKNOWLEDGE)(ack_then(acknowledge))
    app.view(Callback.ALERT_SETTINGS)(check_then(check_settings, save_settings))


# --------------------------------------------------------------------------------------------------


def _user(args: AsyncArgs) -> str:
    return str((args.body or {})["user"]["id"])


async def _alert(store: Store, tenant: Tenant, raw_id: str) -> Alert:
    """The alert named in a payload, checked to belong to the requesting workspace's account."""
    if not raw_id.isdigit():
        raise UnknownAlert()
    try:
        return await store.alerts.get(await tenant.account_id(), int(raw_id))
    except NotFound:
        raise UnknownAlert() from None


def _meta(args: AsyncArgs) -> AlertSettingsMeta:
    try:
        return AlertSettingsMeta.model_validate_json((args.view or {}).get("private_metadata") or "{}")
    except ValidationError:
        return AlertSettingsMeta()


def _form(args: AsyncArgs) -> AlertSettingsForm:
    values = ((args.view or {}).get("state") or {}).get("values") or {}
    return AlertSettingsForm.from_state(values, _meta(args).meters)


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


async def _tell(client: AsyncWebClient, user: str, channel: str, message: Message) -> None:
    """Ephemerally where the user ran the command; in their DM if the app cannot post there."""
    if channel:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, **message.as_kwargs())
            return
        except SlackApiError:
            pass
    await client.chat_postMessage(channel=user, **message.as_kwargs())


async def _allowance_forecasts(
    request: CommandRequest, plan: PlanSnapshot
) -> tuple[dict[Meter, Any], list[BurnDown]]:
    store = request.services.store
    sub = plan.subscription
    forecasts: dict[Meter, Any] = {}
    charts: list[BurnDown] = []
    for meter in Meter:
        allowance = plan.allowance(meter)
        if allowance is None:
            continue
        readings = await store.usage.history(plan.account.id, meter.value, since=midnight(sub.period_start))
        forecast = forecast_from_readings(
            readings,
            period_start=sub.period_start,
            used=allowance.used,
            available=allowance.available,
            as_of=readings[-1].at if readings else plan.account.data_as_of,
        )
        forecasts[meter] = forecast
        charts.append(
            BurnDown(
                label=meter.label,
                unit=meter.unit,
                available=float(allowance.available),
                readings=readings,
                period_start=sub.period_start,
                renewal=sub.next_payment_date,
                forecast=forecast,
            )
        )
    return forecasts, charts


async def _send_chart(
    request: CommandRequest, plan: PlanSnapshot, charts: list[BurnDown], at: datetime
) -> str | None:
    """Upload the chart to the user's DM with My Plan (replies stay private); the DM's id, or None."""
    png = await asyncio.to_thread(
        burndown_png, charts, title=f"{plan.account.company_name}: allowances this billing period"
    )
    try:
        opened = await request.client.conversations_open(users=request.user_id)
        dm = str(opened["channel"]["id"])
        await request.client.files_upload_v2(
            channel=dm,
            file=png,
            filename="usage-burn-down.png",
            title="Allowances this billing period",
            alt_txt="Burn-down chart of each allowance with the run-out forecast and the renewal date",
            initial_comment=chart_comment(plan, at),
        )
    except SlackApiError as error:
        log.warning("could not send the usage chart to %s: %s", request.user_id, error)
        return None
    return dm
