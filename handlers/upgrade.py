"""Upgrade and add-on requests: the modal, the request stored and posted to Sales, Sales' replies.

A request is stored before Sales hears of it, and its delivery recorded after, so a sales channel
that is missing or refuses the post loses nothing: the request stays, marked undelivered, and the
requester is told.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotFoundHere
from bot.ids import Action, Callback
from bot.ids import Block as BlockId
from bot.listeners import ack_then, check_then, responder
from bot.services import Services
from bot.tenant import Tenant, tenant_of
from bot.views.common import Message
from bot.views.upgrade import (
    UpgradeForm,
    UpgradeModalMetadata,
    addon_errors,
    already_message,
    cleaned,
    delivery_message,
    duplicate_message,
    progress_message,
    read_upgrade_form,
    sales_message,
    upgrade_form_errors,
    upgrade_modal,
)
from handlers.router import CommandRequest, PlanCommands
from store.domain.plan import PlanSnapshot
from store.domain.upgrades import Delivery, Evidence, UpgradeDraft, UpgradeKind, UpgradeRequest, UpgradeStatus
from store.errors import NotFound

log = logging.getLogger(__name__)

WHAT_ADMINS_DO = "request upgrades and add-ons"
_SUBMITTED = "upgrade_submitted"  # where the submission's check leaves the validated form for the work


async def open_upgrade_modal(
    client: AsyncWebClient, trigger_id: str, plan: PlanSnapshot, prefill: UpgradeForm | None = None
) -> None:
    """Open the request modal for `plan`'s account, prefilled (e.g. `UpgradeForm(kind=UpgradeKind.for_meter(m))`
    for "Request more" on a quota alert). The caller has checked the user is an administrator."""
    metadata = UpgradeModalMetadata(account_id=plan.account.id)
    view = upgrade_modal(plan, prefill or UpgradeForm(), metadata)
    await client.views_open(trigger_id=trigger_id, view=view.to_dict())


async def start_upgrade(
    services: Services,
    tenant: Tenant,
    client: AsyncWebClient,
    user_id: str,
    trigger_id: str,
    prefill: UpgradeForm | None = None,
) -> None:
    """Administrators get the modal; anyone else is told (NotAdmin) who their administrators are."""
    await tenant.require_admin(user_id, WHAT_ADMINS_DO)
    plan = await services.store.accounts.snapshot(await tenant.account_id())
    await open_upgrade_modal(client, trigger_id, plan, prefill)


async def _modal_account(tenant: Tenant, view: dict[str, Any]) -> str:
    """The account the modal was opened for, which must be the requesting workspace's own."""
    metadata = UpgradeModalMetadata.parse(str(view.get("private_metadata") or ""))
    account_id = await tenant.account_id()
    if metadata is None or metadata.account_id != account_id:
        raise NotFoundHere("the account this request form was opened for")
    return account_id


def _errors_on_shown_blocks(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Slack shows an error only on a block of the view; one for a field not shown (a stale view)
    goes on the "what" select, which is always there."""
    shown = {b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict)}
    shown |= set((view.get("state") or {}).get("values") or {})
    placed: dict[str, str] = {}
    for block, message in errors.items():
        target = block if block in shown else BlockId.UPGRADE_KIND
        placed.setdefault(target, message)
    return placed


def register(app: AsyncApp, services: Services, commands: PlanCommands) -> None:
    store = services.store

    async def upgrade_clicked(args: AsyncArgs) -> None:
        body = args.body or {}
        await start_upgrade(
            services, tenant_of(args.context), args.client, body["user"]["id"], body["trigger_id"]
        )

    @commands.subcommand(
        "upgrade",
        usage="/plan upgrade",
        summary="ask Sales for another plan, more minutes, storage or licences, or an add-on",
    )
    async def upgrade_command(request: CommandRequest) -> None:
        await start_upgrade(services, request.tenant, request.client, request.user_id, request.trigger_id)

    async def kind_changed(args: AsyncArgs) -> None:
        """The "what" select dispatches: redraw the modal with the fields that kind needs."""
        view: dict[str, Any] = (args.body or {})["view"]
        tenant = tenant_of(args.context)
        account_id = await _modal_account(tenant, view)
        form, _ = read_upgrade_form(view.get("state") or {})
        plan = await store.accounts.snapshot(account_id)
        modal = upgrade_modal(plan, form, UpgradeModalMetadata(account_id=account_id))
        await args.client.views_update(view_id=view["id"], view=modal.to_dict())

    async def check_submission(args: AsyncArgs) -> dict[str, Any]:
        body = args.body or {}
        view: dict[str, Any] = body["view"]
        user_id = body["user"]["id"]
        tenant = tenant_of(args.context)
        await tenant.require_admin(user_id, WHAT_ADMINS_DO)
        account_id = await _modal_account(tenant, view)
        form, errors = read_upgrade_form(view.get("state") or {})
        errors = errors or upgrade_form_errors(form)
        if not errors and form.kind == UpgradeKind.FEATURE:  # before the ack, read only when needed
            errors = addon_errors(form, await store.accounts.snapshot(account_id))
        if errors:
            return {"response_action": "errors", "errors": _errors_on_shown_blocks(errors, view)}
        args.context[_SUBMITTED] = cleaned(form)
        return {}

    async def send_request(args: AsyncArgs) -> None:
        tenant = tenant_of(args.context)
        account_id = await tenant.account_id()
        form: UpgradeForm = args.context[_SUBMITTED]
        assert form.kind is not None  # checked by upgrade_form_errors
        draft = UpgradeDraft(
            account_id=account_id,
            team_id=tenant.team_id,
            requested_by=(args.body or {})["user"]["id"],
            kind=form.kind,
            quantity=form.quantity,
            feature=form.feature,
            note=form.note,
            evidence=Evidence.of(await store.accounts.snapshot(account_id)),
        )
        request, created = await store.upgrades.create(draft)
        if not created:
            await _tell(args.client, draft.requested_by, duplicate_message(request))
            return
        request = await _deliver(args.client, services, request)
        await _tell(args.client, request.requested_by, delivery_message(request))

    async def acknowledge(args: AsyncArgs) -> None:
        await _advance(args, services, UpgradeStatus.ACKNOWLEDGED)

    async def done(args: AsyncArgs) -> None:
        await _advance(args, services, UpgradeStatus.DONE)

    app.action(Action.PLAN_UPGRADE)(ack_then(upgrade_clicked))
    app.action(Action.UPGRADE_KIND)(ack_then(kind_changed))
    app.view(Callback.UPGRADE)(check_then(check_submission, send_request))
    app.action(Action.UPGRADE_ACKNOWLEDGE)(ack_then(acknowledge))
    app.action(Action.UPGRADE_DONE)(ack_then(done))


async def _tell(client: AsyncWebClient, user_id: str, message: Message) -> None:
    """A DM from the app (posting to a user id lands in their DM with it)."""
    await client.chat_postMessage(channel=user_id, **message.as_kwargs())


async def _deliver(client: AsyncWebClient, services: Services, request: UpgradeRequest) -> UpgradeRequest:
    """Post the stored request to the sales channel and record how that went."""
    upgrades = services.store.upgrades
    channel = services.settings.sales_channel
    if channel is None:
        log.warning("upgrade request %s not posted: SALES_CHANNEL is not set", request.id)
        return await upgrades.record_delivery(request.account_id, request.id, Delivery.NO_CHANNEL)
    try:
        posted = await client.chat_postMessage(channel=channel, **sales_message(request).as_kwargs())
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
        reason = (
            str(error.response.get("error")) if isinstance(error, SlackApiError) else type(error).__name__
        )
        log.warning("upgrade request %s not posted to %s: %s", request.id, channel, reason)
        return await upgrades.record_delivery(
            request.account_id, request.id, Delivery.FAILED, channel=channel, error=reason
        )
    return await upgrades.record_delivery(
        request.account_id, request.id, Delivery.DELIVERED, channel=posted["channel"], ts=posted["ts"]
    )


async def _advance(args: AsyncArgs, services: Services, status: UpgradeStatus) -> None:
    """Sales acknowledges or completes a request: update the sales post in place and tell the requester.

    Sales need not be administrators, but the request must belong to their workspace's account."""
    body = args.body or {}
    request_id = str((args.action or {}).get("value") or "")
    account_id = await tenant_of(args.context).account_id()
    try:
        request, changed = await services.store.upgrades.advance(
            account_id, request_id, status, by=body["user"]["id"]
        )
    except NotFound:
        raise NotFoundHere(f"request `{request_id}`") from None
    if not changed:  # someone got there first: say so to this person only
        if (respond := responder(args)) is not None:
            await respond(**already_message(request).as_response())
        return
    container = body.get("container") or {}
    channel = request.sales_channel or container.get("channel_id")
    ts = request.sales_ts or container.get("message_ts")
    if channel and ts:
        await args.client.chat_update(channel=channel, ts=ts, **sales_message(request).as_kwargs())
    await _tell(args.client, request.requested_by, progress_message(request))
