"""Upgrade and add-on requests: the modal, its form, the sales-channel post and the requester's DMs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import Action, Callback
from bot.ids import Block as BlockId
from bot.usage import is_high, percent_used, whole_percent
from bot.views.common import Message, money, quantity, slack_date, slack_datetime, truncate, usage_line
from bot.views.notices import plain
from store.domain.plan import FeatureKey, FeatureStatus, Meter, PlanSnapshot
from store.domain.upgrades import (
    MAX_NOTE_CHARS,
    MAX_QUANTITY,
    Delivery,
    Evidence,
    UpgradeKind,
    UpgradeRequest,
    UpgradeStatus,
    UsageFigure,
)

# ------------------------------------------------------------------------------------------ the form


class UpgradeForm(BaseModel):
    """What the modal asks; also how a caller prefills it (e.g. "Request more" on a quota alert)."""

    model_config = ConfigDict(frozen=True)

    kind: UpgradeKind | None = None
    quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    feature: FeatureKey | None = None
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class UpgradeModalMetadata(BaseModel):
    """The modal's private_metadata: which account it was opened for, checked again on submit."""

    model_config = ConfigDict(frozen=True)

    account_id: str

    @classmethod
    def parse(cls, raw: str) -> UpgradeModalMetadata | None:
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return None


class _Selected(BaseModel):
    value: str


class _ElementState(BaseModel):
    """One element of Slack's view.state.values: a select's choice or an input's text."""

    selected_option: _Selected | None = None
    value: str | None = None

    @property
    def text(self) -> str | None:
        raw = self.selected_option.value if self.selected_option else self.value
        return raw.strip() if raw and raw.strip() else None


class ViewState(BaseModel):
    values: dict[str, dict[str, _ElementState]] = Field(default_factory=dict)

    def text(self, block: BlockId, action: Action) -> str | None:
        element = self.values.get(block, {}).get(action)
        return element.text if element else None


def read_upgrade_form(state: dict[str, Any]) -> tuple[UpgradeForm, dict[str, str]]:
    """The form as filled in, and errors by block for values that could not be read."""
    values = ViewState.model_validate(state)
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    readers: list[tuple[str, BlockId, Action, str]] = [
        ("kind", BlockId.UPGRADE_KIND, Action.UPGRADE_KIND, "Choose what you need."),
        (
            "quantity",
            BlockId.UPGRADE_QUANTITY,
            Action.UPGRADE_QUANTITY,
            f"Enter a whole number from 1 to {MAX_QUANTITY:,}.",
        ),
        ("feature", BlockId.UPGRADE_FEATURE, Action.UPGRADE_FEATURE, "Choose a feature."),
        (
            "note",
            BlockId.UPGRADE_NOTE,
            Action.UPGRADE_NOTE,
            f"Keep the note under {MAX_NOTE_CHARS} characters.",
        ),
    ]
    for name, block, action, problem in readers:
        raw = values.text(block, action)
        if raw is None:
            continue
        try:
            UpgradeForm.model_validate({name: raw})
        except ValidationError:
            errors[block] = problem
            continue
        fields[name] = raw
    return UpgradeForm.model_validate(fields), errors


def upgrade_form_errors(form: UpgradeForm) -> dict[str, str]:
    """Whether the form is complete; errors by the block to show them on."""
    if form.kind is None:
        return {BlockId.UPGRADE_KIND: "Choose what you need."}
    if form.kind.takes_quantity and form.quantity is None:
        return {BlockId.UPGRADE_QUANTITY: f"Enter how many {form.kind.unit} you need."}
    if form.kind == UpgradeKind.FEATURE and form.feature is None:
        return {BlockId.UPGRADE_FEATURE: "Choose the feature you want unlocked."}
    return {}


def addon_errors(form: UpgradeForm, plan: PlanSnapshot) -> dict[str, str]:
    """An add-on request must name a feature the plan has locked (only these requests need the plan)."""
    if form.kind == UpgradeKind.FEATURE and form.feature not in locked_features(plan):
        name = form.feature.info.name if form.feature else "That feature"
        return {BlockId.UPGRADE_FEATURE: f"{name} is not a locked feature of your plan."}
    return {}


def locked_features(plan: PlanSnapshot) -> list[FeatureKey]:
    return [f.key for f in plan.features if f.status == FeatureStatus.LOCKED]


def cleaned(form: UpgradeForm) -> UpgradeForm:
    """Drop what does not apply to the kind chosen (a quantity on a plan upgrade, say)."""
    kind = form.kind
    return form.model_copy(
        update={
            "quantity": form.quantity if kind is not None and kind.takes_quantity else None,
            "feature": form.feature if kind == UpgradeKind.FEATURE else None,
        }
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
        private_metadata=metadata.model_dump_json(),
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


# -------------------------------------------------------------------------------- the sales message


def wanted(request: UpgradeRequest) -> str:
    """What was asked for, in a few words: "More voice call minutes: 2,000 minutes"."""
    if request.kind == UpgradeKind.FEATURE and request.feature_name:
        return f"Add-on: {request.feature_name}"
    if request.quantity is not None:
        return f"{request.kind.label}: {quantity(request.quantity)} {request.kind.unit}"
    return request.kind.label


def sales_message(request: UpgradeRequest) -> Message:
    """The post in the sales channel: who wants what, with the plan and usage as evidence."""
    evidence = request.evidence
    title = "Add-on request" if request.kind == UpgradeKind.FEATURE else "Upgrade request"
    facts = [
        f"*Account*\n{evidence.company_name} (`{request.account_id}`)",
        f"*Plan*\n{evidence.plan_name} · {money(evidence.monthly_fee, evidence.currency)}/month",
        f"*Next payment*\n{slack_date(evidence.next_payment_date)}",
        f"*Requested by*\n<@{request.requested_by}>",
        f"*Wants*\n{wanted(request)}",
        f"*Reference*\n`{request.id}`",
    ]
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
    return Message(
        text=f"{title} {request.id} from {evidence.company_name}: {wanted(request)}", blocks=blocks
    )


def _figure_line(figure: UsageFigure) -> str:
    percent = percent_used(figure.used, figure.limit)  # None without a limit: shown as "N unit used"
    return f"*{figure.name}*  {usage_line(figure.used, figure.limit or 0, figure.unit, percent)}"


def usage_evidence(evidence: Evidence) -> str:
    lines = ["*Usage this billing period*", *(_figure_line(f) for f in evidence.allowances)]
    if evidence.features:
        lines += ["*Feature usage*", *(_figure_line(f) for f in evidence.features)]
    return "\n".join(lines)


def high_figures(evidence: Evidence) -> list[UsageFigure]:
    """Every allowance or feature at or above the 80% warning level."""
    return [
        f
        for f in (*evidence.allowances, *evidence.features)
        if f.limit is not None and is_high(percent_used(f.used, f.limit))
    ]


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
                text="Acknowledge", action_id=Action.UPGRADE_ACKNOWLEDGE, value=request.id, style="primary"
            )
        )
    if request.status != UpgradeStatus.DONE:
        buttons.append(ButtonElement(text="Done", action_id=Action.UPGRADE_DONE, value=request.id))
    return ActionsBlock(block_id=BlockId.SALES_ACTIONS, elements=buttons) if buttons else None


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
