"""Workflow Builder custom steps (declared in the manifest's `functions`): Get plan usage, Look up a rate,
Estimate a call or SMS cost, Request an upgrade.

Each step answers for the workspace the workflow runs in (its linked account), from the same data and
rules as `/plan usage`, `/rates` and the upgrade modal. What a step returns completes it; what it raises
fails it with the error mapping's message (`handlers.interaction.completed`).
"""

from __future__ import annotations

from bot.core.errors import NotAMember
from bot.rates.lookup import NoRateTable, OneRate, look_up, one_rate
from bot.workflow.costs import line_of, priced, quantity_of, sent_of
from bot.workflow.usage import plan_usage
from handlers.interaction import Interaction, StepInputs, StepOutputs
from handlers.routes import Routes
from handlers.upgrade.entry import request_upgrade
from handlers.workflow.ids import Callback, EstimateInput, RateInput, UpgradeInput
from handlers.workflow.inputs import given, number, required_text, text, user_of
from handlers.workflow.outputs import estimate_outputs, rate_outputs, upgrade_outputs, usage_outputs

DESTINATION = "a destination (a country or region name, ISO code or dial code) or a phone number"
QUANTITY = "Enter how many minutes (for a call) or messages (for SMS): a number greater than 0."


def register(routes: Routes) -> None:
    routes.function(Callback.PLAN_USAGE, get_plan_usage)
    routes.function(Callback.RATE_LOOKUP, look_up_rate)
    routes.function(Callback.COST_ESTIMATE, estimate_cost)
    routes.function(Callback.UPGRADE_REQUEST, request_upgrade_step)


async def get_plan_usage(interaction: Interaction[StepInputs]) -> StepOutputs:
    """The plan, its next payment date, and each allowance's figures and run-out date."""
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    return usage_outputs(await plan_usage(interaction.store, plan))


async def look_up_rate(interaction: Interaction[StepInputs]) -> StepOutputs:
    """The rates of the one destination a name, code or phone number stands for."""
    query = required_text(interaction.value, RateInput.DESTINATION, DESTINATION)
    return rate_outputs(await _one_rate(interaction, query))


async def estimate_cost(interaction: Interaction[StepInputs]) -> StepOutputs:
    """A call's (per started minute) or SMS's cost to a destination or number, and the rate used."""
    inputs = interaction.value
    query = required_text(inputs, EstimateInput.DESTINATION, DESTINATION)
    sent = sent_of(required_text(inputs, EstimateInput.KIND, "what to price: `call` or `sms`"))
    quantity = quantity_of(sent, number(inputs, EstimateInput.QUANTITY, QUANTITY))
    line = line_of(text(inputs, EstimateInput.LINE))
    found = await _one_rate(interaction, query)
    return estimate_outputs(found, quantity, priced(found, quantity, line))


async def request_upgrade_step(interaction: Interaction[StepInputs]) -> StepOutputs:
    """An upgrade or add-on request by the person who ran the workflow, as the upgrade modal makes it."""
    inputs = interaction.value
    requester = interaction.acting_for(user_of(inputs, UpgradeInput.REQUESTED_BY))
    await requester.account_id()
    if not await requester.workspace.is_member(requester.user_id):
        raise NotAMember()
    fields = {
        "kind": given(inputs, UpgradeInput.KIND),
        "quantity": given(inputs, UpgradeInput.QUANTITY),
        "feature": given(inputs, UpgradeInput.FEATURE),
        "note": given(inputs, UpgradeInput.NOTE),
    }
    return upgrade_outputs(await request_upgrade(requester, fields))


async def _one_rate(interaction: Interaction[StepInputs], query: str) -> OneRate:
    found = await look_up(
        interaction.store, interaction.services.rates, await interaction.account_id(), query
    )
    if found is None:
        raise NoRateTable()
    return one_rate(found.result)
