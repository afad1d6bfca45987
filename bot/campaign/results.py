"""What a campaign pre-flight answers: recipients by destination and line type, what could not be priced,
the invalid lines, the message's segments, the cost, and this period's spend to set it against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.campaign.recipients import Recipient
from bot.campaign.segments import SegmentCount
from bot.rates.results import LineType, UnpricedKind
from store.domain.rates import RateRow


@dataclass(frozen=True, slots=True)
class DestinationQuote:
    """The recipients in one rate-table destination, by line type, and what the campaign costs there."""

    row: RateRow
    mobile: int
    landline: int
    either: int
    """Numbers whose numbering plan does not tell mobiles from landlines (the US, Canada…)."""
    messages: int
    """Recipients × segments."""
    cost: Decimal

    @property
    def recipients(self) -> int:
        return self.mobile + self.landline + self.either

    def count(self, line_type: LineType) -> int:
        return {"mobile": self.mobile, "landline": self.landline, "either": self.either}[line_type]


@dataclass(frozen=True, slots=True)
class CampaignQuote:
    """A campaign priced at the SMS rates of one rate-table version. Duplicates are priced once."""

    message: SegmentCount
    recipients: int
    """Lines that gave a recipient, valid or not, duplicates included."""
    destinations: tuple[DestinationQuote, ...]
    """Most expensive first."""
    unpriced: tuple[tuple[UnpricedKind, int], ...]
    """Valid numbers the table does not price (toll-free, premium-rate…, or no rate), most first."""
    invalid: tuple[Recipient, ...]
    """The first few invalid lines."""
    invalid_count: int
    duplicates: int

    @property
    def priced(self) -> int:
        return sum(destination.recipients for destination in self.destinations)

    @property
    def messages(self) -> int:
        return sum(destination.messages for destination in self.destinations)

    @property
    def total(self) -> Decimal:
        return sum((destination.cost for destination in self.destinations), Decimal(0))

    @property
    def landlines(self) -> int:
        return sum(destination.landline for destination in self.destinations)


@dataclass(frozen=True, slots=True)
class PeriodSpend:
    """The account's traffic cost so far in its current billing period (which ends on `renewal`)."""

    since: date
    renewal: date
    spent: Decimal
