"""Rate Table rules: lookup/matching, cost estimates, CSV import/export, sample data.

What this package re-exports is pure (no Slack, no DB). Two modules do I/O and are imported by name:
`bot.rates.cache` (the current table's index, rebuilt per version) and `bot.rates.updates` (the one
import path for the CLI and the ingest API, with the change announcements).

Domain objects (`RateRow`, `RateTable`, `RateChanges`, `diff_tables`) live in `store.domain.rates` so the
store can return them; they are re-exported here for convenience.

`RateIndex` (`bot.rates.matcher`) and the sample (`bot.rates.sample`) load on first use: they import
phonenumbers (1 MB), which a serving process needs only once it builds its first rate index.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from bot.rates.csvio import HEADER, HEADER_LINE, Problem, RateFileError, check_rows, parse_csv, to_csv
from bot.rates.estimate import (
    AMOUNTS_READ,
    CallDuration,
    CostKind,
    CostLine,
    Estimate,
    Quantity,
    SmsCount,
    estimate,
    format_usd,
    parse_rate_query,
    split_unread_amount,
)
from bot.rates.regions import MAX_QUERY_LENGTH, NON_COUNTRY_REGIONS, is_known_region, normalize, region_name
from bot.rates.results import (
    Ambiguous,
    DestinationMatch,
    LineType,
    LookupResult,
    MatchedBy,
    NoMatch,
    PhoneMatch,
    RatePage,
    UnpricedKind,
    UnpricedNumber,
)
from store.domain.rates import RateChange, RateChanges, RateKind, RateRow, RateTable, diff_tables

if TYPE_CHECKING:
    from bot.rates.matcher import RateIndex
    from bot.rates.sample import SAMPLE_LABEL, sample_rows, synthetic_rows

_ON_FIRST_USE = {
    "RateIndex": "bot.rates.matcher",
    "SAMPLE_LABEL": "bot.rates.sample",
    "sample_rows": "bot.rates.sample",
    "synthetic_rows": "bot.rates.sample",
}


def __getattr__(name: str) -> object:
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module 'bot.rates' has no attribute {name!r}")
    value = getattr(import_module(_ON_FIRST_USE[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "AMOUNTS_READ",
    "HEADER",
    "HEADER_LINE",
    "MAX_QUERY_LENGTH",
    "NON_COUNTRY_REGIONS",
    "SAMPLE_LABEL",
    "Ambiguous",
    "CallDuration",
    "CostKind",
    "CostLine",
    "DestinationMatch",
    "Estimate",
    "LineType",
    "LookupResult",
    "MatchedBy",
    "NoMatch",
    "PhoneMatch",
    "Problem",
    "Quantity",
    "RateChange",
    "RateChanges",
    "RateFileError",
    "RateIndex",
    "RateKind",
    "RatePage",
    "RateRow",
    "RateTable",
    "SmsCount",
    "UnpricedKind",
    "UnpricedNumber",
    "check_rows",
    "diff_tables",
    "estimate",
    "format_usd",
    "is_known_region",
    "normalize",
    "parse_csv",
    "parse_rate_query",
    "region_name",
    "sample_rows",
    "split_unread_amount",
    "synthetic_rows",
    "to_csv",
]
