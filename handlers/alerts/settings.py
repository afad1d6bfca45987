"""The alert settings: the modal administrators edit (its metadata bound to the account), the form
read back from it, and the message others see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from typing import Final

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.alerts.local_time import is_time_zone
from bot.alerts.rules import THRESHOLD_CHOICES
from bot.core.errors import ExpiredForm
from handlers.alerts.ids import METER_BLOCK, Action, Callback
from handlers.alerts.ids import Block as BlockId
from handlers.alerts.views import MAX_SECTION_CHARS, headline
from handlers.messages import Message, slack_datetime, truncate
from handlers.payloads import ModalMetadata, ViewState
from store.domain.alerts import (
    Alert,
    AlertRules,
    AlertStatus,
    QuietHours,
    meter_label,
)
from store.domain.digests import WEEKDAYS, DigestSchedule

OFF: Final = "off"
WEEKENDS: Final = "weekends"
SETTINGS: Final = "the alert settings"


class AlertSettingsMeta(ModalMetadata):
    """The modal's private metadata: the account, where `/plan alerts` was run, and the meters it offered."""

    origin_channel: str = ""
    meters: tuple[str, ...] = ()


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
    rules: AlertRules,
    meters: Sequence[str],
    recent: Sequence[Alert],
    meta: AlertSettingsMeta,
    digest: DigestSchedule | None = None,
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
        *_schedule_blocks(rules),
        *_digest_blocks(digest or DigestSchedule()),
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
                block_id=METER_BLOCK.id(meter),
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
        private_metadata=meta.encode(),
        blocks=blocks,
    )


def _schedule_blocks(rules: AlertRules) -> list[Block]:
    """The account's time zone and its quiet hours (when warnings wait; running out never does)."""
    weekends = Option(value=WEEKENDS, text="Weekends too (all of Saturday and Sunday)")
    quiet = rules.quiet
    return [
        InputBlock(
            block_id=BlockId.ALERTS_TIME_ZONE,
            label="Time zone",
            hint="The account's local time, for quiet hours: a name such as Europe/London or Asia/Hong_Kong.",
            element=PlainTextInputElement(
                action_id=Action.ALERTS_TIME_ZONE, initial_value=rules.time_zone, max_length=64
            ),
        ),
        InputBlock(
            block_id=BlockId.ALERTS_QUIET_START,
            label="Quiet hours start",
            optional=True,
            hint="Warnings found in quiet hours are posted when they end; running out is posted at once.",
            element=TimePickerElement(
                action_id=Action.ALERTS_QUIET_START,
                initial_time=f"{quiet.start:%H:%M}" if quiet else None,
            ),
        ),
        InputBlock(
            block_id=BlockId.ALERTS_QUIET_END,
            label="Quiet hours end",
            optional=True,
            element=TimePickerElement(
                action_id=Action.ALERTS_QUIET_END, initial_time=f"{quiet.end:%H:%M}" if quiet else None
            ),
        ),
        InputBlock(
            block_id=BlockId.ALERTS_QUIET_WEEKENDS,
            label="Quiet weekends",
            optional=True,
            element=CheckboxesElement(
                action_id=Action.ALERTS_QUIET_WEEKENDS,
                options=[weekends],
                initial_options=[weekends] if quiet and quiet.weekends else None,
            ),
        ),
    ]


def _digest_blocks(digest: DigestSchedule) -> list[Block]:
    """The weekly digest: its day (or off) and hour, on the account's time zone."""
    off = Option(value=OFF, text="Off")
    days = [Option(value=str(n), text=name) for n, name in enumerate(WEEKDAYS)]
    hours = [Option(value=str(h), text=f"{h:02d}:00") for h in range(24)]
    return [
        InputBlock(
            block_id=BlockId.ALERTS_DIGEST_DAY,
            label="Weekly digest",
            hint="Each allowance, what changed in the week and the burn-down chart, to the alerts channel.",
            element=StaticSelectElement(
                action_id=Action.ALERTS_DIGEST_DAY,
                options=[*days, off],
                initial_option=days[digest.weekday] if digest.enabled else off,
            ),
        ),
        InputBlock(
            block_id=BlockId.ALERTS_DIGEST_HOUR,
            label="Weekly digest time",
            hint="In the time zone above.",
            element=StaticSelectElement(
                action_id=Action.ALERTS_DIGEST_HOUR, options=hours, initial_option=hours[digest.hour]
            ),
        ),
    ]


def digest_summary(digest: DigestSchedule) -> str:
    if not digest.enabled:
        return "The weekly digest is *off*."
    return f"The weekly digest comes on *{WEEKDAYS[digest.weekday]}s at {digest.hour:02d}:00*."


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


def settings_saved_message(rules: AlertRules, digest: DigestSchedule | None = None) -> Message:
    text = f":white_check_mark: Saved. {settings_summary(rules)}"
    if digest is not None:
        text += f"\n{digest_summary(digest)}"
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
    time_zone: str = ""
    quiet_start: str | None = None
    quiet_end: str | None = None
    """Local times as the time pickers give them ("20:00"); checked by `errors`."""
    quiet_weekends: bool = False
    digest_day: str | None = None
    digest_hour: str | None = None
    """The digest's weekday ("0" is Monday, or "off") and hour ("9"); None from a modal without them."""

    @classmethod
    def from_state(cls, state: ViewState, meters: Sequence[str]) -> AlertSettingsForm:
        chosen = state.choices
        enabled = state.text(BlockId.ALERTS_ENABLED, Action.ALERTS_ENABLED)
        overrides: dict[str, tuple[int, ...]] = {}
        mixed: list[str] = []
        for meter in meters:
            picked = chosen(METER_BLOCK.id(meter), Action.ALERTS_METER)
            if not picked:
                continue
            if OFF in picked and len(picked) > 1:
                mixed.append(meter)
            overrides[meter] = () if OFF in picked else _percents(picked)
        try:
            return cls(
                enabled=enabled != OFF,
                channel=state.conversation(BlockId.ALERTS_CHANNEL, Action.ALERTS_CHANNEL),
                thresholds=_percents(chosen(BlockId.ALERTS_THRESHOLDS, Action.ALERTS_THRESHOLDS)),
                overrides=overrides,
                off_mixed=tuple(mixed),
                time_zone=state.text(BlockId.ALERTS_TIME_ZONE, Action.ALERTS_TIME_ZONE) or "",
                quiet_start=_picked_time(state, BlockId.ALERTS_QUIET_START, Action.ALERTS_QUIET_START),
                quiet_end=_picked_time(state, BlockId.ALERTS_QUIET_END, Action.ALERTS_QUIET_END),
                quiet_weekends=WEEKENDS
                in chosen(BlockId.ALERTS_QUIET_WEEKENDS, Action.ALERTS_QUIET_WEEKENDS),
                digest_day=state.text(BlockId.ALERTS_DIGEST_DAY, Action.ALERTS_DIGEST_DAY),
                digest_hour=state.text(BlockId.ALERTS_DIGEST_HOUR, Action.ALERTS_DIGEST_HOUR),
            )
        except ValidationError as error:  # not what the modal offers: a tampered or stale form
            raise ExpiredForm(SETTINGS) from error

    def errors(self) -> dict[str, str]:
        """Inline errors by block id (empty when the form can be saved)."""
        errors: dict[str, str] = {}
        if self.enabled and not self.channel:
            errors[BlockId.ALERTS_CHANNEL] = "Choose the channel alerts are posted to."
        if not self.thresholds:
            errors[BlockId.ALERTS_THRESHOLDS] = "Choose at least one threshold."
        for meter in self.off_mixed:
            errors[METER_BLOCK.id(meter)] = "Choose Off on its own, or thresholds."
        if not is_time_zone(self.time_zone):
            errors[BlockId.ALERTS_TIME_ZONE] = (
                "Enter a time zone name such as Europe/London, America/New_York or UTC."
            )
        errors.update(self._quiet_errors())
        return errors

    def _quiet_errors(self) -> dict[str, str]:
        start, end = _clock(self.quiet_start), _clock(self.quiet_end)
        if self.quiet_start is not None and start is None:
            return {BlockId.ALERTS_QUIET_START: "Choose a time such as 20:00."}
        if self.quiet_end is not None and end is None:
            return {BlockId.ALERTS_QUIET_END: "Choose a time such as 08:00."}
        if (start is None) != (end is None):
            missing = BlockId.ALERTS_QUIET_END if end is None else BlockId.ALERTS_QUIET_START
            return {missing: "Choose both the start and the end of quiet hours, or neither."}
        if start is not None and start == end:
            return {BlockId.ALERTS_QUIET_END: "Quiet hours must end at another time than they start."}
        if self.quiet_weekends and start is None:
            return {BlockId.ALERTS_QUIET_START: "Choose the nightly quiet hours too."}
        return {}

    def digest(self, before: DigestSchedule) -> DigestSchedule:
        """The digest schedule chosen (`before` where the modal did not offer it); the modal offers only
        valid choices, so anything else is a stale or tampered form."""
        day = self.digest_day if self.digest_day is not None else str(before.weekday)
        hour = self.digest_hour if self.digest_hour is not None else str(before.hour)
        if (day != OFF and not _in_range(day, 7)) or not _in_range(hour, 24):
            raise ExpiredForm(SETTINGS)
        enabled = day != OFF if self.digest_day is not None else before.enabled
        weekday = int(day) if day != OFF else before.weekday
        return DigestSchedule(enabled=enabled, weekday=weekday, hour=int(hour))

    def rules(self, *, channel_team_id: str | None) -> AlertRules:
        start, end = _clock(self.quiet_start), _clock(self.quiet_end)
        quiet = (
            QuietHours(start=start, end=end, weekends=self.quiet_weekends)
            if start is not None and end is not None
            else None
        )
        return AlertRules(
            enabled=self.enabled,
            channel=self.channel,
            channel_team_id=channel_team_id if self.channel else None,
            thresholds=self.thresholds,
            overrides=self.overrides,
            time_zone=self.time_zone,
            time_zone_set=True,
            quiet=quiet,
        )


def _picked_time(state: ViewState, block_id: str, action_id: str) -> str | None:
    picked = state.element(block_id, action_id).get("selected_time")
    return picked if isinstance(picked, str) and picked else None


def _clock(value: str | None) -> time | None:
    """A time picker's "HH:MM", or None when there is none or it is not one."""
    if value is None:
        return None
    try:
        return time.fromisoformat(value) if len(value) == 5 else None
    except ValueError:
        return None


def _in_range(value: str, stop: int) -> bool:
    return value.isascii() and value.isdigit() and int(value) < stop


def _percents(values: Sequence[str]) -> tuple[int, ...]:
    """The chosen percentages; anything the modal does not offer means the form is stale or tampered."""
    if not all(v.isascii() and v.isdigit() and 1 <= int(v) <= 100 for v in values):
        raise ExpiredForm(SETTINGS)
    return tuple(sorted({int(v) for v in values}))
