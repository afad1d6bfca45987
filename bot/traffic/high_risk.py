"""Destinations known for premium-rate fraud (IRSF), which lower the bar for a spike alert.

The list is short on purpose and documented in docs/traffic-alerts.md with its sources: the ITU's
non-geographic codes whose numbers are premium-rate or belong to no country (satellite systems,
international networks, the International Premium Rate Service), and the countries public IRSF reporting
has long named as the most targeted. That reporting also shows fraud spreading to every destination, so
the list only lowers the bar: every destination is watched.
"""

from __future__ import annotations

from typing import Final

HIGH_RISK_PREFIXES: Final[dict[str, str]] = {
    "+870": "Inmarsat (satellite)",
    "+881": "Global Mobile Satellite System",
    "+882": "International Networks",
    "+883": "International Networks",
    "+979": "International Premium Rate Service",
    "+53": "Cuba",
    "+252": "Somalia",
    "+370": "Lithuania",
    "+371": "Latvia",
}
"""Dial prefix → what it is."""

PREMIUM_NUMBER_KINDS: Final = frozenset({"premium", "shared_cost", "uan", "personal"})
"""Kinds of number (from the numbering plan) that pay their holder: high risk wherever they are."""


def high_risk_prefix(destination: str) -> str | None:
    """The high-risk prefix `destination` (+ and digits) begins with, if any."""
    return next((prefix for prefix in HIGH_RISK_PREFIXES if destination.startswith(prefix)), None)


def is_high_risk(destination: str, unpriced: str | None) -> bool:
    return high_risk_prefix(destination) is not None or unpriced in PREMIUM_NUMBER_KINDS
