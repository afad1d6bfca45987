"""The upgrade request form: what the modal asks (also how a caller prefills it), read from the view
state, checked for completeness, and the metadata that binds the modal to its account."""

from __future__ import annotations

from collections.abc import Mapping
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


PROBLEMS: dict[str, str] = {
    "kind": "Choose what you need.",
    "quantity": f"Enter a whole number from 1 to {MAX_QUANTITY:,}.",
    "feature": "Choose a feature.",
    "note": f"Keep the note under {MAX_NOTE_CHARS} characters.",
}
"""What is wrong with a field whose value cannot be read, by field."""
FIELDS: dict[str, tuple[BlockId, Action]] = {
    "kind": (BlockId.UPGRADE_KIND, Action.UPGRADE_KIND),
    "quantity": (BlockId.UPGRADE_QUANTITY, Action.UPGRADE_QUANTITY),
    "feature": (BlockId.UPGRADE_FEATURE, Action.UPGRADE_FEATURE),
    "note": (BlockId.UPGRADE_NOTE, Action.UPGRADE_NOTE),
}
"""Where the modal asks for each field."""


def read_upgrade_form(values: ViewState) -> tuple[UpgradeForm, dict[str, str]]:
    """The form as filled in, and errors by block for values that could not be read."""
    raw = {name: values.text(block, action) for name, (block, action) in FIELDS.items()}
    form, errors = upgrade_form_of(raw)
    return form, {FIELDS[name][0]: problem for name, problem in errors.items()}


def upgrade_form_of(raw: Mapping[str, object]) -> tuple[UpgradeForm, dict[str, str]]:
    """The form from its fields' values by name, as the modal or a Workflow Builder step gives them (None:
    not given), and errors by field name for values that could not be read."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    for name, problem in PROBLEMS.items():
        value = raw.get(name)
        if value is None:
            continue
        try:
            UpgradeForm.model_validate({name: value})
        except ValidationError:
            errors[name] = problem
            continue
        fields[name] = value
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
