"""Example bodies for the OpenAPI document (the sample account, and the SPEC's usage reading)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.demo import demo_document

_EXAMPLE_TIME = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def account_example() -> dict[str, Any]:
    return demo_document(_EXAMPLE_TIME).model_dump(mode="json")


def usage_example() -> dict[str, Any]:
    return {"readings": [{"meter": "voice_minutes", "used": 4120, "at": "2026-11-27T10:00:00Z"}]}
