"""Traffic by destination: the billing platform's hourly aggregates, each priced by the rate table in force.

Money is `Decimal` end to end: a cost is the quantity (at most 4 decimal places) times the rate (at most 4),
exact to 8 places.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
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
    """One rate entry's traffic of one kind over a period, with what it cost."""

    model_config = ConfigDict(frozen=True)

    iso_code: str | None
    place: str
    kind: TrafficKind
    priced_as: PricedAs | None
    quantity: Decimal
    cost: Decimal
    unpriced_quantity: Decimal
    rate: Decimal | None
    """The rate of the newest priced hour (what a new hour would cost now, as far as the period knows)."""
