"""Upgrade and add-on requests: the modal, and what the requester hears."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.plan.usage import quantity
from bot.upgrade.summary import wanted
from handlers.messages import Message, plain, truncate
from handlers.upgrade.form import UpgradeForm, UpgradeModalMetadata, locked_features
from handlers.upgrade.ids import Action, Callback
from handlers.upgrade.ids import Block as BlockId
from store.domain.plan import FeatureKey, Meter, PlanSnapshot
from store.domain.upgrades import (
    MAX_NOTE_CHARS,
    MAX_QUANTITY,
    Delivery,
    EmailStatus,
    UpgradeKind,
    UpgradeRequest,
    UpgradeStatus,
)

# ----------------------------------------------------------------------------------------- the modal


def upgrade_modal(plan: PlanSnapshot, form: UpgradeForm, metadata: UpgradeModalMetadata) -> View:
    """The request modal; the fields after "what" follow the kind chosen (the select dispatches)."""
    addon = form.kind == UpgradeKind.FEATURE
    intro = (
        f"Your request goes to the Sales team with your *{plan.subscription.plan_name}* plan and this "
        "period's usage attached. You'll get a message here when they pick it up."
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=intro)), _kind_input(plan, form)]
    if form.kind is not None and form.kind.takes_quantity:
        blocks.append(_quantity_input(plan, form.kind, form.quantity))
    if addon:
        blocks.append(_feature_input(plan, form.feature))
    blocks.append(_note_input(form))
    return View(
        type="modal",
        callback_id=Callback.UPGRADE,
        title="Request an add-on" if addon else "Request an upgrade",
        submit="Send to Sales",
        close="Cancel",
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


def _option(value: str, text: str) -> Option:
    return Option(value=value, text=truncate(text, 75))


def _kind_input(plan: PlanSnapshot, form: UpgradeForm) -> InputBlock:
    kinds = [k for k in UpgradeKind if k != UpgradeKind.FEATURE or locked_features(plan)]
    options = [_option(k.value, k.label) for k in kinds]
    initial = next((o for o in options if o.value == (form.kind.value if form.kind else None)), None)
    return InputBlock(
        block_id=BlockId.UPGRADE_KIND,
        label="What do you need?",
        dispatch_action=True,
        element=StaticSelectElement(
            action_id=Action.UPGRADE_KIND,
            placeholder="Choose…",
            options=options,
            initial_option=initial,
        ),
    )


def _quantity_input(plan: PlanSnapshot, kind: UpgradeKind, amount: int | None) -> InputBlock:
    return InputBlock(
        block_id=BlockId.UPGRADE_QUANTITY,
        label=f"How many more {kind.unit}?",
        hint=_current_usage(plan, kind),
        element=NumberInputElement(
            action_id=Action.UPGRADE_QUANTITY,
            is_decimal_allowed=False,
            min_value=1,
            max_value=MAX_QUANTITY,
            initial_value=amount,
        ),
    )


def _current_usage(plan: PlanSnapshot, kind: UpgradeKind) -> str | None:
    if kind == UpgradeKind.STAFF_LICENCES:
        sub = plan.subscription
        return f"You have {sub.staff_licences_purchased} licences, {sub.staff_licences_assigned} assigned."
    meter = {
        UpgradeKind.VOICE_MINUTES: Meter.VOICE_MINUTES,
        UpgradeKind.VIDEO_MINUTES: Meter.VIDEO_MINUTES,
        UpgradeKind.STORAGE: Meter.STORAGE_GB,
    }.get(kind)
    allowance = plan.allowance(meter) if meter else None
    if meter is None or allowance is None:
        return None
    return f"This period: {quantity(allowance.used)} of {quantity(allowance.available)} {meter.unit} used."


def _feature_input(plan: PlanSnapshot, chosen: FeatureKey | None) -> InputBlock:
    options = [_option(key.value, key.info.name) for key in locked_features(plan)]
    initial = next((o for o in options if chosen is not None and o.value == chosen.value), None)
    return InputBlock(
        block_id=BlockId.UPGRADE_FEATURE,
        label="Which feature?",
        element=StaticSelectElement(
            action_id=Action.UPGRADE_FEATURE, placeholder="Choose…", options=options, initial_option=initial
        ),
    )


def _note_input(form: UpgradeForm) -> InputBlock:
    hint = (
        "Which plan, or what you need that your plan lacks."
        if form.kind == UpgradeKind.PLAN
        else "Anything Sales should know: timing, budget, a contact."
    )
    return InputBlock(
        block_id=BlockId.UPGRADE_NOTE,
        label="Note",
        optional=True,
        hint=hint,
        element=PlainTextInputElement(
            action_id=Action.UPGRADE_NOTE,
            multiline=True,
            max_length=MAX_NOTE_CHARS,
            initial_value=form.note or None,
        ),
    )


# ---------------------------------------------------------------------------- what the requester hears


def delivery_message(request: UpgradeRequest) -> Message:
    """What the requester is told once the request is stored and (perhaps) posted to Sales."""
    what = f"*{wanted(request)}* (`{request.id}`)"
    match request.delivery:
        case Delivery.DELIVERED:
            return plain(
                f"Your request {what} is with the Sales team, with your plan and usage "
                "attached. You'll get a message here when they pick it up.",
                ":outbox_tray:",
            )
        case Delivery.NO_CHANNEL:
            return plain(
                f"Your request {what} is saved, but *Sales has not been notified*: no sales "
                "channel is set up for My Plan (`SALES_CHANNEL`). Please contact your account manager "
                "directly, and ask whoever runs My Plan to set the sales channel.",
                ":warning:",
            )
        case Delivery.FAILED | Delivery.PENDING:
            reason = f" (Slack said `{request.delivery_error}`)" if request.delivery_error else ""
            return plain(
                f"Your request {what} is saved, but *it could not be posted to the Sales "
                f"channel*{reason}. It is marked undelivered; please contact your account manager "
                "directly, or ask whoever runs My Plan to invite the app to the sales channel.",
                ":warning:",
            )


def duplicate_message(request: UpgradeRequest) -> Message:
    return plain(
        f"You sent this same request a moment ago: *{wanted(request)}* (`{request.id}`). "
        "No second request was made."
    )


def progress_message(request: UpgradeRequest) -> Message:
    """The requester's DM when Sales acknowledges or completes their request."""
    what = f"*{wanted(request)}* (`{request.id}`)"
    if request.status == UpgradeStatus.DONE:
        return plain(
            f"Sales marked your request {what} as done (<@{request.done_by}>).", ":white_check_mark:"
        )
    return plain(f"Sales acknowledged your request {what}: <@{request.acknowledged_by}> is on it.", ":eyes:")


def already_message(request: UpgradeRequest) -> Message:
    """For a Sales click that changes nothing (someone got there first)."""
    who = request.done_by if request.status == UpgradeStatus.DONE else request.acknowledged_by
    return plain(f"Request `{request.id}` is already {request.status.value} (<@{who}>).")


def unconfirmed_message(request: UpgradeRequest) -> Message:
    """The requester's DM when Slack gave no answer to the sales post and the channel could not be checked."""
    return plain(
        f"Your request *{wanted(request)}* (`{request.id}`) is saved, but *Slack did not confirm that it "
        "reached the Sales channel*, and the channel could not be checked just now: it may be there or not. "
        "It is marked undelivered, so nothing is lost; if Sales do not pick it up, contact your account "
        f"manager and quote `{request.id}`.",
        ":warning:",
    )


def emailed_message(request: UpgradeRequest, *, slack_unconfirmed: bool = False) -> Message:
    """The requester's DM when the request was emailed to Sales too (`SALES_EMAIL`): where it reached them.
    `slack_unconfirmed`: Slack gave no answer to the sales post and the channel could not be checked."""
    what = f"*{wanted(request)}* (`{request.id}`)"
    emailed = request.email_status == EmailStatus.SENT
    if request.delivery == Delivery.DELIVERED:
        how = {
            EmailStatus.SENT: "in Slack and by email",
            EmailStatus.UNCONFIRMED: "in Slack (the mail server did not confirm the email copy)",
        }.get(request.email_status or EmailStatus.FAILED, "in Slack (the email copy could not be sent)")
        return plain(
            f"Your request {what} is with the Sales team {how}, with your plan and usage attached. "
            "You'll get a message here when they pick it up.",
            ":outbox_tray:",
        )
    if request.delivery == Delivery.NO_CHANNEL:
        slack = "no sales channel is set up for My Plan"
    elif slack_unconfirmed:
        slack = "Slack did not confirm the post to the Sales channel"
    else:
        said = f" (Slack said `{request.delivery_error}`)" if request.delivery_error else ""
        slack = f"the post to the Sales channel failed{said}"
    if emailed:
        also = "." if request.delivery == Delivery.NO_CHANNEL else f"; {slack}."
        return plain(
            f"Your request {what} was emailed to the Sales team, with your plan and usage attached{also} "
            f"Quote `{request.id}` if you follow it up with your account manager.",
            ":outbox_tray:",
        )
    if request.email_status == EmailStatus.UNCONFIRMED:
        return plain(
            f"Your request {what} is saved, but *Sales may not have it*: {slack}, and the mail server did "
            "not confirm the email. It is marked undelivered; if Sales do not pick it up, contact your "
            f"account manager and quote `{request.id}`.",
            ":warning:",
        )
    return plain(
        f"Your request {what} is saved, but *Sales could not be reached*: {slack}, and it could not be "
        "emailed either. It is marked undelivered; please contact your account manager directly and quote "
        f"`{request.id}`.",
        ":warning:",
    )
