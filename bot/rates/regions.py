"""Region knowledge and text normalization: display names, aliases and the few non-country regions we
accept, and the folding that lets a typed name meet a table name.

Matching (`bot.rates.matcher`) is the main consumer; `csvio` and `sample` use the region checks too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pycountry.db import Country

# ----------------------------------------------------------------------------------------------------
# Region knowledge
# ----------------------------------------------------------------------------------------------------

NON_COUNTRY_REGIONS: Final[Mapping[str, str]] = {
    # Not ISO 3166-1 countries, but real destinations with their own dial codes in phonenumbers' data.
    "XK": "Kosovo",  # user-assigned code used by the EU and phonenumbers; dial code +383
    "AC": "Ascension Island",  # ISO "exceptionally reserved"; dial code +247
    "TA": "Tristan da Cunha",  # ISO "exceptionally reserved"; shares +290 with Saint Helena
}
"""Region codes accepted in rate tables although pycountry does not list them as countries."""


@cache
def countries() -> Mapping[str, Country]:
    """pycountry's countries by alpha-2 code, loaded on first use: reading pycountry's database costs the
    process 0.3 MB, and nothing needs it before the first rate lookup or import."""
    import pycountry

    return {country.alpha_2: country for country in pycountry.countries}


_FRIENDLY_NAMES: Final[Mapping[str, str]] = {
    "GB": "United Kingdom",
    "US": "United States",
    "RU": "Russia",
    "FM": "Micronesia",
    "PS": "Palestine",
    "VA": "Vatican City",
    "CD": "Congo (DRC)",
    "CG": "Congo (Republic)",
    "BN": "Brunei",
    "FK": "Falkland Islands",
    "SH": "Saint Helena",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
    "MK": "North Macedonia",
    "TW": "Taiwan",
    "SX": "Sint Maarten",
    "MF": "Saint Martin",
    "BQ": "Caribbean Netherlands",
}

_HAND_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "GB": ("UK", "Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland"),
    "US": ("USA", "U.S.", "America", "United States of America"),
    "HK": ("Hong Kong SAR", "HKSAR", "Hong Kong China"),
    "MO": ("Macau", "Macao SAR", "Macau SAR"),
    "CN": ("PRC", "Mainland China", "People's Republic of China"),
    "TW": ("Taiwan", "Republic of China", "Chinese Taipei"),
    "VN": ("Vietnam", "Viet Nam"),
    "KR": ("South Korea", "Korea", "Republic of Korea", "S Korea"),
    "KP": ("North Korea", "DPRK", "N Korea"),
    "RU": ("Russia",),
    "CZ": ("Czech Republic", "Czechia"),
    "CI": ("Ivory Coast", "Cote d'Ivoire"),
    "LA": ("Laos", "Lao PDR"),
    "IR": ("Iran", "Persia"),
    "SY": ("Syria",),
    "BO": ("Bolivia",),
    "TZ": ("Tanzania",),
    "MD": ("Moldova",),
    "FM": ("Micronesia",),
    "PS": ("Palestine", "Palestinian Territories", "West Bank", "Gaza"),
    "VA": ("Vatican", "Vatican City", "Holy See"),
    "MM": ("Burma", "Myanmar"),
    "AE": ("UAE", "Emirates"),
    "SA": ("KSA", "Saudi"),
    "CD": ("DRC", "DR Congo", "Congo Kinshasa", "Democratic Republic of the Congo"),
    "CG": ("Congo Brazzaville", "Republic of the Congo"),
    "NL": ("Holland", "The Netherlands"),
    "MK": ("Macedonia",),
    "SZ": ("Swaziland", "Eswatini"),
    "CV": ("Cape Verde", "Cabo Verde"),
    "TL": ("East Timor", "Timor Leste"),
    "TR": ("Turkey", "Turkiye"),
    "VE": ("Venezuela",),
    "BN": ("Brunei",),
    "VG": ("BVI", "British Virgin Islands"),
    "VI": ("USVI", "US Virgin Islands"),
    "KN": ("St Kitts", "St Kitts and Nevis"),
    "LC": ("St Lucia",),
    "VC": ("St Vincent", "St Vincent and the Grenadines"),
    "BA": ("Bosnia", "Bosnia Herzegovina"),
    "FK": ("Falklands", "Falkland Islands"),
    "SH": ("Saint Helena", "St Helena"),
    "BL": ("St Barts", "St Barths"),
    "MF": ("Saint Martin", "St Martin"),
    "SX": ("Sint Maarten", "St Maarten"),
    "BQ": ("Caribbean Netherlands", "Bonaire"),
    "DE": ("Deutschland",),
    "ES": ("Espana",),
    "BR": ("Brasil",),
    "CH": ("Swiss", "Schweiz", "Suisse"),
    "IE": ("Eire", "Republic of Ireland"),
    "XK": ("Kosovo",),
    "AC": ("Ascension", "Ascension Island"),
    "TA": ("Tristan da Cunha", "Tristan"),
}
"""Common forms people type that pycountry's names, official names and common names do not cover."""


def is_known_region(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code pycountry knows, or one of `NON_COUNTRY_REGIONS`."""
    return code in countries() or code in NON_COUNTRY_REGIONS


def region_name(code: str) -> str:
    """A short, familiar English name for a region code (falls back to the code itself)."""
    if code in _FRIENDLY_NAMES:
        return _FRIENDLY_NAMES[code]
    if code in NON_COUNTRY_REGIONS:
        return NON_COUNTRY_REGIONS[code]
    country = countries().get(code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def _region_aliases(code: str, official: bool = True) -> list[str]:
    """Every name we know a region by: our short name, the hand list, pycountry's names.

    Official names ("United Mexican States") help exact and fuzzy matching but would clutter a type-ahead
    picker ("united" → Mexico), so `official=False` leaves them out.
    """
    names = [region_name(code), *_HAND_ALIASES.get(code, ())]
    country = countries().get(code)
    if country is not None:
        attributes = ("name", "common_name", "official_name") if official else ("name", "common_name")
        names += [str(getattr(country, attribute, "") or "") for attribute in attributes]
    return [name for name in names if name]


# ----------------------------------------------------------------------------------------------------
# Normalization
# ----------------------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[\W_]+")
_TOKEN_MAP: Final[Mapping[str, str]] = {"st": "saint", "ste": "sainte", "mt": "mount"}
MAX_QUERY_LENGTH: Final = 200
"""Longer input is cut here before any work, so a pasted essay costs no more than a name."""
_MAX_NAME_LENGTH: Final = 60  # no destination name is longer; fuzzy cost grows with length


def normalize(text: str) -> str:
    """Fold case and accents, drop punctuation, expand "St" → "saint", drop a leading "the".

    Applied to both the prebuilt names and the query, so "Côte d'Ivoire", "cote divoire" and
    "St. Lucia"/"Saint Lucia" meet on the same form.
    """
    stripped = text.replace("&", " and ")
    if not stripped.isascii():
        decomposed = unicodedata.normalize("NFKD", stripped)
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = [_TOKEN_MAP.get(word, word) for word in _NON_WORD.sub(" ", stripped.casefold()).split()]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def _compact(norm: str) -> str:
    """Spaces removed, so "hongkong" meets "hong kong"."""
    return norm.replace(" ", "")
