"""The Workflow Builder steps' callback ids and the names of their inputs and outputs, exactly as the
manifest's `functions` declares them (tests/test_manifest.py holds the two together)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from store.domain.plan import Meter


class Callback(StrEnum):
    """A step's callback id: the key of its definition in the manifest's `functions`."""

    PLAN_USAGE = "get_plan_usage"
    RATE_LOOKUP = "look_up_rate"
    COST_ESTIMATE = "estimate_cost"
    UPGRADE_REQUEST = "request_upgrade"


class UsageOutput(StrEnum):
    PLAN_NAME = "plan_name"
    NEXT_PAYMENT_DATE = "next_payment_date"
    DATA_AS_OF = "data_as_of"
    VOICE_MINUTES_USED = "voice_minutes_used"
    VOICE_MINUTES_AVAILABLE = "voice_minutes_available"
    VOICE_MINUTES_PERCENT = "voice_minutes_percent"
    VOICE_MINUTES_RUN_OUT_DATE = "voice_minutes_run_out_date"
    VIDEO_MINUTES_USED = "video_minutes_used"
    VIDEO_MINUTES_AVAILABLE = "video_minutes_available"
    VIDEO_MINUTES_PERCENT = "video_minutes_percent"
    VIDEO_MINUTES_RUN_OUT_DATE = "video_minutes_run_out_date"
    STORAGE_GB_USED = "storage_gb_used"
    STORAGE_GB_AVAILABLE = "storage_gb_available"
    STORAGE_GB_PERCENT = "storage_gb_percent"
    STORAGE_GB_RUN_OUT_DATE = "storage_gb_run_out_date"


def allowance_outputs(meter: Meter) -> tuple[UsageOutput, UsageOutput, UsageOutput, UsageOutput]:
    """An allowance's outputs, named after its meter: used, available, percent, run-out date."""
    used, available, percent, run_out = (
        UsageOutput(f"{meter.value}_{part}") for part in ("used", "available", "percent", "run_out_date")
    )
    return used, available, percent, run_out


class RateInput(StrEnum):
    DESTINATION = "destination"


class RateOutput(StrEnum):
    DESTINATION = "destination"
    ISO_CODE = "iso_code"
    DIAL_CODE = "dial_code"
    LANDLINE_PER_MIN = "landline_per_min"
    MOBILE_PER_MIN = "mobile_per_min"
    SMS_PER_MESSAGE = "sms_per_message"
    LINE_TYPE = "line_type"
    NUMBER = "number"


class EstimateInput(StrEnum):
    DESTINATION = "destination"
    KIND = "kind"
    QUANTITY = "quantity"
    LINE = "line"


class EstimateOutput(StrEnum):
    DESTINATION = "destination"
    COST = "cost"
    RATE = "rate"
    RATE_KIND = "rate_kind"
    UNITS = "units"


class UpgradeInput(StrEnum):
    REQUESTED_BY = "requested_by"
    KIND = "kind"
    QUANTITY = "quantity"
    FEATURE = "feature"
    NOTE = "note"


class UpgradeOutput(StrEnum):
    REQUEST_ID = "request_id"
    STATUS = "status"
    DELIVERY = "delivery"


STEP_PARAMETERS: Final[dict[Callback, tuple[type[StrEnum] | None, type[StrEnum]]]] = {
    Callback.PLAN_USAGE: (None, UsageOutput),
    Callback.RATE_LOOKUP: (RateInput, RateOutput),
    Callback.COST_ESTIMATE: (EstimateInput, EstimateOutput),
    Callback.UPGRADE_REQUEST: (UpgradeInput, UpgradeOutput),
}
"""Each step's inputs (None: it takes none) and outputs."""
