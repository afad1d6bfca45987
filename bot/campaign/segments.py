"""How many SMS segments a message takes, as carriers count them.

A message that fits GSM-7 (3GPP TS 23.038's default alphabet and its extension table) holds 160 septets in
one SMS; a longer one is sent as concatenated parts of 153 septets each (the other 7 carry the part's header).
The extension characters `^{}\\[~]|€` and form feed cost two septets (an escape, then the character), and a
part never ends between the two: the character moves whole to the next part. Any other character makes the
whole message UCS-2: 70 UTF-16 code units in one SMS, 67 per part; a character outside the Basic
Multilingual Plane (most emoji) is two code units, a surrogate pair, which is never split across parts
either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED: Final = frozenset("\f^{}\\[~]|€")
"""Characters GSM-7 sends as an escape plus one septet: two septets each."""

SINGLE: Final[dict[Encoding, int]] = {"GSM-7": 160, "UCS-2": 70}
"""Septets (GSM-7) or UTF-16 code units (UCS-2) that fit in one SMS."""
PER_PART: Final[dict[Encoding, int]] = {"GSM-7": 153, "UCS-2": 67}
"""The same in each part of a concatenated message."""
MAX_NAMED: Final = 5
"""How many of the characters that force UCS-2 an answer names."""


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """A message's encoding, its length in characters and in units (septets or code units), and its parts."""

    encoding: Encoding
    characters: int
    units: int
    segments: int
    not_gsm: tuple[str, ...] = ()
    """The first few distinct characters that made the message UCS-2 (empty for GSM-7)."""

    @property
    def per_segment(self) -> int:
        """Units in each segment: the single-SMS capacity, or the per-part one when concatenated."""
        return SINGLE[self.encoding] if self.segments == 1 else PER_PART[self.encoding]


def count_segments(text: str) -> SegmentCount:
    """The SMS segments `text` takes (an empty text still takes one SMS)."""
    not_gsm = [char for char in dict.fromkeys(text) if char not in GSM_BASIC and char not in GSM_EXTENDED]
    if not not_gsm:
        widths = [2 if char in GSM_EXTENDED else 1 for char in text]
        encoding: Encoding = "GSM-7"
    else:
        widths = [2 if ord(char) > 0xFFFF else 1 for char in text]
        encoding = "UCS-2"
    units = sum(widths)
    segments = 1 if units <= SINGLE[encoding] else _parts(widths, PER_PART[encoding])
    return SegmentCount(encoding, len(text), units, segments, tuple(not_gsm[:MAX_NAMED]))


def _parts(widths: Iterable[int], capacity: int) -> int:
    """Parts of `capacity` units, filled in order; a two-unit character that would straddle a boundary
    starts the next part instead (which is why this can be more than units / capacity rounded up)."""
    parts, used = 1, 0
    for width in widths:
        if used + width > capacity:
            parts, used = parts + 1, 0
        used += width
    return parts
