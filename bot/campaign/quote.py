"""Price a campaign: every recipient read once, grouped by destination and line type, priced per group.

Each number is read and typed once (`bot.campaign.numbers`); its region's row comes from the rate index by
ISO code, a dict hit per region rather than a lookup per number. A number whose region has no row of its
own (a table keyed by a longer dial prefix, say) goes through `RateIndex.lookup`, exactly as `/rates`
would price it. Money is `Decimal`: a group's cost is its rate times a whole number of messages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat

from bot.campaign.numbers import number_key, read_number
from bot.campaign.recipients import Recipient
from bot.campaign.results import CampaignQuote, DestinationQuote
from bot.campaign.segments import SegmentCount
from bot.rates.phones import _PRICED_TYPES, _UNPRICED_TYPES
from bot.rates.results import LineType, PhoneMatch, UnpricedKind, UnpricedNumber
from store.domain.rates import RateRow

if TYPE_CHECKING:
    from bot.rates.matcher import RateIndex

MAX_INVALID_KEPT: Final = 10
"""Invalid lines kept to show; the rest are counted."""
_NON_GEOGRAPHIC: Final = "001"

RowKey = tuple[str, str, str]


class _Tally:
    """Recipients counted by (row, line type), by unpriced kind, and the invalid ones."""

    def __init__(self) -> None:
        self.rows: dict[RowKey, RateRow] = {}
        self.priced: Counter[tuple[RowKey, LineType]] = Counter()
        self.unpriced: Counter[UnpricedKind] = Counter()
        self.invalid: list[Recipient] = []
        self.invalid_count = 0
        self.duplicates = 0

    def price(self, row: RateRow, line_type: LineType) -> None:
        key = (row.iso_code, row.dial_code, row.destination)
        self.rows.setdefault(key, row)
        self.priced[(key, line_type)] += 1

    def reject(self, recipient: Recipient) -> None:
        self.invalid_count += 1
        if len(self.invalid) < MAX_INVALID_KEPT:
            self.invalid.append(recipient)


def quote_campaign(
    recipients: Sequence[Recipient], index: RateIndex, message: SegmentCount, default_region: str | None
) -> CampaignQuote:
    """The campaign's cost at `index`'s SMS rates; national numbers are read in `default_region`."""
    tally = _Tally()
    seen: set[tuple[int | None, int | None, bool | None, int | None]] = set()
    rows: dict[str | None, RateRow | None] = {}
    for recipient in recipients:
        found = read_number(recipient.text, default_region)
        if found is None:
            tally.reject(recipient)
            continue
        number, number_type = found
        key = number_key(number)
        if key in seen:
            tally.duplicates += 1
            continue
        seen.add(key)
        region = phonenumbers.region_code_for_number(number)
        line_type = _PRICED_TYPES.get(number_type)
        if region not in rows:
            rows[region] = index.get(region) if region else None
        row = rows[region]
        if region == _NON_GEOGRAPHIC:
            tally.unpriced["non_geographic"] += 1
        elif line_type is None:
            tally.unpriced[_UNPRICED_TYPES.get(number_type, "unknown")] += 1
        elif row is not None:
            tally.price(row, line_type)
        else:
            _as_rates_would(number, index, tally)
    return _quote(tally, message, len(recipients))


def _as_rates_would(number: PhoneNumber, index: RateIndex, tally: _Tally) -> None:
    """A number whose region has no row of its own: priced (or not) as `/rates` answers for it."""
    result = index.lookup(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    if isinstance(result, PhoneMatch):
        tally.price(result.row, result.line_type)
    elif isinstance(result, UnpricedNumber):
        tally.unpriced[result.kind] += 1
    else:
        tally.unpriced["no_rate"] += 1


def _quote(tally: _Tally, message: SegmentCount, recipients: int) -> CampaignQuote:
    counts: dict[RowKey, Counter[LineType]] = {}
    for (key, line_type), count in tally.priced.items():
        counts.setdefault(key, Counter())[line_type] += count
    destinations = []
    for key, by_type in counts.items():
        row = tally.rows[key]
        messages = by_type.total() * message.segments
        destinations.append(
            DestinationQuote(
                row=row,
                mobile=by_type["mobile"],
                landline=by_type["landline"],
                either=by_type["either"],
                messages=messages,
                cost=row.sms_per_message * messages,
            )
        )
    destinations.sort(key=lambda d: (-d.cost, -d.recipients, d.row.destination))
    return CampaignQuote(
        message=message,
        recipients=recipients,
        destinations=tuple(destinations),
        unpriced=tuple(tally.unpriced.most_common()),
        invalid=tuple(tally.invalid),
        invalid_count=tally.invalid_count,
        duplicates=tally.duplicates,
    )
