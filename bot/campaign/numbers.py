"""A recipient's phone number, read as `/rates` reads one, but fast enough for 100,000 of them.

`/rates` (`bot.rates.matcher`) parses with `phonenumbers.parse`, about 15 µs a number. Most campaign lists
are E.164 or close to it (`+44 7400 123456`, `447400123456`): for those the country code is found in the
digits and the number built directly (about 2 µs), and `phonenumbers.number_type` both validates it and
tells the line type. Only what that reading does not settle goes through `phonenumbers.parse`: a national
prefix after the country code (`+44 (0)20…`), a leading zero (Italy), national numbers.
"""

from __future__ import annotations

from typing import Final

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumber, PhoneNumberType

from bot.rates.phones import _MAX_NUMBER_DIGITS, _phone_shape, _try_parse

TypedNumber = tuple[PhoneNumber, int]
"""A valid number and its `PhoneNumberType`."""

_UNKNOWN: Final = PhoneNumberType.UNKNOWN
_MIN_NATIONAL_DIGITS: Final = 2  # phonenumbers.parse's own minimum


def read_number(text: str, default_region: str | None) -> TypedNumber | None:
    """The valid number `text` is, and its type, or None. As `/rates`: international when marked with + or
    00, or when valid that way; otherwise a national number of `default_region` (the account's country)."""
    shape = _phone_shape(text)
    if shape is None:
        return None
    international, digits = shape
    if len(digits) > _MAX_NUMBER_DIGITS:
        return None
    if international:
        return _typed(_direct(digits)) or _typed(_try_parse("+" + digits, None))
    if not digits.startswith("0") and (found := _typed(_direct(digits))) is not None:
        return found
    national = _typed(_try_parse(digits, default_region.upper())) if default_region else None
    # /rates tries "+digits" through phonenumbers.parse before the national reading; that differs from the
    # direct reading only for a national prefix typed after a country code without its "+" ("44 020 …"),
    # so it comes last here, where it costs nothing to the numbers that are settled already.
    if national is None and not digits.startswith("0"):
        return _typed(_try_parse("+" + digits, None))
    return national


def number_key(number: PhoneNumber) -> tuple[int | None, int | None, bool | None, int | None]:
    """One key per distinct number, whatever its written form (to count duplicates)."""
    return (
        number.country_code,
        number.national_number,
        number.italian_leading_zero,
        number.number_of_leading_zeros,
    )


def _direct(digits: str) -> PhoneNumber | None:
    """The number in international digits, without phonenumbers.parse; None where parse has more to do (a
    national significant number with a leading zero, or no country code at the start)."""
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            national = digits[length:]
            if len(national) < _MIN_NATIONAL_DIGITS or national.startswith("0"):
                return None
            return PhoneNumber(country_code=code, national_number=int(national))
    return None


def _typed(number: PhoneNumber | None) -> TypedNumber | None:
    """The number with its type, when it is valid (a valid number is one of a known type)."""
    if number is None:
        return None
    kind = phonenumbers.number_type(number)
    return None if kind == _UNKNOWN else (number, kind)
