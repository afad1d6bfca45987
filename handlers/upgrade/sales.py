"""Upgrade requests reach Sales: the request is stored, posted to the sales channel, and its delivery
recorded; Sales acknowledge and complete it, and the requester is told by DM.

Where Sales are: with `SALES_TEAM_ID` set, in the vendor's own workspace. Every customer workspace's
requests are posted there (to the account's own sales channel, else `SALES_CHANNEL`) with that workspace's
token, and only its members' clicks on Acknowledge and Done count, on any account's request; the requester
hears by DM in their own workspace. Unset, Sales are in the requester's workspace, and act only on its
account's requests.

A request is stored before Sales hears of it, and its delivery recorded after, so a sales channel
that is missing or refuses the post loses nothing: the request stays, marked undelivered, and the
requester is told.

With `SALES_EMAIL` and `SMTP_URL` set, every request is also emailed to Sales after the Slack post is
settled, whatever came of it (or only emailed, where no sales channel applies); the email's outcome is
recorded on the request (`email_status`) and the requester is told where the request reached Sales.

The post is made once: the client re-sends nothing but a 429'd call (Slack sometimes stores a message and
still answers 5xx). When its outcome is unknown (a 5xx, a timeout, a dropped connection) the sales channel's
newest messages are read once for the request id in their metadata: found, it was delivered; not there, it
was not; the history unreadable (Slack allows one read a minute), the requester is told it is unconfirmed.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import aiohttp
from pydantic import Field
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import NotFoundHere, NotSalesWorkspace
from bot.plan.usage import percent_used, whole_percent
from bot.upgrade.sales_email import SalesMailer
from bot.upgrade.summary import high_figures, request_title, wanted
from handlers.interaction import Interaction
from handlers.messages import (
    Message,
    money,
    plain,
    slack_date,
    slack_datetime,
    truncate,
    usage_line,
)
from handlers.payloads import Payload
from handlers.slack_calls import HistoryUnreadable, error_code, find_in_history, may_have_taken_effect
from handlers.upgrade.form import UpgradeForm
from handlers.upgrade.ids import Action
from handlers.upgrade.ids import Block as BlockId
from handlers.upgrade.views import (
    already_message,
    delivery_message,
    duplicate_message,
    emailed_message,
    progress_message,
    unconfirmed_message,
)
from store.domain.upgrades import (
    Delivery,
    EmailStatus,
    Evidence,
    UpgradeDraft,
    UpgradeRequest,
    UpgradeStatus,
    UsageFigure,
)
from store.errors import NotFound

log = logging.getLogger(__name__)

SALES_EVENT: Final = "myplan_upgrade_request"
"""Message metadata event type of a sales post: it carries the request id, so a post whose answer was lost
can be found in the sales channel."""
UNCONFIRMED: Final = "unconfirmed"
"""Prefix of a delivery error when Slack did not answer and the sales channel could not be checked."""
LOOKUP_SECONDS: Final = 10.0
NOT_INSTALLED: Final = "app_not_installed_in_sales_workspace"
"""Delivery error when the app has no installation in the Sales workspace (`SALES_TEAM_ID`)."""


def sales_message(request: UpgradeRequest) -> Message:
    """The post in the sales channel: who wants what, with the plan and usage as evidence."""
    evidence = request.evidence
    title = request_title(request)
    facts = [
        f"*Account*\n{evidence.company_name} (`{request.account_id}`)",
        f"*Workspace*\n`{request.team_id}`",
        f"*Plan*\n{evidence.plan_name} · {money(evidence.monthly_fee, evidence.currency)}/month",
        f"*Next payment*\n{slack_date(evidence.next_payment_date)}",
        f"*Requested by*\n<@{request.requested_by}>",
        f"*Wants*\n{wanted(request)}",
        f"*Reference*\n`{request.id}`",
    ]
    manager = f"<@{evidence.account_manager}>" if evidence.account_manager else None
    if manager is not None:
        facts.append(f"*Account manager*\n{manager}")
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{title} · {evidence.company_name}", 150)),
        SectionBlock(
            block_id=BlockId.SALES_REQUEST,
            fields=[MarkdownTextObject(text=truncate(fact, 2000)) for fact in facts],
        ),
    ]
    if request.note:
        quoted = "\n".join(f"> {line}" for line in request.note.splitlines())
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(f"*Note*\n{quoted}", 3000))))
    blocks += [
        SectionBlock(
            block_id=BlockId.SALES_USAGE,
            text=MarkdownTextObject(text=truncate(usage_evidence(evidence), 3000)),
        ),
        SectionBlock(text=MarkdownTextObject(text=high_usage_text(evidence))),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Requested {slack_datetime(request.created_at)} · usage as of "
                    f"{slack_datetime(evidence.data_as_of)} · workspace `{request.team_id}`"
                )
            ]
        ),
    ]
    if (progress := _progress_text(request)) is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=progress)]))
    if (actions := _sales_actions(request)) is not None:
        blocks.append(actions)
    text = f"{title} {request.id} from {evidence.company_name}: {wanted(request)}"
    return Message(text=f"{text} · {manager}" if manager else text, blocks=blocks)


def _figure_line(figure: UsageFigure) -> str:
    percent = percent_used(figure.used, figure.limit)  # None without a limit: shown as "N unit used"
    return f"*{figure.name}*  {usage_line(figure.used, figure.limit or 0, figure.unit, percent)}"


def usage_evidence(evidence: Evidence) -> str:
    lines = ["*Usage this billing period*", *(_figure_line(f) for f in evidence.allowances)]
    if evidence.features:
        lines += ["*Feature usage*", *(_figure_line(f) for f in evidence.features)]
    return "\n".join(lines)


def high_usage_text(evidence: Evidence) -> str:
    high = high_figures(evidence)
    if not high:
        return ":white_check_mark: Nothing is at or above 80% of its allowance."
    listed = ", ".join(
        f"{f.name} ({whole_percent(p)}%)" for f in high if (p := percent_used(f.used, f.limit)) is not None
    )
    return f":warning: *At or above 80%:* {listed}"


def _progress_text(request: UpgradeRequest) -> str | None:
    parts = []
    if request.acknowledged_by and request.acknowledged_at:
        parts.append(
            f":eyes: Acknowledged by <@{request.acknowledged_by}> {slack_datetime(request.acknowledged_at)}"
        )
    if request.done_by and request.done_at:
        parts.append(f":white_check_mark: Done by <@{request.done_by}> {slack_datetime(request.done_at)}")
    return " · ".join(parts) or None


def _sales_actions(request: UpgradeRequest) -> ActionsBlock | None:
    buttons = []
    if request.status == UpgradeStatus.REQUESTED:
        buttons.append(
            ButtonElement(
                text="Acknowledge",
                action_id=Action.UPGRADE_ACKNOWLEDGE,
                value=RequestRef(id=request.id).encode(),
                style="primary",
            )
        )
    if request.status != UpgradeStatus.DONE:
        buttons.append(
            ButtonElement(
                text="Done", action_id=Action.UPGRADE_DONE, value=RequestRef(id=request.id).encode()
            )
        )
    return ActionsBlock(block_id=BlockId.SALES_ACTIONS, elements=buttons) if buttons else None


class RequestRef(Payload):
    """The request a Sales button is about."""

    id: str = Field(min_length=1, max_length=64)


async def submit_request(interaction: Interaction[UpgradeForm]) -> None:
    """Store the checked request, post it to Sales, and tell the requester how that went."""
    await deliver_request(interaction)


async def deliver_request(interaction: Interaction[UpgradeForm]) -> UpgradeRequest:
    """`submit_request`, returning the request (the earlier one when this is a double submit, which the
    requester is told of and which goes to Sales only once)."""
    form = interaction.value
    assert form.kind is not None  # checked by upgrade_form_errors
    account_id = await interaction.account_id()
    draft = UpgradeDraft(
        account_id=account_id,
        team_id=interaction.workspace.team_id,
        requested_by=interaction.user_id,
        kind=form.kind,
        quantity=form.quantity,
        feature=form.feature,
        note=form.note,
        evidence=Evidence.of(plan := await interaction.store.accounts.snapshot(account_id)),
    )
    request, created = await interaction.store.upgrades.create(draft)
    if not created:
        await interaction.tell(request.requested_by, duplicate_message(request))
        return request
    request = await _deliver(interaction, request, plan.account.sales_channel)
    if (mailer := interaction.services.sales_mailer) is not None:
        request = await _email(interaction, mailer, request)
    unconfirmed = request.delivery == Delivery.FAILED and (request.delivery_error or "").startswith(
        UNCONFIRMED
    )
    if request.email_status is not None:
        told = emailed_message(request, slack_unconfirmed=unconfirmed)
    else:
        told = unconfirmed_message(request) if unconfirmed else delivery_message(request)
    await interaction.tell(request.requested_by, told)
    return request


async def _email(
    interaction: Interaction[UpgradeForm], mailer: SalesMailer, request: UpgradeRequest
) -> UpgradeRequest:
    """Email the stored request to Sales too, after Slack (so the email says whether it is there), and
    record how that went. Whatever the server does, the request stays; see bot/upgrade/sales_email.py."""
    upgrades = interaction.store.upgrades
    message = mailer.message(
        request, requester_name=await _requester_name(interaction), now=interaction.services.clock()
    )
    await upgrades.record_email(request.account_id, request.id, EmailStatus.SENDING, to=mailer.to)
    outcome = await mailer.send(message)
    return await upgrades.record_email(
        request.account_id,
        request.id,
        outcome.status,
        to=mailer.to,
        attempts=outcome.attempts,
        error=outcome.error,
    )


async def _requester_name(interaction: Interaction[UpgradeForm]) -> str | None:
    """The requester's name for the email (a mention renders only in Slack); None when Slack cannot say,
    and the email names their user id alone."""
    try:
        return (await interaction.workspace.slack_user(interaction.user_id)).name
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
        log.info("no name for %s in the sales email: %r", interaction.user_id, error)
        return None


async def _sales_client(interaction: Interaction[Any]) -> AsyncWebClient | None:
    """A client of the Sales workspace: the vendor's (`SALES_TEAM_ID`; None when the app is not installed
    there), else the requesting workspace's own."""
    team = interaction.settings.sales_team_id
    if team is None:
        return interaction.client
    return await interaction.services.slack.client_for_team(team)


async def _deliver(
    interaction: Interaction[UpgradeForm], request: UpgradeRequest, account_channel: str | None
) -> UpgradeRequest:
    """Post the stored request to the sales channel (the account's own, else SALES_CHANNEL) of the Sales
    workspace and record how that went."""
    upgrades = interaction.store.upgrades
    channel = account_channel or interaction.settings.sales_channel
    if channel is None:
        if interaction.services.sales_mailer is None:
            log.warning("upgrade request %s not posted: SALES_CHANNEL is not set", request.id)
        return await upgrades.record_delivery(request.account_id, request.id, Delivery.NO_CHANNEL)
    try:
        client = await _sales_client(interaction)
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:  # nothing was posted yet
        log.warning(
            "upgrade request %s not posted: no client for the Sales workspace (%r)", request.id, error
        )
        return await upgrades.record_delivery(
            request.account_id, request.id, Delivery.FAILED, channel=channel, error=type(error).__name__
        )
    if client is None:
        log.warning("upgrade request %s not posted: the app is not installed in SALES_TEAM_ID", request.id)
        return await upgrades.record_delivery(
            request.account_id, request.id, Delivery.FAILED, channel=channel, error=NOT_INSTALLED
        )
    try:
        response = await client.chat_postMessage(
            channel=channel,
            **sales_message(request).as_kwargs(),
            metadata={"event_type": SALES_EVENT, "event_payload": {"request_id": request.id}},
        )
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
        reason = error_code(error)[1] if isinstance(error, SlackApiError) else type(error).__name__
        found = await _find_posted(client, channel, request) if may_have_taken_effect(error) else None
        if isinstance(found, HistoryUnreadable):
            log.warning(
                "upgrade request %s: no answer from Slack (%s) and %s unreadable (%s)",
                request.id,
                reason,
                channel,
                found.reason,
            )
            reason = f"{UNCONFIRMED}: {reason}"
        elif found is not None:
            log.info("upgrade request %s: no answer from Slack (%s), but it was posted", request.id, reason)
            return await upgrades.record_delivery(
                request.account_id, request.id, Delivery.DELIVERED, channel=channel, ts=str(found["ts"])
            )
        log.warning("upgrade request %s not posted to %s: %s", request.id, channel, reason)
        return await upgrades.record_delivery(
            request.account_id, request.id, Delivery.FAILED, channel=channel, error=reason
        )
    return await upgrades.record_delivery(
        request.account_id, request.id, Delivery.DELIVERED, channel=response["channel"], ts=response["ts"]
    )


async def _find_posted(
    client: AsyncWebClient, channel: str, request: UpgradeRequest
) -> dict[str, Any] | HistoryUnreadable | None:
    """The sales post of `request` if it is among the channel's newest messages (one history read)."""
    found = await find_in_history(client, channel, SALES_EVENT, "request_id", within=LOOKUP_SECONDS)
    return found if isinstance(found, HistoryUnreadable) else found.get(request.id)


async def advance_request(interaction: Interaction[RequestRef], status: UpgradeStatus) -> None:
    """Sales acknowledges or completes a request: update the sales post in place and tell the requester.

    Sales need not be administrators. With a Sales workspace (`SALES_TEAM_ID`) its members act on any
    account's request, and nobody else does; without one, the request must belong to the clicking
    workspace's account."""
    request_id = interaction.value.id
    sales_team = interaction.settings.sales_team_id
    try:
        if sales_team is None:
            account_id = await interaction.account_id()
        else:
            await _require_sales(interaction, sales_team)
            account_id = (await interaction.store.upgrades.find(request_id)).account_id
        request, changed = await interaction.store.upgrades.advance(
            account_id, request_id, status, by=interaction.user_id
        )
    except NotFound:
        raise NotFoundHere(f"request `{request_id}`") from None
    if not changed:  # someone got there first: say so to this person only
        if interaction.respond is not None:
            await interaction.reply(already_message(request))
        return
    container = interaction.body.get("container") or {}
    channel = request.sales_channel or container.get("channel_id")
    ts = request.sales_ts or container.get("message_ts")
    if channel and ts:  # the post is in the clicking workspace: the Sales one
        await interaction.client.chat_update(channel=channel, ts=ts, **sales_message(request).as_kwargs())
    await _tell_requester(interaction, request, sales_team)


async def _require_sales(interaction: Interaction[RequestRef], sales_team: str) -> None:
    """The click comes from the Sales workspace, by one of its members (not a Slack Connect guest)."""
    workspace = interaction.workspace
    if workspace.team_id != sales_team or not await workspace.is_member(interaction.user_id):
        log.warning(
            "sales click on %s refused: user %s in workspace %s is not of the Sales workspace",
            interaction.value.id,
            interaction.user_id,
            workspace.team_id or "?",
        )
        raise NotSalesWorkspace()


async def _tell_requester(
    interaction: Interaction[RequestRef], request: UpgradeRequest, sales_team: str | None
) -> None:
    """The requester's DM, in their own workspace."""
    message = progress_message(request)
    if sales_team is None or request.team_id == interaction.workspace.team_id:
        await interaction.tell(request.requested_by, message)
        return
    client = await interaction.services.slack.client_for_team(request.team_id)
    if client is None:
        log.warning(
            "request %s: the requester's workspace %s has no installation", request.id, request.team_id
        )
        await interaction.reply(
            plain(
                f"Request `{request.id}` is {request.status.value}, but <@{request.requested_by}> could not be "
                "told: their workspace has uninstalled the app.",
                ":warning:",
            )
        )
        return
    await client.chat_postMessage(channel=request.requested_by, **message.as_kwargs())
