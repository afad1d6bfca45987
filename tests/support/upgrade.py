"""The upgrade modal, filled in as an administrator would."""

from __future__ import annotations

from typing import Any

from handlers.upgrade.ids import Action, Block


def select(value: str) -> dict[str, Any]:
    """A static select with `value` chosen."""
    return {
        "type": "static_select",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
    }


def upgrade_state(
    *,
    kind: str | None,
    quantity: str | None = None,
    feature: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The modal's `view.state.values`: `kind` chosen (None: nothing chosen), and the rest as given (None:
    the block is not in the modal, but the note, which is then left empty)."""
    state: dict[str, Any] = {
        Block.UPGRADE_KIND: {Action.UPGRADE_KIND: select(kind) if kind else {"type": "static_select"}},
        Block.UPGRADE_NOTE: {Action.UPGRADE_NOTE: note},
    }
    if quantity is not None:
        state[Block.UPGRADE_QUANTITY] = {Action.UPGRADE_QUANTITY: {"type": "number_input", "value": quantity}}
    if feature is not None:
        state[Block.UPGRADE_FEATURE] = {Action.UPGRADE_FEATURE: select(feature)}
    return state
