"""Rate lookup: turn whatever a user typed into the right rate-table row, without scanning the table.

`RateIndex.build` runs once per table version and precomputes dicts keyed by ISO code, dial code and
normalized name/alias, a sorted prefix list for type-ahead, and the choice list for rapidfuzz. `lookup` then
costs a few dict hits (codes), one phonenumbers parse (numbers), or one `process.extract` (typos only).
numpy and rapidfuzz are imported when the first index is built (off the event loop, by `bot.rates.cache`),
not when the server starts: a process that never looks a rate up never loads them.

The index lives here; region knowledge and normalization are in `bot.rates.regions`, phone-number knowledge
in `bot.rates.phones`, and the result types in `bot.rates.results`.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Final

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from bot.rates.phones import (
    _EXPLANATIONS,
    _HINT_COUNTRY_CODE,
    _MAX_DIAL_DIGITS,
    _MAX_NUMBER_DIGITS,
    _PARTIAL,
    _PRICED_TYPES,
    _UNPRICED_TYPES,
    _country_code,
    _leading_digit_regions,
    _phone_shape,
    _try_parse,
)
from bot.rates.regions import (
    _HAND_ALIASES,
    _MAX_NAME_LENGTH,
    MAX_QUERY_LENGTH,
    _compact,
    _region_aliases,
    countries,
    normalize,
    region_name,
)
from bot.rates.results import (
    Ambiguous,
    DestinationMatch,
    LookupResult,
    NoMatch,
    PhoneMatch,
    RatePage,
    UnpricedKind,
    UnpricedNumber,
)
from store.domain.rates import RateRow

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class _FuzzyTier:
    """Choices for one rapidfuzz pass: normalized keys, the row ranks each names, own-name-or-alias, and
    (tier 1 only) which keys contain each word."""

    keys: list[str]
    ranks: list[tuple[int, ...]]
    primary: list[bool]
    words: dict[str, list[int]]

    def choices(self, norm: str, by_word: bool) -> Sequence[str] | Mapping[int, str]:
        """What to score `norm` against. `by_word`: only keys sharing the query's rarest known word (none
        when it shares no word), so a query like nothing in a 50,000-row table costs no fuzzy pass."""
        if not by_word:
            return self.keys
        postings = [self.words[word] for word in norm.split() if word in self.words]
        if not postings:
            return {}
        rarest = min(postings, key=len)
        if 2 * len(rarest) > len(self.keys):
            return self.keys
        return {position: self.keys[position] for position in rarest}


_AFTER_EVERY_CHARACTER: Final = chr(0x10FFFF)  # key + this sorts after every key that starts with key
_FUZZY_POOL: Final = 40
_FUZZY_FLOOR: Final = 62.0  # below this a "closest name" is noise, not help
_ACCEPT: Final = 85.0  # a single candidate this good is a typo of it
_MARGIN: Final = 8.0  # …provided the runner-up is this far behind
_SUGGEST: Final = 75.0  # candidates this good are worth offering
_MAX_SUGGESTIONS: Final = 5
_MAX_CLOSEST: Final = 3


def _alpha_key(row: RateRow) -> tuple[str, str]:
    return (normalize(row.destination), row.iso_code)


class RateIndex:
    """An immutable lookup structure over one rate-table version. Build once, share between requests.

    Duplicate ISO codes are tolerated (synthetic benchmark tables have them): the first row of a code wins
    for ISO and alias lookups, every row stays findable by its own destination name.
    """

    __slots__ = (
        "_alpha3",
        "_by_dial",
        "_by_iso",
        "_compact",
        "_dial_matches",
        "_exact",
        "_iso_rank",
        "_prefix_keys",
        "_prefix_offsets",
        "_prefix_ranks",
        "_sorted",
        "_tiers",
    )

    def __init__(self, rows: Sequence[RateRow]) -> None:
        """Prefer `RateIndex.build`; the constructor does the same work."""
        import numpy as np
        import rapidfuzz.process  # noqa: F401  (for the first typo, imported here rather than on the loop)

        norms = [normalize(row.destination) for row in rows]
        order = sorted(range(len(rows)), key=lambda i: (norms[i], rows[i].iso_code))
        ranks = [0] * len(rows)
        for rank, position in enumerate(order):
            ranks[position] = rank
        self._sorted: tuple[RateRow, ...] = tuple(rows[position] for position in order)
        self._by_iso: dict[str, RateRow] = {}
        self._iso_rank: dict[str, int] = {}
        self._by_dial: dict[str, tuple[RateRow, ...]] = {}
        self._alpha3: dict[str, RateRow] = {}
        self._index_codes(rows, ranks)
        self._dial_matches: dict[str, DestinationMatch] = {
            code: self._shared_dial_match(code, group) for code, group in self._by_dial.items()
        }
        self._exact: dict[str, tuple[int, ...]] = {}
        self._compact: dict[str, tuple[int, ...]] = {}
        self._index_names(norms, ranks)
        self._tiers: tuple[_FuzzyTier, _FuzzyTier] = self._fuzzy_tiers(set(norms))
        self._prefix_keys: list[str] = []
        self._prefix_offsets: npt.NDArray[np.int64] = np.zeros(1, dtype=np.int64)
        self._prefix_ranks: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._index_prefixes(norms, ranks)

    @classmethod
    def build(cls, rows: Iterable[RateRow]) -> RateIndex:
        """Index one table version. Linear in rows: do it once per version, never per request."""
        return cls(tuple(rows))

    # -- building ------------------------------------------------------------------------------------------

    def _index_codes(self, rows: Sequence[RateRow], ranks: Sequence[int]) -> None:
        """ISO and alpha-3 → first row of that code in table order; dial code → every row using it."""
        dial: dict[str, list[RateRow]] = {}
        for row, rank in zip(rows, ranks, strict=True):
            if row.iso_code not in self._by_iso:
                self._by_iso[row.iso_code] = row
                self._iso_rank[row.iso_code] = rank
            dial.setdefault(row.dial_code, []).append(row)
        self._by_dial = {code: tuple(group) for code, group in dial.items()}
        known = countries()
        for code, row in self._by_iso.items():
            country = known.get(code)
            if country is not None:
                self._alpha3[country.alpha_3.lower()] = row

    def _index_names(self, norms: Sequence[str], ranks: Sequence[int]) -> None:
        """Destination names first, then aliases only where no destination already owns that name."""
        exact: dict[str, list[int]] = {}
        for norm, rank in zip(norms, ranks, strict=True):
            self._add_name(exact, norm, rank)
        owned = set(exact)
        for code, rank in self._iso_rank.items():
            for alias in _region_aliases(code):
                key = normalize(alias)
                if key not in owned:
                    self._add_name(exact, key, rank)
        self._exact = {key: tuple(group) for key, group in exact.items()}
        compact: dict[str, list[int]] = {}
        for key, group in self._exact.items():
            for rank in group:
                self._add_name(compact, _compact(key), rank)
        self._compact = {key: tuple(group) for key, group in compact.items()}

    @staticmethod
    def _add_name(target: dict[str, list[int]], key: str, rank: int) -> None:
        if not key:
            return
        ranks = target.setdefault(key, [])
        if rank not in ranks:
            ranks.append(rank)

    def _fuzzy_tiers(self, own_names: set[str]) -> tuple[_FuzzyTier, _FuzzyTier]:
        """Tier 0: region names and aliases (one row per ISO code; all a real table has). Tier 1: names of
        further rows sharing an ISO code (synthetic/sub-destination tables), searched only if tier 0 fails,
        so a typo costs ~1 ms even on a 50,000-row table."""
        heads = set(self._iso_rank.values())
        tiers = (_FuzzyTier([], [], [], {}), _FuzzyTier([], [], [], {}))
        for key, group in self._exact.items():
            tier = tiers[0] if any(rank in heads for rank in group) else tiers[1]
            tier.keys.append(key)
            tier.ranks.append(group)
            tier.primary.append(key in own_names)
        for position, key in enumerate(tiers[1].keys):
            for word in set(key.split()):
                tiers[1].words.setdefault(word, []).append(position)
        return tiers

    def _index_prefixes(self, norms: Sequence[str], ranks: Sequence[int]) -> None:
        """Sorted keys (and the ranks each names) for `complete`: every word start of destination names and
        hand aliases, pycountry names from their start, compact forms, ISO, alpha-3 and dial codes."""
        import numpy as np

        keyed: dict[str, set[int]] = {}

        def add(key: str, rank: int, word_starts: bool = False) -> None:
            if not key:
                return
            words = key.split()
            for start in range(len(words)) if word_starts else range(1):
                keyed.setdefault(" ".join(words[start:]), set()).add(rank)
            keyed.setdefault(_compact(key), set()).add(rank)

        for norm, rank in zip(norms, ranks, strict=True):
            add(norm, rank, word_starts=True)
        for code, rank in self._iso_rank.items():
            for alias in _HAND_ALIASES.get(code, ()):
                add(normalize(alias), rank, word_starts=True)
            for alias in _region_aliases(code, official=False):
                add(normalize(alias), rank)
        for rank, row in enumerate(self._sorted):
            add(row.iso_code.lower(), rank)
            add(row.dial_code, rank)
        for alpha3, row in self._alpha3.items():
            add(alpha3, self._iso_rank[row.iso_code])
        # The ranks of key i are _prefix_ranks[_prefix_offsets[i]:_prefix_offsets[i + 1]]: the keys that
        # start with a prefix are one run of the sorted keys, and so their ranks are one slice.
        self._prefix_keys = sorted(keyed)
        counts = [len(keyed[key]) for key in self._prefix_keys]
        self._prefix_offsets = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))
        self._prefix_ranks = np.fromiter(
            chain.from_iterable(keyed[key] for key in self._prefix_keys), dtype=np.int32, count=sum(counts)
        )

    # -- public reads --------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._sorted)

    @property
    def rows(self) -> tuple[RateRow, ...]:
        """All rows in alphabetical order of destination."""
        return self._sorted

    def get(self, iso_code: str) -> RateRow | None:
        """The row for an ISO code (e.g. the value of a picked option), or None."""
        return self._by_iso.get(iso_code.upper())

    def page(self, number: int, size: int = 20) -> RatePage:
        """Alphabetical page `number` (1-based), clamped into range so stale buttons still work."""
        size = max(1, size)
        total = len(self._sorted)
        last = max(1, -(-total // size))
        number = min(max(1, number), last)
        start = (number - 1) * size
        return RatePage(self._sorted[start : start + size], number, size, total)

    def page_of(self, iso_code: str, size: int = 20) -> int:
        """The 1-based alphabetical page on which the row of `iso_code` appears (1 if it is not in the table)."""
        rank = self._iso_rank.get(iso_code.upper())
        return 1 if rank is None else rank // max(1, size) + 1

    def complete(self, prefix: str, limit: int = 100) -> list[RateRow]:
        """Type-ahead: rows whose name, alias (any word), ISO code or dial code starts with `prefix`.

        Alphabetical, at most `limit` (Slack allows 100 options). Falls back to fuzzy matches on a typo so the
        picker is never empty for "germn".
        """
        key = normalize(prefix[:_MAX_NAME_LENGTH])
        if not key:  # nothing typed: the start of the table; only symbols or emoji typed: nothing fits
            return [] if prefix.strip() else list(self._sorted[:limit])
        start = bisect_left(self._prefix_keys, key)
        end = bisect_left(self._prefix_keys, key + _AFTER_EVERY_CHARACTER, lo=start)
        if end > start:
            # Mark every row a matching key names; the first `limit` marked are the alphabetical first. One
            # pass however many keys match ("z" in a 50,000-row table: thousands).
            import numpy as np  # loaded by the constructor: a dict hit

            named = np.zeros(len(self._sorted), dtype=bool)
            named[self._prefix_ranks[self._prefix_offsets[start] : self._prefix_offsets[end]]] = True
            return [self._sorted[rank] for rank in np.flatnonzero(named)[:limit].tolist()]
        ranked = next((found for found in self._fuzzy_rankings(key) if found), [])
        return [self._sorted[rank] for rank, _ in ranked[: min(limit, 10)]]

    def lookup(self, query: str, default_region: str | None = None) -> LookupResult:
        """Resolve a name, ISO code, dial code or phone number. Never raises; garbage gives `NoMatch`.

        `default_region` (e.g. the account's country) lets national-format numbers ("020 7946 0018") resolve;
        without it they get a hint to add the country code.
        """
        text = unicodedata.normalize("NFKC", query[:MAX_QUERY_LENGTH]).strip()
        if not text:
            return NoMatch(query=text)
        shape = _phone_shape(text)
        if shape is None:
            return self._lookup_name(text)
        international, digits = shape
        if len(digits) <= _MAX_DIAL_DIGITS and (international or not digits.startswith("0")):
            return self._lookup_dial_code(text, digits)
        if len(digits) > _MAX_NUMBER_DIGITS:
            return NoMatch(query=text, hint="That is too long to be a phone number.")
        return self._lookup_number(text, international, digits, default_region)

    # -- names ---------------------------------------------------------------------------------------------

    def _lookup_name(self, text: str) -> LookupResult:
        norm = normalize(text[:_MAX_NAME_LENGTH])
        if not norm:
            return NoMatch(query=text)
        letters = _compact(norm)
        if len(letters) == 2 and (row := self._by_iso.get(letters.upper())) is not None:
            return DestinationMatch(row, "iso")
        if len(letters) == 3 and (row := self._alpha3.get(letters)) is not None:
            return DestinationMatch(row, "iso")
        ranks = self._exact.get(norm) or self._compact.get(letters)
        if ranks:
            if len(ranks) == 1:
                return DestinationMatch(self._sorted[ranks[0]], "name")
            return Ambiguous(text, tuple(self._sorted[rank] for rank in ranks[:_MAX_SUGGESTIONS]))
        return self._lookup_fuzzy(text, norm)

    def _fuzzy_rankings(self, norm: str) -> Iterator[list[tuple[int, float]]]:
        """(rank, best score) per row, best first: for region names (tier 0), then, when the caller asks for
        more, for every row (tier 1 too; tier 0's pass is not repeated). On equal scores a destination's own
        name beats an alias (so "united" lists United States before "United Mexican States"), then
        alphabetical order wins."""
        if len(norm) < 3:
            yield []
            yield []
            return
        from rapidfuzz import fuzz, process  # loaded by the constructor

        best: dict[int, tuple[float, bool]] = {}
        for number, tier in enumerate(self._tiers):
            choices = tier.choices(norm, by_word=number == 1)
            if choices:
                hits = process.extract(
                    norm, choices, scorer=fuzz.WRatio, limit=_FUZZY_POOL, score_cutoff=_FUZZY_FLOOR
                )
                for _, score, position in hits:
                    candidate = (score, tier.primary[position])
                    for rank in tier.ranks[position]:
                        best[rank] = max(candidate, best.get(rank, candidate))
            ordered = sorted(best.items(), key=lambda item: (-item[1][0], not item[1][1], item[0]))
            yield [(rank, score) for rank, (score, _) in ordered]

    def _lookup_fuzzy(self, text: str, norm: str) -> LookupResult:
        """Region names first; further rows (tier 1) only when no region name fits."""
        rankings = self._fuzzy_rankings(norm)
        result = self._decide(text, next(rankings))
        if isinstance(result, NoMatch) and self._tiers[1].keys:
            result = self._decide(text, next(rankings))
        return result

    def _decide(self, text: str, ranked: list[tuple[int, float]]) -> LookupResult:
        """Accept a clear winner, offer a handful of close ones, or say nothing fits (with the nearest)."""
        if not ranked:
            return NoMatch(query=text)
        top = ranked[0][1]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= _ACCEPT and runner_up < top - _MARGIN:
            return DestinationMatch(self._sorted[ranked[0][0]], "fuzzy")
        close = [rank for rank, score in ranked if score >= max(_SUGGEST, top - _MARGIN)]
        if close:  # a lone weak candidate is offered ("did you mean…?"), never priced as if asked for
            return Ambiguous(text, tuple(self._sorted[rank] for rank in close[:_MAX_SUGGESTIONS]))
        return NoMatch(query=text, closest=tuple(self._sorted[rank] for rank, _ in ranked[:_MAX_CLOSEST]))

    # -- dial codes ----------------------------------------------------------------------------------------

    def _lookup_dial_code(self, text: str, digits: str) -> LookupResult:
        match = self._dial_matches.get(digits)
        if match is not None:
            return match
        resolved = self._resolve_prefix(digits)
        return resolved or NoMatch(
            query=text, hint=f"No destination in the rate table has dial code +{digits}."
        )

    def _shared_dial_match(self, dial_code: str, rows: tuple[RateRow, ...]) -> DestinationMatch:
        """The code's main region (phonenumbers' choice: US for +1, RU for +7, GB for +44) plus the others."""
        main_region = phonenumbers.region_code_for_country_code(int(dial_code))
        main = next((row for row in rows if row.iso_code == main_region), rows[0])
        others: dict[str, RateRow] = {}
        for row in rows:
            if row.iso_code != main.iso_code:
                others.setdefault(row.iso_code, row)
        return DestinationMatch(main, "dial_code", tuple(sorted(others.values(), key=_alpha_key)))

    def _resolve_prefix(self, digits: str) -> LookupResult | None:
        """A dial code plus a few digits ("1876", "447624"): find the region those leading digits belong to.

        A table key that is not itself a country code (e.g. "1876") is a specific prefix and wins; otherwise
        phonenumbers' leading-digit metadata picks the region, else the country code's shared match.
        """
        for length in range(min(len(digits), _MAX_DIAL_DIGITS), 0, -1):
            match = self._dial_matches.get(digits[:length])
            if match is not None and not phonenumbers.region_codes_for_country_code(int(digits[:length])):
                return match
        for length in (1, 2, 3):
            country_code = int(digits[:length])
            regions = phonenumbers.region_codes_for_country_code(country_code)
            if not regions:
                continue
            matching = _leading_digit_regions(country_code, digits[length:])
            if len(matching) == 1 and (row := self._by_iso.get(matching[0])) is not None:
                return DestinationMatch(row, "dial_code")
            return self._dial_matches.get(digits[:length])
        return None

    # -- phone numbers -------------------------------------------------------------------------------------

    @staticmethod
    def _parse(international: bool, digits: str, default_region: str | None) -> PhoneNumber | None:
        """International if marked (+/00) or if valid that way; otherwise national in `default_region`."""
        if international:
            return _try_parse("+" + digits, None)
        if not digits.startswith("0"):
            number = _try_parse("+" + digits, None)
            if number is not None and phonenumbers.is_valid_number(number):
                return number
        return _try_parse(digits, default_region.upper()) if default_region else None

    def _lookup_number(
        self, text: str, international: bool, digits: str, default_region: str | None
    ) -> LookupResult:
        number = self._parse(international, digits, default_region)
        if number is None:
            return NoMatch(query=text, hint=_HINT_COUNTRY_CODE)
        if not phonenumbers.is_valid_number(number) and international:
            reason = phonenumbers.is_possible_number_with_reason(number)
            if reason in _PARTIAL:
                partial = f"{number.country_code}{phonenumbers.national_significant_number(number)}"
                return self._resolve_prefix(partial) or NoMatch(query=text, hint=_HINT_COUNTRY_CODE)
        return self._classify(number)

    def _row_for_number(self, region: str | None, number: PhoneNumber) -> RateRow | None:
        """The region's own row; else a table row keyed by a longer dial prefix (tables that use "1876")."""
        if region and (row := self._by_iso.get(region)) is not None:
            return row
        country_code = str(number.country_code)
        digits = country_code + phonenumbers.national_significant_number(number)
        for length in range(_MAX_DIAL_DIGITS, len(country_code), -1):
            rows = self._by_dial.get(digits[:length])
            if rows:
                return rows[0]
        single_region = len(phonenumbers.region_codes_for_country_code(_country_code(number))) == 1
        rows = self._by_dial.get(country_code)
        return rows[0] if rows and single_region else None

    def _classify(self, number: PhoneNumber) -> LookupResult:
        """Price landlines and mobiles; explain every other kind of number instead of mispricing it."""
        region = phonenumbers.region_code_for_number(number)
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        formatted = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        valid = phonenumbers.is_valid_number(number)
        number_type = phonenumbers.number_type(number) if valid else PhoneNumberType.UNKNOWN
        if region == "001":
            explanation = _EXPLANATIONS["non_geographic"].format(number=formatted, place="")
            return UnpricedNumber(formatted, e164, None, "non_geographic", explanation)
        row = self._row_for_number(region, number)
        line_type = _PRICED_TYPES.get(number_type)
        if line_type is not None and row is not None:
            return PhoneMatch(row, e164, formatted, line_type)
        kind: UnpricedKind = (
            "no_rate" if line_type is not None else _UNPRICED_TYPES.get(number_type, "unknown")
        )
        if row is None and region is None:
            row = self._main_row(_country_code(number))
        explanation = _EXPLANATIONS[kind].format(number=formatted, place=self._place(row, region, number))
        return UnpricedNumber(formatted, e164, row, kind, explanation)

    def _main_row(self, country_code: int) -> RateRow | None:
        """Context for a number whose region phonenumbers cannot tell: the code's main destination."""
        match = self._dial_matches.get(str(country_code))
        return match.row if match is not None else None

    @staticmethod
    def _place(row: RateRow | None, region: str | None, number: PhoneNumber) -> str:
        """The name to put in an explanation: the region's own name, else the row's, else the code."""
        if region and region != "ZZ" and (row is None or row.iso_code != region):
            return region_name(region)
        if row is not None:
            return row.destination
        return f"the +{number.country_code} area"
