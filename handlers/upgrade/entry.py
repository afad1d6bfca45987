"""How other capabilities start an upgrade request: the Upgrade button on the plan, "Request add-on" on
a locked feature, "Request more" on a quota alert. Administrators get the modal (prefilled); anyone
else is told who their administrators are."""

from __future__ import annotations

from typing import Any, Final

from handlers.interaction import Interaction
from handlers.upgrade.form import UpgradeForm, UpgradeModalMetadata
from handlers.upgrade.views import upgrade_modal
from store.domain.plan import PlanSnapshot

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
