"""Usage maths shared by every view, alerting and email: percentages, levels, bars, quantities, money."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

WARNING_PERCENT = Decimal(80)
BAR_WIDTH = 10
CENT = Decimal("0.01")


def percent_used(used: Decimal | int, available: Decimal | int | None) -> Decimal | None:
    """Used as a percentage of available (exact); None when there is no limit to measure against."""
    if available is None:
        return None
    used, available = Decimal(used), Decimal(available)
    if available == 0:
        return Decimal(100) if used > 0 else Decimal(0)
    return used * 100 / available


def whole_percent(percent: Decimal) -> int:
    return int(percent.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def is_high(percent: Decimal | None) -> bool:
    return percent is not None and percent >= WARNING_PERCENT


def usage_bar(percent: Decimal | None, width: int = BAR_WIDTH) -> str:
    """A text bar such as ▰▰▰▰▰▰▰▱▱▱; it never shows full before the allowance is used up."""
    if percent is None:
        return ""
    filled = int((min(percent, Decimal(100)) * width / 100).to_integral_value(rounding=ROUND_FLOOR))
    return "▰" * filled + "▱" * (width - filled)


def quantity(value: Decimal | int) -> str:
    """1234 → '1,234'; 12.5 → '12.5' (no trailing zeros, no float)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def money(amount: Decimal, currency: str = "USD") -> str:
    """Rounded half-up to the cent, as invoices are (format() alone would round half-even)."""
    return f"{currency} {amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"
