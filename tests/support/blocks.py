"""Reading what the app drew: the interactive elements of a message's or a view's blocks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def buttons(drawn: Mapping[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every element of the actions blocks of a message or view (or of a list of blocks)."""
    blocks = drawn if isinstance(drawn, list) else drawn.get("blocks") or []
    return [e for block in blocks if block.get("type") == "actions" for e in block.get("elements") or []]


def action_ids(drawn: Mapping[str, Any] | list[dict[str, Any]]) -> list[str]:
    return [str(e.get("action_id")) for e in buttons(drawn)]
