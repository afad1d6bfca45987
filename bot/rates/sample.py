"""Sample and synthetic rate tables.

The sample covers every region that has a dial code (phonenumbers' supported regions that pycountry knows,
plus the non-country regions in `NON_COUNTRY_REGIONS`). Rates are plausible but invented, and derived from a
hash of the region code so every run, machine and test sees the same numbers. Anything showing them must say
so: use `SAMPLE_LABEL`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Final

import phonenumbers

from bot.rates.regions import is_known_region, region_name
from store.domain.rates import RateRow

SAMPLE_LABEL: Final = "SAMPLE RATES – demonstration data, not real prices"
"""Label for the sample table wherever it is stored or shown."""

# Big, competitive markets are cheap to call; remote islands and satellite-served places are dear.
_CHEAP: Final = frozenset(
    {
        "US",
        "CA",
        "GB",
        "IE",
        "DE",
        "FR",
        "NL",
        "BE",
        "LU",
        "AT",
        "CH",
        "ES",
        "PT",
        "IT",
        "DK",
        "SE",
        "NO",
        "FI",
        "HK",
        "SG",
        "AU",
        "NZ",
        "JP",
        "KR",
        "TW",
        "CN",
        "IN",
        "PR",
    }
)
_DEAR: Final = frozenset(
    {
        "AC",
        "TA",
        "SH",
        "FK",
        "NU",
        "TK",
        "NR",
        "TV",
        "KI",
        "WF",
        "PM",
        "CK",
        "SB",
        "TO",
        "VU",
        "PG",
        "CU",
        "ER",
        "SO",
        "TD",
        "CF",
        "MR",
        "GW",
        "ST",
        "KM",
        "MV",
    }
)


def _draw(digest: bytes, slot: int, low: int, high: int) -> int:
    """A deterministic integer in [low, high] from 4 bytes of a sha256 digest (stable across runs)."""
    return low + int.from_bytes(digest[4 * slot : 4 * slot + 4], "big") % (high - low + 1)


def _money(units: int) -> Decimal:
    """Ten-thousandths of a dollar as a Decimal with exactly 4 places (100 → 0.0100)."""
    return Decimal(units).scaleb(-4)


def _rates(seed: str, iso_code: str) -> tuple[Decimal, Decimal, Decimal]:
    """(landline, mobile, SMS) from one hash of `seed`: mobile costs 1.2–3× landline, as on most tables."""
    digest = hashlib.sha256(seed.encode()).digest()
    cheap = iso_code in _CHEAP
    landline = _draw(digest, 0, 40, 250) if cheap else _draw(digest, 0, 90, 900)
    landline *= 4 if iso_code in _DEAR else 1
    mobile = landline * _draw(digest, 1, 12, 30) // 10
    sms = _draw(digest, 2, 50, 900)
    return _money(landline), _money(mobile), _money(sms)


def sample_regions() -> list[str]:
    """Every region code we can dial and name, alphabetical by code."""
    return sorted(code for code in phonenumbers.SUPPORTED_REGIONS if is_known_region(code))


def _sample_row(iso_code: str, seed: str, destination: str, validate: bool = True) -> RateRow:
    """`validate=False` skips pydantic checks for the 50,000 synthetic rows built from already-valid parts."""
    landline, mobile, sms = _rates(seed, iso_code)
    make: Callable[..., RateRow] = RateRow if validate else RateRow.model_construct
    return make(
        dial_code=str(phonenumbers.country_code_for_region(iso_code)),
        iso_code=iso_code,
        destination=destination,
        landline_per_min=landline,
        mobile_per_min=mobile,
        sms_per_message=sms,
    )


@cache
def _sample() -> tuple[RateRow, ...]:
    rows = (_sample_row(code, code, region_name(code)) for code in sample_regions())
    return tuple(sorted(rows, key=lambda row: (row.destination.casefold(), row.iso_code)))


def sample_rows() -> list[RateRow]:
    """The sample table, one row per region, sorted by destination name. Label it with `SAMPLE_LABEL`."""
    return list(_sample())


def synthetic_rows(n: int) -> list[RateRow]:
    """An n-row table for benchmarks: the sample rows, then "<region> zone 000123" rows reusing real codes.

    The extra rows repeat ISO codes, so the result is NOT an importable rate file (import rejects duplicate
    destinations); it exists to measure index build and lookup cost at scale.
    """
    base = _sample()
    rows = list(base[:n])
    for number in range(1, n - len(rows) + 1):
        template = base[number % len(base)]
        rows.append(
            _sample_row(
                template.iso_code,
                f"{template.iso_code}:{number}",
                f"{template.destination} zone {number:06d}",
                validate=False,
            )
        )
    return rows
