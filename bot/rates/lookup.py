"""A rate lookup for an account, as `/rates` makes it, and the one destination a lookup must settle on where
there is no one to pick among suggestions (a Workflow Builder step).

`look_up` reads the account's terms (its fixed VoIP rate, its country for national numbers) and the current
table's cached index; `one_rate` takes the result when it names exactly one priced destination and
otherwise raises `NoSingleRate`, whose text says why (no such destination, several, a number the table
does not price) in the words `/rates` uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from bot.core.errors import UserFacingError
from bot.rates.cache import RateCache
from bot.rates.results import (
    Ambiguous,
    DestinationMatch,
    LineType,
    LookupResult,
    NoMatch,
    PhoneMatch,
    UnpricedNumber,
)
from store import Store
from store.domain.rates import RateRow, RateTableInfo

MAX_ECHOED: Final = 100
"""Characters of the query repeated back in an error."""
MAX_NAMED: Final = 5
"""Destinations named in an error ("did you mean…")."""
NO_TABLE_TEXT: Final = (
    "No rate table has been loaded yet. The operator can load one with `myplan import-rates FILE.csv`."
)
HOW_TO_ASK: Final = (
    "Try a country or region name, an ISO code (GB), a dial code (+44) or a phone number with its country"
    " code (+44 20 7946 0018)."
)


@dataclass(frozen=True, slots=True)
class RateLookup:
    """What a lookup found in the current table, with the table and the account's fixed VoIP rate."""

    result: LookupResult
    table: RateTableInfo
    voip_per_min: Decimal


@dataclass(frozen=True, slots=True)
class OneRate:
    """The one destination a lookup settled on; for a phone number, its line type and E.164 form."""

    row: RateRow
    line_type: LineType | None = None
    number: str | None = None


class NoRateTable(UserFacingError):
    """No rate table has been imported yet."""

    emoji = ":card_index:"

    def __init__(self) -> None:
        super().__init__(NO_TABLE_TEXT)


class NoSingleRate(UserFacingError):
    """A lookup that does not settle on one priced destination; the text says why and what to try."""

    emoji = ":mag:"

    def __init__(self, text: str, result: LookupResult) -> None:
        super().__init__(text)
        self.result = result


async def look_up(store: Store, cache: RateCache, account_id: str, query: str) -> RateLookup | None:
    """`query` looked up in the current table for `account_id` (NotFound for an unknown account); None when
    no table has been imported yet."""
    terms = await store.rates.account_terms(account_id)
    loaded = await cache.current()
    if loaded is None:
        return None
    # National numbers ("020 7946 0018") are read as numbers of the account's own country.
    result = loaded.index.lookup(query, default_region=terms.country)
    return RateLookup(result, loaded.info, terms.voip_rate_per_min)


def one_rate(result: LookupResult) -> OneRate:
    """The destination `result` names; `NoSingleRate` when it names none, several, or a number the table
    must not price (toll-free, premium…)."""
    if isinstance(result, DestinationMatch):
        return OneRate(result.row)
    if isinstance(result, PhoneMatch):
        return OneRate(result.row, result.line_type, result.e164)
    if isinstance(result, UnpricedNumber):
        raise NoSingleRate(result.explanation, result)
    if isinstance(result, Ambiguous):
        raise NoSingleRate(_ambiguous_text(result), result)
    raise NoSingleRate(_no_match_text(result), result)


def _ambiguous_text(ambiguous: Ambiguous) -> str:
    query = _echo(ambiguous.query)
    if len(ambiguous.suggestions) == 1:
        return f"I am not sure what “{query}” is. Did you mean {ambiguous.suggestions[0].destination}?"
    return (
        f"“{query}” could be more than one destination: {_names(ambiguous.suggestions)}."
        " Give its full name, its ISO code or a phone number."
    )


def _no_match_text(no_match: NoMatch) -> str:
    parts = [f"No rate for “{_echo(no_match.query)}”." if no_match.query else "No destination was given."]
    if no_match.hint:
        parts.append(_escape(no_match.hint))
    parts.append(f"The closest destinations: {_names(no_match.closest)}." if no_match.closest else HOW_TO_ASK)
    return " ".join(parts)


def _names(rows: Sequence[RateRow]) -> str:
    return ", ".join(row.destination for row in rows[:MAX_NAMED])


def _echo(query: str) -> str:
    """What was asked, on one line, shortened and safe to show in Slack text."""
    text = " ".join(query.split())
    return _escape(text if len(text) <= MAX_ECHOED else text[: MAX_ECHOED - 1] + "…")


def _escape(text: str) -> str:
    """Slack's three control characters, so the text cannot mention or link anything."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
