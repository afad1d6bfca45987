"""The upgrade request form: what the modal asks (also how a caller prefills it), read from the view
state, checked for completeness, and the metadata that binds the modal to its account."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.payloads import ModalMetadata, ViewState
from handlers.upgrade.ids import Action
from handlers.upgrade.ids import Block as BlockId
from store.domain.plan import FeatureKey, FeatureStatus, PlanSnapshot
from store.domain.upgrades import MAX_NOTE_CHARS, MAX_QUANTITY, UpgradeKind


class UpgradeForm(BaseModel):
    """What the modal asks; also how a caller prefills it (e.g. "Request more" on a quota alert)."""

    model_config = ConfigDict(frozen=True)

    kind: UpgradeKind | None = None
    quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    feature: FeatureKey | None = None
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class UpgradeModalMetadata(ModalMetadata):
    """The modal's private_metadata: which account it was opened for, checked again on submit."""


def read_upgrade_form(values: ViewState) -> tuple[UpgradeForm, dict[str, str]]:
    """The form as filled in, and errors by block for values that could not be read."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    readers: list[tuple[str, BlockId, Action, str]] = [
        ("kind", BlockId.UPGRADE_KIND, Action.UPGRADE_KIND, "Choose what you need."),
        (
            "quantity",
            BlockId.UPGRADE_QUANTITY,
            Action.UPGRADE_QUANTITY,
            f"Enter a whole number from 1 to {MAX_QUANTITY:,}.",
        ),
        ("feature", BlockId.UPGRADE_FEATURE, Action.UPGRADE_FEATURE, "Choose a feature."),
        (
            "note",
            BlockId.UPGRADE_NOTE,
            Action.UPGRADE_NOTE,
            f"Keep the note under {MAX_NOTE_CHARS} characters.",
        ),
    ]
    for name, block, action, problem in readers:
        raw = values.text(block, action)
        if raw is None:
            continue
        try:
            UpgradeForm.model_validate({name: raw})
        except ValidationError:
            errors[block] = problem
            continue
        fields[name] = raw
    return UpgradeForm.model_validate(fields), errors


def upgrade_form_errors(form: UpgradeForm) -> dict[str, str]:
    """Whether the form is complete; errors by the block to show them on."""
    if form.kind is None:
        return {BlockId.UPGRADE_KIND: "Choose what you need."}
    if form.kind.takes_quantity and form.quantity is None:
        return {BlockId.UPGRADE_QUANTITY: f"Enter how many {form.kind.unit} you need."}
    if form.kind == UpgradeKind.FEATURE and form.feature is None:
        return {BlockId.UPGRADE_FEATURE: "Choose the feature you want unlocked."}
    return {}


def addon_errors(form: UpgradeForm, plan: PlanSnapshot) -> dict[str, str]:
    """An add-on request must name a feature the plan has locked (only these requests need the plan)."""
    if form.kind == UpgradeKind.FEATURE and form.feature not in locked_features(plan):
        name = form.feature.info.name if form.feature else "That feature"
        return {BlockId.UPGRADE_FEATURE: f"{name} is not a locked feature of your plan."}
    return {}


def locked_features(plan: PlanSnapshot) -> list[FeatureKey]:
    return [f.key for f in plan.features if f.status == FeatureStatus.LOCKED]


def cleaned(form: UpgradeForm) -> UpgradeForm:
    """Drop what does not apply to the kind chosen (a quantity on a plan upgrade, say)."""
    kind = form.kind
    return form.model_copy(
        update={
            "quantity": form.quantity if kind is not None and kind.takes_quantity else None,
            "feature": form.feature if kind == UpgradeKind.FEATURE else None,
        }
    )
