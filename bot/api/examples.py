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


def traffic_example() -> dict[str, Any]:
    return {
        "traffic": [
            {
                "hour": "2026-11-30T10:00:00Z",
                "destination": "+44",
                "kind": "voice",
                "line_type": "mobile",
                "minutes": 120,
            },
            {"hour": "2026-11-30T10:00:00Z", "destination": "+852", "kind": "sms", "messages": 300},
        ]
    }


def rate_table_example() -> dict[str, Any]:
    return {
        "effective_date": "2026-12-01",
        "label": "December 2026 rates",
        "rows": [
            {
                "dial_code": "852",
                "iso_code": "HK",
                "destination": "Hong Kong",
                "landline_per_min": "0.0120",
                "mobile_per_min": "0.0150",
                "sms_per_message": "0.0400",
            },
            {
                "dial_code": "44",
                "iso_code": "GB",
                "destination": "United Kingdom",
                "landline_per_min": "0.0100",
                "mobile_per_min": "0.0250",
                "sms_per_message": "0.0450",
            },
        ],
    }


def staff_example() -> dict[str, Any]:
    return {
        "staff": [
            {
                "id": "s-1001",
                "display_name": "Mei Ling Chan",
                "licensed": True,
                "last_active_at": "2026-11-19T17:42:00Z",
            },
            {
                "id": "s-1002",
                "display_name": "Tom Wong",
                "licensed": True,
                "last_active_at": "2026-09-30T08:05:00Z",
            },
            {"id": "s-1003", "display_name": "Priya Nair", "licensed": False, "last_active_at": None},
        ]
    }
