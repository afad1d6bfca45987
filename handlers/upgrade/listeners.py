"""Upgrade and add-on requests: `/plan upgrade`, the Upgrade button, the modal, and Sales' replies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.interaction import Accepted, Interaction, ViewAck, field_errors
from handlers.limits import view_dict
from handlers.payloads import ViewState
from handlers.routes import Routes
from handlers.upgrade.entry import WHAT_ADMINS_DO, start_upgrade
from handlers.upgrade.form import (
    UpgradeForm,
    UpgradeModalMetadata,
    addon_errors,
    cleaned,
    read_upgrade_form,
    upgrade_form_errors,
)
from handlers.upgrade.ids import Action, Callback
from handlers.upgrade.ids import Block as BlockId
from handlers.upgrade.sales import RequestRef, advance_request, submit_request
from handlers.upgrade.views import upgrade_modal
from store.domain.upgrades import UpgradeKind, UpgradeStatus

WHAT = "the upgrade request form"


def register(routes: Routes) -> None:
    routes.subcommand(
        "upgrade",
        start_upgrade,
        usage="/plan upgrade",
        summary="ask Sales for another plan, more minutes, storage or licences, or an add-on",
    )
    routes.action(Action.UPGRADE_OPEN, start_upgrade)
    routes.action(Action.UPGRADE_KIND, kind_changed)
    routes.view(Callback.UPGRADE, check_submission, submit_request)
    routes.action(Action.UPGRADE_ACKNOWLEDGE, acknowledge, value=RequestRef, again=STALE)
    routes.action(Action.UPGRADE_DONE, done, value=RequestRef, again=STALE)


STALE = "Find the request in the sales channel again."


async def kind_changed(interaction: Interaction[None]) -> None:
    """The "what" select dispatches: redraw the modal with the fields that kind needs."""
    metadata = await _metadata(interaction)
    form, _ = read_upgrade_form(interaction.view_state)
    plan = await interaction.store.accounts.snapshot(metadata.account_id)
    modal = upgrade_modal(plan, form, metadata)
    await interaction.client.views_update(view_id=interaction.view["id"], view=view_dict(modal))


async def check_submission(interaction: Interaction[None]) -> Accepted[UpgradeForm] | ViewAck:
    await interaction.require_admin(WHAT_ADMINS_DO)
    metadata = await _metadata(interaction)
    form, errors = read_upgrade_form(interaction.view_state)
    errors = errors or upgrade_form_errors(form)
    if not errors and form.kind == UpgradeKind.FEATURE:  # before the ack, read only when needed
        errors = addon_errors(form, await interaction.store.accounts.snapshot(metadata.account_id))
    if errors:
        return field_errors(_errors_on_shown_blocks(errors, interaction.view))
    return Accepted(cleaned(form))


async def acknowledge(interaction: Interaction[RequestRef]) -> None:
    await advance_request(interaction, UpgradeStatus.ACKNOWLEDGED)


async def done(interaction: Interaction[RequestRef]) -> None:
    await advance_request(interaction, UpgradeStatus.DONE)


async def _metadata(interaction: Interaction[Any]) -> UpgradeModalMetadata:
    return await interaction.modal_metadata(UpgradeModalMetadata, WHAT)


def _errors_on_shown_blocks(errors: Mapping[str, str], view: Mapping[str, Any]) -> dict[str, str]:
    """Slack shows an error only on a block of the view; one for a field not shown (a stale view)
    goes on the "what" select, which is always there."""
    shown = {b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict)}
    shown |= ViewState.of(view).blocks()
    placed: dict[str, str] = {}
    for block, message in errors.items():
        target = block if block in shown else BlockId.UPGRADE_KIND
        placed.setdefault(target, message)
    return placed
