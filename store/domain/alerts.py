"""Quota alerts as the store holds them: watched meters, rules, the alert outbox rows.

Pure data (no Slack, no database). The rules that decide when to alert live in ``bot.alerts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Final

from pydantic import Field

from store.domain.plan import FEATURE_METER_PREFIX, STAFF_LICENCES, FeatureKey, Frozen, Meter

ACCOUNT_WIDE: Final = "*"
"""The meter of an account-wide rule (overrides name a meter)."""

DEFAULT_THRESHOLDS: Final[tuple[int, ...]] = (80, 90, 100)
EXHAUSTED: Final = 100
"""The threshold at which an allowance is used up; a snooze never holds this one back."""

FORECAST_THRESHOLD: Final = EXHAUSTED
"""Forecast alerts are stored with this threshold: they forecast reaching 100%."""

DEFAULT_TIME_ZONE: Final = "UTC"
"""An account's time zone until one is learned from an administrator's Slack profile or chosen."""


def allowance_meter(meter: str) -> Meter | None:
    """The allowance behind a meter name, or None for licences and features."""
    try:
        return Meter(meter)
    except ValueError:
        return None


def feature_of(meter: str) -> FeatureKey | None:
    if not meter.startswith(FEATURE_METER_PREFIX):
        return None
    try:
        return FeatureKey(meter.removeprefix(FEATURE_METER_PREFIX))
    except ValueError:
        return None


def meter_label(meter: str) -> str:
    """'Voice call minutes', 'Staff licences', 'Virtual Numbers'… (the meter name itself if unknown)."""
    if (allowance := allowance_meter(meter)) is not None:
        return allowance.label
    if meter == STAFF_LICENCES:
        return "Staff licences"
    if (feature := feature_of(meter)) is not None:
        return feature.info.name
    return meter


def is_forecastable(meter: str) -> bool:
    """Only the period's consumable allowances (minutes, storage) run out at a pace worth forecasting."""
    return allowance_meter(meter) is not None


class AlertKind(StrEnum):
    THRESHOLD = "threshold"
    FORECAST = "forecast"


class AlertStatus(StrEnum):
    PENDING = "pending"
    """Claimed for its period; waiting to be posted (maybe after a backoff, or until a snooze ends)."""
    SENDING = "sending"
    """A delivery loop is posting it; if that loop dies, the lease runs out and another takes over."""
    SENT = "sent"
    FAILED = "failed"
    """Slack refused it for good (e.g. not_in_channel); administrators were told by DM."""
    SUPERSEDED = "superseded"
    """A higher threshold of the same meter and period was claimed before this one was posted."""
    EXPIRED = "expired"
    """Its billing period ended before it could be posted (it was held by a snooze)."""
    SKIPPED = "skipped"
    """No installed workspace to post it with (the app was uninstalled)."""
    CANCELLED = "cancelled"
    """Alerts for its meter were turned off before it was posted."""


IN_FLIGHT: Final = (AlertStatus.PENDING.value, AlertStatus.SENDING.value)
"""The statuses of an alert still to be delivered (claimed, not yet posted)."""


class Resolution(StrEnum):
    """Why a meter's alert message was resolved."""

    RENEWED = "renewed"
    """A new billing period started: usage starts afresh."""
    ALLOWANCE_RAISED = "allowance"
    """The allowance grew (an upgrade applied): the meter is below the threshold last announced."""


class QuietHours(Frozen):
    """Local times between which warnings wait (`start` after `end` spans midnight: 20:00–08:00), and
    whether the whole weekend is quiet too. Running out (100%) is never held back."""

    start: time
    end: time
    weekends: bool = False


class AlertRules(Frozen):
    """An account's alert settings; `overrides` maps a meter to its own thresholds (empty: off).

    `time_zone` is an IANA name (`DEFAULT_TIME_ZONE` until learned or chosen; `time_zone_set` says
    whether it was); it places quiet hours and is the account's local time for anything else too."""

    enabled: bool = True
    channel: str | None = None
    channel_team_id: str | None = None
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    overrides: dict[str, tuple[int, ...]] = Field(default_factory=dict)
    updated_at: datetime | None = None
    updated_by: str | None = None
    time_zone: str = DEFAULT_TIME_ZONE
    time_zone_set: bool = False
    quiet: QuietHours | None = None

    def thresholds_for(self, meter: str) -> tuple[int, ...]:
        """The thresholds that apply to `meter`; empty when alerts are off for it."""
        if not self.enabled:
            return ()
        return self.overrides.get(meter, self.thresholds)

    def audit_view(self) -> dict[str, object]:
        """What the audit log records of a change."""
        return {
            "enabled": self.enabled,
            "channel": self.channel,
            "thresholds": list(self.thresholds),
            "overrides": {meter: list(values) for meter, values in sorted(self.overrides.items())},
            "time_zone": self.time_zone,
            "quiet": None if self.quiet is None else self.quiet.model_dump(mode="json"),
        }


class Forecast(Frozen):
    """When an allowance runs out at the current pace, and what that is based on."""

    runs_out_at: datetime
    readings: int
    days: Decimal
    """Days between the first and the last reading used."""


@dataclass(frozen=True, slots=True)
class ReadingStats:
    """Sufficient statistics of a period's readings for a least-squares fit.

    x is days from a fixed origin (any: only the slope and spans are used), y the used amount; the
    sums are floats (minutes and GB, not money).
    """

    count: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_xy: float
    first_x: float
    last_x: float


@dataclass(frozen=True, slots=True)
class ForecastCandidate:
    """A meter whose forecast may warrant an alert, with its period's reading statistics.

    Dataclasses rather than pydantic models: a sweep of every account makes one per allowance."""

    account_id: str
    meter: str
    period_start: date
    period_end: date
    used: Decimal
    available: Decimal
    unit: str
    as_of: datetime
    stats: ReadingStats


class EvaluationFailure(Frozen):
    """An account whose alert evaluation failed: sweeps skip it until `retry_at`, then try it again."""

    account_id: str
    failures: int
    """Failures in a row; the wait before the next try doubles with each."""
    last_error: str
    first_failed_at: datetime
    last_failed_at: datetime
    retry_at: datetime


class SweepResult(Frozen):
    """What a sweep of every account did: alerts claimed, and the accounts it had to skip."""

    claimed: int
    failed: tuple[EvaluationFailure, ...] = ()


class DuePass(Frozen):
    """What a pass over the accounts due for evaluation did: accounts evaluated, alerts claimed, the
    accounts it had to skip (their evaluation failed), and those put off until their retry."""

    evaluated: int = 0
    claimed: int = 0
    failed: tuple[EvaluationFailure, ...] = ()
    waiting: int = 0

    def __add__(self, other: DuePass) -> DuePass:
        return DuePass(
            evaluated=self.evaluated + other.evaluated,
            claimed=self.claimed + other.claimed,
            failed=self.failed + other.failed,
            waiting=self.waiting + other.waiting,
        )


class Alert(Frozen):
    """One alert of the outbox."""

    id: int
    account_id: str
    meter: str
    kind: AlertKind
    threshold: int
    period_start: date
    period_end: date
    used: Decimal
    available: Decimal
    unit: str
    as_of: datetime
    forecast: Forecast | None = None
    status: AlertStatus
    attempts: int
    next_attempt_at: datetime
    first_attempt_at: datetime | None = None
    error: str | None = None
    team_id: str | None = None
    channel: str | None = None
    message_ts: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    reply_ts: str | None = None
    """Its reply in the thread of its meter's message (`message_ts`), when it updated that message."""
    may_be_posted: bool = False
    resolved_at: datetime | None = None
    resolution: Resolution | None = None
    resolved_available: Decimal | None = None
    """The allowance when the alert was resolved because it grew."""

    @property
    def label(self) -> str:
        return meter_label(self.meter)

    @property
    def is_exhaustion(self) -> bool:
        return self.kind == AlertKind.THRESHOLD and self.threshold >= EXHAUSTED


class AlertThread(Frozen):
    """Where a meter's alerts of one period are: the message its first alert posted, and the alert it
    shows now. A later crossing updates that message and replies in its thread."""

    team_id: str
    channel: str
    ts: str
    shown: int
    """The id of the alert the message shows."""


class ClaimedAlert(Frozen):
    """An alert a delivery loop has claimed (status sending), with where it should go: a new message,
    or the thread of its meter's message this period. `time_zone` and `quiet` are the account's."""

    alert: Alert
    channel: str | None
    channel_team_id: str | None
    company_name: str
    thread: AlertThread | None = None
    time_zone: str = DEFAULT_TIME_ZONE
    quiet: QuietHours | None = None


class ResolvedAlert(Frozen):
    """A meter's message to update as resolved: the alert it shows, and where it is."""

    alert: Alert
    company_name: str
