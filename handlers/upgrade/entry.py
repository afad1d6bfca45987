"""How other capabilities start an upgrade request: the Upgrade button on the plan, "Request add-on" on
a locked feature, "Request more" on a quota alert. Administrators get the modal (prefilled); anyone
else is told who their administrators are. A request made without the modal (a Workflow Builder step)
goes through the modal's checks and is delivered as the modal's is (`request_upgrade`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bot.core.errors import InvalidInput
from handlers.interaction import Interaction
from handlers.upgrade.form import (
    UpgradeForm,
    UpgradeModalMetadata,
    addon_errors,
    cleaned,
    upgrade_form_errors,
    upgrade_form_of,
)
from handlers.upgrade.sales import deliver_request
from handlers.upgrade.views import upgrade_modal
from store.domain.plan import PlanSnapshot
from store.domain.upgrades import UpgradeKind, UpgradeRequest

WHAT_ADMINS_DO: Final = "request upgrades and add-ons"


async def start_upgrade(interaction: Interaction[Any], prefill: UpgradeForm | None = None) -> None:
    await interaction.require_admin(WHAT_ADMINS_DO)
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    await open_upgrade_modal(interaction, plan, prefill)


async def open_upgrade_modal(
    interaction: Interaction[Any], plan: PlanSnapshot, prefill: UpgradeForm | None = None
) -> None:
    """The request modal for `plan`'s account; the caller has checked the user is an administrator."""
    metadata = UpgradeModalMetadata(account_id=plan.account.id)
    await interaction.open_modal(upgrade_modal(plan, prefill or UpgradeForm(), metadata))


async def request_upgrade(interaction: Interaction[Any], fields: Mapping[str, object]) -> UpgradeRequest:
    """The request `interaction.user_id` makes with `fields` (the modal's, by name: kind, quantity, feature,
    note; None when not given), checked as the modal's submission is (only administrators; a readable,
    complete form; an add-on names a feature the plan has locked), then stored, posted to Sales, emailed
    and told to the requester exactly as the modal's request is. `InvalidInput` names the first problem."""
    await interaction.require_admin(WHAT_ADMINS_DO)
    form, errors = upgrade_form_of(fields)
    problems = list(errors.values()) or list(upgrade_form_errors(form).values())
    if not problems and form.kind == UpgradeKind.FEATURE:
        plan = await interaction.store.accounts.snapshot(await interaction.account_id())
        problems = list(addon_errors(form, plan).values())
    if problems:
        raise InvalidInput(problems[0])
    return await deliver_request(interaction.with_value(cleaned(form)))
