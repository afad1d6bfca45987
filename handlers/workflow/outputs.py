"""Each step's outputs, by the manifest's names: pure functions from domain objects.

Rates and costs are money: strings of the exact `Decimal` (`"0.0150"`, as the rate table has it; never a
float). Usage figures are minutes and gigabytes: JSON numbers (a whole number where the figure is one).
Dates are `YYYY-MM-DD` (UTC); "as of" is a Unix timestamp; a run-out date is "" when there is none.
"""

from __future__ import annotations

from decimal import Decimal

from bot.rates.estimate import CostLine, Quantity, SmsCount
from bot.rates.lookup import OneRate
from bot.workflow.usage import PlanUsage
from handlers.interaction import StepOutputs
from handlers.workflow.ids import (
    EstimateOutput,
    RateOutput,
    UpgradeOutput,
    UsageOutput,
    allowance_outputs,
)
from store.domain.upgrades import UpgradeRequest


def money(amount: Decimal) -> str:
    """The exact amount, never in exponent form ("0.0100", "1.9188", "12")."""
    return format(amount, "f")


def figure(value: Decimal) -> int | float:
    """Minutes or gigabytes as a JSON number: whole numbers stay whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def usage_outputs(usage: PlanUsage) -> StepOutputs:
    outputs: StepOutputs = {
        UsageOutput.PLAN_NAME: usage.plan_name,
        UsageOutput.NEXT_PAYMENT_DATE: usage.next_payment_date.isoformat(),
        UsageOutput.DATA_AS_OF: int(usage.data_as_of.timestamp()),
    }
    for allowance in usage.allowances:
        used, available, percent, run_out = allowance_outputs(allowance.meter)
        outputs[used] = figure(allowance.used)
        outputs[available] = figure(allowance.available)
        outputs[percent] = allowance.percent
        outputs[run_out] = allowance.runs_out_on.isoformat() if allowance.runs_out_on else ""
    return _plain(outputs)


def rate_outputs(found: OneRate) -> StepOutputs:
    row = found.row
    return _plain(
        {
            RateOutput.DESTINATION: row.destination,
            RateOutput.ISO_CODE: row.iso_code,
            RateOutput.DIAL_CODE: f"+{row.dial_code}",
            RateOutput.LANDLINE_PER_MIN: money(row.landline_per_min),
            RateOutput.MOBILE_PER_MIN: money(row.mobile_per_min),
            RateOutput.SMS_PER_MESSAGE: money(row.sms_per_message),
            RateOutput.LINE_TYPE: found.line_type or "",
            RateOutput.NUMBER: found.number or "",
        }
    )


def estimate_outputs(found: OneRate, quantity: Quantity, line: CostLine) -> StepOutputs:
    units = quantity.count if isinstance(quantity, SmsCount) else quantity.started_minutes
    return _plain(
        {
            EstimateOutput.DESTINATION: found.row.destination,
            EstimateOutput.COST: money(line.cost),
            EstimateOutput.RATE: money(line.unit_rate),
            EstimateOutput.RATE_KIND: line.kind,
            EstimateOutput.UNITS: units,
        }
    )


def upgrade_outputs(request: UpgradeRequest) -> StepOutputs:
    return _plain(
        {
            UpgradeOutput.REQUEST_ID: request.id,
            UpgradeOutput.STATUS: request.status.value,
            UpgradeOutput.DELIVERY: request.delivery.value,
        }
    )


def _plain(outputs: StepOutputs) -> StepOutputs:
    """Keys as plain strings (the enums are StrEnum), for JSON and for comparing."""
    return {str(name): value for name, value in outputs.items()}
