"""Phone-number knowledge for rate lookup: which number types are priced, the explanations for those that
are not, and the helpers that recognise, parse and place a typed number."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType

from bot.rates.results import LineType, UnpricedKind

_PRICED_TYPES: Final[Mapping[int, LineType]] = {
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "either",
}
_UNPRICED_TYPES: Final[Mapping[int, UnpricedKind]] = {
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
}
_EXPLANATIONS: Final[Mapping[UnpricedKind, str]] = {
    "toll_free": "{number} is a toll-free number in {place}. Toll-free calls are not charged at the table's "
    "landline or mobile rate, and many cannot be reached from abroad.",
    "premium": "{number} is a premium-rate number in {place}. Its price is set by the service behind it, "
    "not by this rate table.",
    "shared_cost": "{number} is a shared-cost number in {place}: the cost is split with the receiver at a "
    "special tariff that this rate table does not cover.",
    "uan": "{number} is a universal access number (one national number for a business) in {place}, "
    "charged at a special tariff that this rate table does not cover.",
    "voicemail": "{number} is a voicemail access number in {place}; it is not priced by this rate table.",
    "voip": "{number} is a VoIP number in {place}; its price depends on the provider, not this rate table.",
    "personal": "{number} is a personal (follow-me) number in {place}; it forwards to another phone, so the "
    "cost depends on where it forwards.",
    "pager": "{number} is a pager number in {place}; pagers are not priced by this rate table.",
    "non_geographic": "{number} is an international non-geographic number (global freephone, satellite or "
    "shared-network range); it belongs to no country in the rate table.",
    "unknown": "{number} does not match any number type in {place}'s numbering plan. Check the digits.",
    "no_rate": "{number} is in {place}, but this rate table has no rate for {place}.",
}
_HINT_COUNTRY_CODE: Final = (
    "That looks like a phone number without its country code. Add it with + or 00, e.g. +44 20 7946 0018."
)
_MAX_DIAL_DIGITS: Final = 4
_MAX_NUMBER_DIGITS: Final = 17  # E.164 allows 15; a little slack for typos, then it is not a number
_PHONE_SHAPE = re.compile(r"^(\+|00)?([0-9]+)$")
_FORMATTING = re.compile(r"[\s\-().\/\u00a0\u2010-\u2015]+")
_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*[0-9]{1,6}$", re.IGNORECASE)
_PARTIAL = (phonenumbers.ValidationResult.TOO_SHORT, phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY)


def _phone_shape(text: str) -> tuple[bool, str] | None:
    """(has an international prefix, digits) if `text` is only a number with formatting, else None."""
    candidate = text.removeprefix("tel:").strip()
    candidate = _FORMATTING.sub("", _EXTENSION.sub("", candidate))
    found = _PHONE_SHAPE.match(candidate)
    if found is None:
        return None
    return found.group(1) is not None, found.group(2)


def _try_parse(text: str, region: str | None) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        return None


def _country_code(number: PhoneNumber) -> int:
    """Always set on a parsed number; the stub types it optional."""
    return number.country_code or 0


def _leading_digit_regions(country_code: int, rest: str) -> list[str]:
    """Regions sharing `country_code` whose metadata claims numbers starting with `rest` (+1 876 → JM)."""
    matching = []
    for region in phonenumbers.region_codes_for_country_code(country_code):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        pattern = metadata.leading_digits if metadata is not None else None
        if rest and pattern and re.match(f"(?:{pattern})", rest):
            matching.append(region)
    return matching
