"""Quota alerts in Slack: the alert message, the alert settings modal, `/plan usage`, notices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.alerts.forecast import days_before_renewal, runs_out_before_renewal
from bot.alerts.rules import THRESHOLD_CHOICES, SnoozeChoice
from bot.ids import Action, Callback
from bot.ids import Block as BlockId
from bot.usage import percent_used, whole_percent
from bot.views.common import INVOICE_NOTE, Message, quantity, slack_date, slack_datetime, truncate, usage_line
from bot.views.plan import allowance_line
from store.domain.alerts import (
    STAFF_LICENCES,
    Alert,
    AlertKind,
    AlertRules,
    AlertStatus,
    Forecast,
    allowance_meter,
    meter_label,
)
from store.domain.plan import Meter, PlanSnapshot

OFF: Final = "off"
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


def alert_message(alert: Alert, *, company: str, forecast: Forecast | None = None) -> Message:
    """The alert as posted to the alerts channel, and as updated after a snooze or acknowledgement."""
    forecast = forecast or alert.forecast
    percent = percent_used(alert.used, alert.available)
    blocks: list[Block] = [
        SectionBlock(
            block_id=BlockId.ALERT_HEADLINE,
            text=MarkdownTextObject(text=truncate(f"{_emoji(alert)} *{headline(alert)}*", MAX_SECTION_CHARS)),
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
    return Message(text=alert_text(alert, forecast), blocks=blocks, response_type="in_channel")


def _state_text(alert: Alert) -> str:
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


def _alert_buttons(alert: Alert) -> list[Any]:
    value = str(alert.id)
    buttons: list[Any] = [
        ButtonElement(text="View plan", action_id=Action.ALERT_VIEW_PLAN, value=value),
        ButtonElement(text="Request more", action_id=Action.ALERT_REQUEST_MORE, value=value),
    ]
    if alert.acknowledged_by is None:
        buttons.append(
            StaticSelectElement(
                placeholder="Snooze…",
                action_id=Action.ALERT_SNOOZE,
                options=[
                    Option(value=f"{value}:{choice.value}", text=choice.label) for choice in SnoozeChoice
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
# Settings: the modal administrators edit, the message others see
# --------------------------------------------------------------------------------------------------


class AlertSettingsMeta(BaseModel):
    """The modal's private metadata: where `/plan alerts` was run, and the meters it offered."""

    model_config = ConfigDict(frozen=True)

    origin_channel: str = ""
    meters: tuple[str, ...] = ()


def meter_block_id(meter: str) -> str:
    return f"{BlockId.ALERTS_METER}.{meter}"


def _percent_option(percent: int) -> Option:
    return Option(value=str(percent), text=f"{percent}%")


def _threshold_options(current: Sequence[int]) -> list[Option]:
    return [_percent_option(p) for p in sorted(set(THRESHOLD_CHOICES) | set(current))]


def _thresholds_text(thresholds: Sequence[int]) -> str:
    return ", ".join(f"{p}%" for p in thresholds) if thresholds else "off"


def _recent_text(recent: Sequence[Alert]) -> str:
    if not recent:
        return "*Recent alerts*\nNone yet."
    lines = ["*Recent alerts*"]
    for alert in recent:
        status = {
            AlertStatus.SENT: f"posted {slack_datetime(alert.sent_at)}" if alert.sent_at else "posted",
            AlertStatus.FAILED: f"failed: {alert.error}",
        }.get(alert.status, alert.status.value)
        extra = f", acknowledged by <@{alert.acknowledged_by}>" if alert.acknowledged_by else ""
        lines.append(f"• {headline(alert)} · {status}{extra}")
    return truncate("\n".join(lines), MAX_SECTION_CHARS)


def alert_settings_modal(
    rules: AlertRules, meters: Sequence[str], recent: Sequence[Alert], meta: AlertSettingsMeta
) -> View:
    """The alert settings modal (`/plan alerts`, administrators)."""
    on, off = Option(value="on", text="On"), Option(value=OFF, text="Off")
    blocks: list[Block] = [
        SectionBlock(
            block_id=BlockId.ALERTS_INTRO,
            text=MarkdownTextObject(
                text=(
                    "My Plan posts to the alerts channel when a meter crosses a threshold (once per billing "
                    "period) and when usage is on course to run out before renewal. A snooze holds warnings "
                    "back; running out always gets through."
                )
            ),
        ),
        InputBlock(
            block_id=BlockId.ALERTS_ENABLED,
            label="Quota alerts",
            element=RadioButtonsElement(
                action_id=Action.ALERTS_ENABLED,
                options=[on, off],
                initial_option=on if rules.enabled else off,
            ),
        ),
        InputBlock(
            block_id=BlockId.ALERTS_CHANNEL,
            label="Alerts channel",
            optional=True,
            hint="Invite My Plan to the channel first: /invite @My Plan",
            element=ConversationSelectElement(
                action_id=Action.ALERTS_CHANNEL,
                placeholder="Choose a channel",
                initial_conversation=rules.channel,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
        InputBlock(
            block_id=BlockId.ALERTS_THRESHOLDS,
            label="Thresholds",
            hint="Alert when a meter reaches each of these percentages of its allowance or limit.",
            element=StaticMultiSelectElement(
                action_id=Action.ALERTS_THRESHOLDS,
                placeholder="Choose percentages",
                options=_threshold_options(rules.thresholds),
                initial_options=[_percent_option(p) for p in rules.thresholds] or None,
            ),
        ),
        SectionBlock(
            block_id=BlockId.ALERTS_OVERRIDES,
            text=MarkdownTextObject(
                text="*Per meter* — leave a meter empty to use the thresholds above, or choose *Off* to silence it."
            ),
        ),
    ]
    for meter in meters:
        override = rules.overrides.get(meter)
        initial = None if override is None else ([_percent_option(p) for p in override] or [off])
        blocks.append(
            InputBlock(
                block_id=meter_block_id(meter),
                label=truncate(meter_label(meter), 2000),
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=Action.ALERTS_METER,
                    placeholder="Same as above",
                    options=[off, *_threshold_options(override or ())],
                    initial_options=initial,
                ),
            )
        )
    blocks.append(
        SectionBlock(block_id=BlockId.ALERTS_RECENT, text=MarkdownTextObject(text=_recent_text(recent)))
    )
    if rules.updated_by and rules.updated_at:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Last changed by <@{rules.updated_by}> on {slack_datetime(rules.updated_at)}."
                    )
                ]
            )
        )
    return View(
        type="modal",
        callback_id=Callback.ALERT_SETTINGS,
        title="Quota alerts",
        submit="Save",
        close="Cancel",
        private_metadata=meta.model_dump_json(),
        blocks=blocks,
    )


def settings_summary(rules: AlertRules) -> str:
    if not rules.enabled:
        return "Quota alerts are *off*."
    channel = f"<#{rules.channel}>" if rules.channel else "_no channel set_"
    lines = [f"Quota alerts are *on* · channel {channel} · thresholds {_thresholds_text(rules.thresholds)}"]
    lines += [f"• {meter_label(m)}: {_thresholds_text(t)}" for m, t in sorted(rules.overrides.items())]
    return "\n".join(lines)


def alert_settings_message(rules: AlertRules, recent: Sequence[Alert], *, admins: Sequence[str]) -> Message:
    """`/plan alerts` for someone who is not an administrator: the settings, read-only."""
    who = ", ".join(f"<@{a}>" for a in admins) if admins else "a workspace admin"
    blocks: list[Block] = [
        SectionBlock(block_id=BlockId.ALERTS_INTRO, text=MarkdownTextObject(text=settings_summary(rules))),
        SectionBlock(block_id=BlockId.ALERTS_RECENT, text=MarkdownTextObject(text=_recent_text(recent))),
        ContextBlock(elements=[MarkdownTextObject(text=f"Only administrators can change these. Ask {who}.")]),
    ]
    return Message(text=settings_summary(rules).replace("*", ""), blocks=blocks)


def settings_saved_message(rules: AlertRules) -> Message:
    text = f":white_check_mark: Saved. {settings_summary(rules)}"
    return Message(text=text.replace("*", ""), blocks=[SectionBlock(text=MarkdownTextObject(text=text))])


def alerts_channel_notice(company: str, user_id: str) -> Message:
    text = f":bell: Quota alerts for *{company}* will be posted here (set by <@{user_id}>)."
    return Message(
        text=text.replace("*", ""),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
        response_type="in_channel",
    )


class AlertSettingsForm(BaseModel):
    """What the administrator chose in the modal."""

    model_config = ConfigDict(frozen=True)

    enabled: bool
    channel: str | None
    thresholds: tuple[int, ...]
    overrides: dict[str, tuple[int, ...]]
    """Meters given their own thresholds; an empty tuple turns the meter off."""
    off_mixed: tuple[str, ...] = ()
    """Meters where Off was chosen together with thresholds (an error)."""

    @classmethod
    def from_state(cls, values: Mapping[str, Any], meters: Sequence[str]) -> AlertSettingsForm:
        def element(block_id: str, action_id: str) -> Mapping[str, Any]:
            found = (values.get(block_id) or {}).get(action_id)
            return found if isinstance(found, Mapping) else {}

        def chosen(block_id: str, action_id: str) -> list[str]:
            return [str(o.get("value")) for o in element(block_id, action_id).get("selected_options") or []]

        enabled = (element(BlockId.ALERTS_ENABLED, Action.ALERTS_ENABLED).get("selected_option") or {}).get(
            "value"
        )
        overrides: dict[str, tuple[int, ...]] = {}
        mixed: list[str] = []
        for meter in meters:
            picked = chosen(meter_block_id(meter), Action.ALERTS_METER)
            if not picked:
                continue
            if OFF in picked and len(picked) > 1:
                mixed.append(meter)
            overrides[meter] = () if OFF in picked else _percents(picked)
        try:
            return cls(
                enabled=enabled != OFF,
                channel=element(BlockId.ALERTS_CHANNEL, Action.ALERTS_CHANNEL).get("selected_conversation")
                or None,
                thresholds=_percents(chosen(BlockId.ALERTS_THRESHOLDS, Action.ALERTS_THRESHOLDS)),
                overrides=overrides,
                off_mixed=tuple(mixed),
            )
        except ValidationError as error:  # a tampered payload; the handler reports it as a bad request
            raise ValueError(str(error)) from error

    def errors(self) -> dict[str, str]:
        """Inline errors by block id (empty when the form can be saved)."""
        errors: dict[str, str] = {}
        if self.enabled and not self.channel:
            errors[BlockId.ALERTS_CHANNEL] = "Choose the channel alerts are posted to."
        if not self.thresholds:
            errors[BlockId.ALERTS_THRESHOLDS] = "Choose at least one threshold."
        for meter in self.off_mixed:
            errors[meter_block_id(meter)] = "Choose Off on its own, or thresholds."
        return errors

    def rules(self, *, channel_team_id: str | None) -> AlertRules:
        return AlertRules(
            enabled=self.enabled,
            channel=self.channel,
            channel_team_id=channel_team_id if self.channel else None,
            thresholds=self.thresholds,
            overrides=self.overrides,
        )


def _percents(values: Sequence[str]) -> tuple[int, ...]:
    percents = sorted({int(v) for v in values if v.isdigit()})
    if any(not 1 <= p <= 100 for p in percents):
        raise ValueError("thresholds are percentages from 1 to 100")
    return tuple(percents)


# --------------------------------------------------------------------------------------------------
# `/plan usage` and "Request more"
# --------------------------------------------------------------------------------------------------


def usage_summary_message(
    plan: PlanSnapshot, forecasts: Mapping[Meter, Forecast | None], *, chart_channel: str | None
) -> Message:
    """Each allowance with its bar and forecast; says where the burn-down chart went."""
    renewal = plan.subscription.next_payment_date
    lines = ["*Allowances this billing period*"]
    for meter in Meter:
        line = allowance_line(plan, meter)
        if line is None:
            continue
        lines.append(line)
        forecast = forecasts.get(meter)
        lines.append(
            forecast_line(meter.label, forecast, renewal)
            if forecast is not None
            else "_No forecast: not enough readings this period, or usage is not rising._"
        )
    where = (
        f"The burn-down chart is in <#{chart_channel}>."
        if chart_channel
        else "The burn-down chart could not be posted."
    )
    blocks: list[Block] = [
        SectionBlock(
            block_id=BlockId.USAGE_SUMMARY,
            text=MarkdownTextObject(text=truncate("\n".join(lines), MAX_SECTION_CHARS)),
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
