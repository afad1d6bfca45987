"""Traffic by destination: the billing platform's hourly aggregates, each priced by the rate table in force.

Money is `Decimal` end to end: a cost is the quantity (at most 4 decimal places) times the rate (at most 4),
exact to 8 places.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

TrafficKind = Literal["voice", "sms"]
LineTypeIn = Literal["landline", "mobile"]
PricedAs = Literal["landline", "mobile", "sms"]

COST_PLACES: Final = 8
"""A cost's decimal places: a quantity's 4 times a rate's 4."""


class TrafficHour(BaseModel):
    """One hour of one kind of traffic to one destination, priced (or not, and why) when it arrived."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hour: datetime
    destination: str
    """As sent, normalised to ``+`` and digits: a dial prefix (``+44``) or an E.164 number."""
    kind: TrafficKind
    line_type: LineTypeIn | None = None
    """As sent (None: not given)."""
    quantity: Decimal
    """Minutes for voice, messages for SMS."""
    area: str
    """What the figure is counted under: its rate table entry's ISO code, or ``+`` and the destination's
    country calling code when no entry matched (``+881``)."""
    high_risk: bool = False
    """A destination known for premium-rate fraud (`bot.traffic.high_risk`)."""
    iso_code: str | None = None
    """The rate table entry the destination matched (None: no entry)."""
    place: str | None = None
    """That entry's destination name, kept so a later table without it still names the traffic."""
    rate_version: int | None = None
    priced_as: PricedAs | None = None
    rate: Decimal | None = None
    cost: Decimal | None = None
    unpriced: str | None = None
    """Why there is no cost: ``no_table`` (no table in force that hour), ``no_rate`` (no entry), or the kind
    of number the table does not price (``premium``, ``toll_free``, …)."""


class TrafficWrite(BaseModel):
    """What one batch did: hours replaced whole, and figures stored."""

    model_config = ConfigDict(frozen=True)

    hours: int
    stored: int
    replaced: int
    """Figures of those hours stored before, now replaced."""


class DestinationSpend(BaseModel):
    """One area's traffic of one kind and rate kind over a period, with what it cost."""

    model_config = ConfigDict(frozen=True)

    area: str
    """The rate table entry's ISO code, or ``+`` and the country calling code (see `TrafficHour.area`)."""
    iso_code: str | None
    place: str
    kind: TrafficKind
    priced_as: PricedAs | None
    quantity: Decimal
    cost: Decimal
    unpriced_quantity: Decimal
    rate: Decimal | None
    """The rate of the newest priced hour (what a new hour would cost now, as far as the period knows)."""


class TrafficSeries(BaseModel):
    """One area's traffic of one kind for an account: a total a day, for the spike baseline."""

    model_config = ConfigDict(frozen=True)

    area: str
    kind: TrafficKind
    place: str
    first_day: date
    days: dict[date, Decimal]


class SpikeClaim(BaseModel):
    """A spike found in the last hours of an area's traffic, to be claimed once for its day."""

    model_config = ConfigDict(frozen=True)

    area: str
    place: str
    kind: TrafficKind
    day: date
    window_start: datetime
    window_end: datetime
    quantity: Decimal
    cost: Decimal
    rate: Decimal | None
    baseline: Decimal
    """The baseline's volume for as many hours as the window (the median of past days)."""
    baseline_days: int
    high_risk: bool
    prefixes: tuple[str, ...]
    """The window's destinations as sent, most traffic first."""


class SpikeStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    """No alerts channel, or no workspace linked, when it was due: nothing to post to."""


class BlockState(StrEnum):
    REQUESTED = "requested"
    """An administrator blocked it in Slack; the platform has not confirmed it yet."""
    CONFIRMED = "confirmed"
    LIFTED = "lifted"


class WebhookStatus(StrEnum):
    """A destination block's delivery to the billing platform's webhook."""

    NONE = "none"
    """No webhook configured when the block was made: the platform polls."""
    PENDING = "pending"
    DELIVERED = "delivered"


class MuteReason(StrEnum):
    EXPECTED = "expected"
    SNOOZED = "snoozed"


class Mute(BaseModel):
    model_config = ConfigDict(frozen=True)

    until: datetime
    reason: MuteReason
    by: str


class DestinationBlock(BaseModel):
    """A destination blocked from a spike alert, as the platform reads it."""

    model_config = ConfigDict(frozen=True)

    id: int
    account_id: str
    area: str
    place: str
    kind: TrafficKind
    prefixes: list[str]
    state: BlockState
    requested_by: str
    requested_at: datetime
    updated_at: datetime
    note: str | None = None
    spike_id: int | None = None


class SpikeAlert(SpikeClaim):
    """A claimed spike alert as delivery and its message see it: the claim, its delivery, what people did."""

    id: int
    account_id: str
    status: SpikeStatus
    attempts: int
    next_attempt_at: datetime
    may_be_posted: bool
    error: str | None
    team_id: str | None
    channel: str | None
    message_ts: str | None
    version: int
    mute: Mute | None = None
    block: DestinationBlock | None = None
