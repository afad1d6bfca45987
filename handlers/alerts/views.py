"""Quota alerts in Slack: the alert message, the alert settings modal, `/plan usage`, notices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.alerts.forecast import days_before_renewal, runs_out_before_renewal
from bot.alerts.rules import SnoozeChoice
from bot.plan.usage import percent_used, quantity, whole_percent
from handlers.alerts.ids import Action
from handlers.alerts.ids import Block as BlockId
from handlers.messages import INVOICE_NOTE, Message, slack_date, slack_datetime, truncate, usage_line
from handlers.payloads import Payload, RowId
from handlers.plan.views import allowance_line
from store.domain.alerts import Alert, AlertKind, Forecast, Resolution, allowance_meter
from store.domain.plan import STAFF_LICENCES, Meter, PlanSnapshot

MAX_SECTION_CHARS: Final = 3000

# --------------------------------------------------------------------------------------------------
# The alert message
# --------------------------------------------------------------------------------------------------


def headline(alert: Alert) -> str:
    """What happened, in a few words: 'Voice call minutes: 90% used', 'Storage: used up'…"""
    label = alert.label
    if alert.kind == AlertKind.FORECAST:
        return f"{label} will run out before renewal"
    if alert.meter == STAFF_LICENCES:
        return f"{label}: all assigned" if alert.is_exhaustion else f"{label}: {alert.threshold}% assigned"
    if allowance_meter(alert.meter) is None:  # a feature's limit
        return (
            f"{label}: limit reached"
            if alert.is_exhaustion
            else f"{label}: {alert.threshold}% of the limit used"
        )
    if alert.is_exhaustion:
        return f"{label}: this period's allowance is used up"
    return f"{label}: {alert.threshold}% of this period's allowance used"


def _emoji(alert: Alert) -> str:
    if alert.kind == AlertKind.FORECAST:
        return ":hourglass_flowing_sand:"
    return ":rotating_light:" if alert.is_exhaustion else ":warning:"


def forecast_line(label: str, forecast: Forecast, renewal: Any) -> str:
    """'At this pace voice call minutes run out on 23 Nov, 5 days before renewal on 28 Nov.' + basis."""
    subject = label[0].lower() + label[1:]
    plural = subject.endswith("s")
    basis = f"_Based on {forecast.readings} readings over {quantity(forecast.days)} days._"
    if runs_out_before_renewal(forecast, renewal):
        days = days_before_renewal(forecast, renewal)
        verb = "run out" if plural else "runs out"
        when = f"{days} day{'s' if days != 1 else ''} before renewal on {slack_date(renewal)}"
        return f":crystal_ball: At this pace {subject} {verb} on {slack_date(forecast.runs_out_at.date())}, {when}. {basis}"
    verb = "last" if plural else "lasts"
    return f":crystal_ball: At this pace {subject} {verb} until renewal on {slack_date(renewal)}. {basis}"


def alert_text(alert: Alert, forecast: Forecast | None = None) -> str:
    """The fallback text (notifications, screen readers, `--dry-run`)."""
    forecast = forecast or alert.forecast
    text = f"{headline(alert)} — {quantity(alert.used)} of {quantity(alert.available)} {alert.unit}"
    if forecast is not None and runs_out_before_renewal(forecast, alert.period_end):
        text += (
            f"; at this pace runs out around {forecast.runs_out_at.date().isoformat()}, "
            f"{days_before_renewal(forecast, alert.period_end)} days before renewal"
        )
    return text


def alert_message(
    alert: Alert, *, company: str, forecast: Forecast | None = None, mention: Sequence[str] = ()
) -> Message:
    """The meter's one message this period, showing `alert`: as posted, as updated by a higher crossing,
    a snooze or an acknowledgement, and as resolved. `mention`: the administrators, called in when the
    first post of the period is already running out (later crossings call them in a thread reply)."""
    forecast = forecast or alert.forecast
    percent = percent_used(alert.used, alert.available)
    title = f"{_emoji(alert)} *{headline(alert)}*{_call_in(mention)}"
    if alert.resolution is not None:
        title = f":white_check_mark: *Resolved:* ~{headline(alert)}~"
    blocks: list[Block] = [
        SectionBlock(
            block_id=BlockId.ALERT_HEADLINE,
            text=MarkdownTextObject(text=truncate(title, MAX_SECTION_CHARS)),
        ),
        SectionBlock(
            block_id=BlockId.ALERT_USAGE,
            text=MarkdownTextObject(text=usage_line(alert.used, alert.available, alert.unit, percent)),
        ),
    ]
    if forecast is not None:
        blocks.append(
            SectionBlock(
                block_id=BlockId.ALERT_FORECAST,
                text=MarkdownTextObject(text=forecast_line(alert.label, forecast, alert.period_end)),
            )
        )
    blocks.append(
        ContextBlock(
            block_id=BlockId.ALERT_NOTE,
            elements=[
                MarkdownTextObject(
                    text=truncate(
                        f"{company} · data as of {slack_datetime(alert.as_of)}. {INVOICE_NOTE}",
                        MAX_SECTION_CHARS,
                    )
                )
            ],
        )
    )
    if state := _state_text(alert):
        blocks.append(ContextBlock(block_id=BlockId.ALERT_STATE, elements=[MarkdownTextObject(text=state)]))
    blocks.append(ActionsBlock(block_id=BlockId.ALERT_ACTIONS, elements=_alert_buttons(alert)))
    text = alert_text(alert, forecast)
    return Message(
        text=f"Resolved: {text}" if alert.resolution else text, blocks=blocks, response_type="in_channel"
    )


def resolution_line(alert: Alert) -> str:
    """Why the meter's message was resolved."""
    if alert.resolution == Resolution.ALLOWANCE_RAISED and alert.resolved_available is not None:
        return (
            f":arrow_up: The allowance was raised to {quantity(alert.resolved_available)} {alert.unit}, "
            f"so {alert.label.lower()} are below {alert.threshold}% again."
        )
    return f":arrows_counterclockwise: The billing period renewed on {slack_date(alert.period_end)}: usage starts afresh."


def thread_reply(alert: Alert, *, mention: Sequence[str] = ()) -> Message:
    """The short reply a higher crossing adds in the thread of its meter's message (which it updated);
    running out calls the administrators in."""
    figures = f"{quantity(alert.used)} of {quantity(alert.available)} {alert.unit}"
    text = f"{_emoji(alert)} *{headline(alert)}* ({figures}).{_call_in(mention)}"
    return Message(
        text=truncate(f"{headline(alert)} ({figures})", 3000),
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_CHARS)))],
        response_type="in_channel",
    )


def _call_in(mention: Sequence[str]) -> str:
    return " " + " ".join(f"<@{user}>" for user in mention) + " — please take a look." if mention else ""


def _state_text(alert: Alert) -> str:
    if alert.resolution is not None:
        return resolution_line(alert)
    lines = []
    if alert.acknowledged_by is not None and alert.acknowledged_at is not None:
        lines.append(
            f":white_check_mark: Acknowledged by <@{alert.acknowledged_by}> on {slack_datetime(alert.acknowledged_at)}"
        )
    if alert.snoozed_by is not None and alert.snoozed_until is not None:
        lines.append(
            f":zzz: {alert.label} snoozed by <@{alert.snoozed_by}> until {slack_datetime(alert.snoozed_until)}"
            " — warnings wait until then; running out still alerts at once"
        )
    return "\n".join(lines)


class AlertRef(Payload):
    """The alert a button of its message is about."""

    id: RowId


class SnoozeValue(Payload):
    """A choice of the alert message's Snooze menu."""

    id: RowId
    choice: SnoozeChoice


def _alert_buttons(alert: Alert) -> list[Any]:
    value = AlertRef(id=alert.id).encode()
    buttons: list[Any] = [ButtonElement(text="View plan", action_id=Action.ALERT_VIEW_PLAN, value=value)]
    if alert.resolution is not None:
        return buttons
    buttons.append(ButtonElement(text="Request more", action_id=Action.ALERT_REQUEST_MORE, value=value))
    if alert.acknowledged_by is None:
        buttons.append(
            StaticSelectElement(
                placeholder="Snooze…",
                action_id=Action.ALERT_SNOOZE,
                options=[
                    Option(value=SnoozeValue(id=alert.id, choice=choice).encode(), text=choice.label)
                    for choice in SnoozeChoice
                ],
            )
        )
        buttons.append(
            ButtonElement(
                text="Acknowledge", action_id=Action.ALERT_ACKNOWLEDGE, value=value, style="primary"
            )
        )
    return buttons


# --------------------------------------------------------------------------------------------------
# Failed deliveries, told to administrators by DM
# --------------------------------------------------------------------------------------------------

_REASONS: Final = {
    "not_in_channel": "My Plan isn't a member of {channel}. Invite it there with `/invite @My Plan`",
    "channel_not_found": "{channel} doesn't exist any more, or is private and My Plan hasn't been invited",
    "is_archived": "{channel} is archived",
    "no_alerts_channel": "no alerts channel is set",
    "missing_scope": "My Plan lacks a permission to post there; reinstall the app",
}


def failure_reason(reason: str, channel: str | None) -> str:
    where = f"<#{channel}>" if channel else "the alerts channel"
    return _REASONS.get(reason, "Slack answered `{reason}`").format(channel=where, reason=reason)


def delivery_failed_message(
    failures: Sequence[tuple[Alert, str]], *, channel: str | None, company: str
) -> Message:
    """A DM to each administrator: which alerts could not be posted, why, and how to fix it."""
    reasons = sorted({failure_reason(reason, channel) for _, reason in failures})
    intro = (
        f":warning: I couldn't post {len(failures)} quota alert{'s' if len(failures) != 1 else ''} "
        f"for *{company}*: {'; '.join(reasons)}."
    )
    fix = "Choose the alerts channel with `/plan alerts`; the alerts themselves are below."
    lines = [f"• {_emoji(alert)} {alert_text(alert)}" for alert, _ in failures[:20]]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(f"{intro}\n{fix}", MAX_SECTION_CHARS))),
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), MAX_SECTION_CHARS))),
    ]
    return Message(text=truncate(f"{intro} {fix}", 3000), blocks=blocks)


# --------------------------------------------------------------------------------------------------
# `/plan usage` and "Request more"
# --------------------------------------------------------------------------------------------------


NO_FORECAST: Final = "_No forecast: not enough readings this period, or usage is not rising._"


def allowances_text(plan: PlanSnapshot, forecasts: Mapping[Meter, Forecast | None]) -> str:
    """Each metered allowance of the plan: its bar and figures, then its run-out forecast."""
    renewal = plan.subscription.next_payment_date
    lines = ["*Allowances this billing period*"]
    for meter in Meter:
        line = allowance_line(plan, meter)
        if line is None:
            continue
        forecast = forecasts.get(meter)
        lines += [
            line,
            forecast_line(meter.label, forecast, renewal) if forecast is not None else NO_FORECAST,
        ]
    if len(lines) == 1:
        lines.append("_No metered allowances on this plan._")
    return "\n".join(lines)


def usage_summary_message(
    plan: PlanSnapshot, forecasts: Mapping[Meter, Forecast | None], *, chart_channel: str | None
) -> Message:
    """Each allowance with its bar and forecast; says where the burn-down chart went."""
    renewal = plan.subscription.next_payment_date
    where = (
        f"The burn-down chart is in <#{chart_channel}>."
        if chart_channel
        else "The burn-down chart could not be posted."
    )
    blocks: list[Block] = [
        SectionBlock(
            block_id=BlockId.USAGE_SUMMARY,
            text=MarkdownTextObject(text=truncate(allowances_text(plan, forecasts), MAX_SECTION_CHARS)),
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{where} Renewal on {slack_date(renewal)}. Data as of {slack_datetime(plan.account.data_as_of)}. {INVOICE_NOTE}"
                )
            ]
        ),
    ]
    summary = "; ".join(
        f"{a.meter.label} {whole_percent(p)}% used"
        for a in plan.allowances
        if (p := percent_used(a.used, a.available)) is not None
    )
    return Message(text=f"Usage this period: {summary or 'no allowances'}", blocks=blocks)


def chart_comment(plan: PlanSnapshot, at: datetime) -> str:
    return (
        f"Burn-down of {plan.account.company_name}'s allowances this billing period "
        f"(renewal {plan.subscription.next_payment_date.isoformat()}, as of {at:%Y-%m-%d %H:%M} UTC)."
    )


def already_acknowledged_message(alert: Alert) -> Message:
    when = slack_datetime(alert.acknowledged_at) if alert.acknowledged_at else "earlier"
    text = f"<@{alert.acknowledged_by}> already acknowledged this alert ({when})."
    return Message(
        text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":white_check_mark: {text}"))]
    )
