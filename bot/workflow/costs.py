"""A call's or SMS's cost from a step's inputs: what is sent (a call of so many minutes, so many SMS), and
the one priced line of `bot.rates.estimate` that answers it.

Calls are billed per started minute, exactly as `/rates UK 12 min` prices them: a length in minutes with a
fraction (1.5) is that many seconds, and every started minute counts. A call to a destination (or to a
number whose numbering plan cannot tell mobiles from landlines) could be either: unless the step says which
line, the dearer rate is used, so the estimate is never too low; the step says which rate it used.
"""

from __future__ import annotations

import math
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal

from bot.core.errors import InvalidInput
from bot.rates.estimate import CallDuration, CostLine, Quantity, SmsCount, estimate
from bot.rates.lookup import OneRate

MAX_UNITS: Final = 9_999_999
"""The most minutes or messages priced at once (what `/rates` reads: seven digits)."""
Line = Literal["landline", "mobile"]


class Sent(StrEnum):
    """What is being priced."""

    CALL = "call"
    SMS = "sms"


def sent_of(value: str) -> Sent:
    try:
        return Sent(value.strip().lower())
    except ValueError:
        raise InvalidInput("Choose what to price: `call` or `sms`.") from None


def line_of(value: str) -> Line | None:
    """The line a call goes to, when the step says ("" or "any": not said)."""
    text = value.strip().lower()
    if text in ("", "any", "either"):
        return None
    if text == "landline":
        return "landline"
    if text == "mobile":
        return "mobile"
    raise InvalidInput("Choose the line called: `landline` or `mobile` (or leave it empty).")


def quantity_of(sent: Sent, amount: Decimal) -> Quantity:
    """The call's length (`amount` minutes) or the number of SMS; `InvalidInput` when out of bounds."""
    if sent == Sent.SMS:
        if not amount.is_finite() or amount != amount.to_integral_value() or not 1 <= amount <= MAX_UNITS:
            raise InvalidInput(f"Enter how many SMS messages: a whole number from 1 to {MAX_UNITS:,}.")
        return SmsCount(int(amount))
    if not amount.is_finite() or not 0 < amount <= MAX_UNITS:
        raise InvalidInput(
            f"Enter the call's length in minutes: a number greater than 0 and at most {MAX_UNITS:,}."
        )
    return CallDuration(math.ceil(amount * 60))


def priced(found: OneRate, quantity: Quantity, line: Line | None = None) -> CostLine:
    """The cost of `quantity` to `found`'s destination: at the line given, else the number's own line,
    else the dearer of landline and mobile (an SMS has one rate)."""
    lines = estimate(found.row, quantity, line or found.line_type).lines
    return max(lines, key=lambda cost: cost.cost)
