"""One way to carry data through Slack payloads: button values, menu options and private metadata are
small pydantic models with `encode()`/`decode()`; view state is read with one `ViewState`; ids with a
suffix are built and matched by one `SuffixedId`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.errors import ExpiredForm, StaleAction

RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
"""A database row's id as a payload carries it: a tampered 20-digit id is stale, not an overflow."""
PageNumber = Annotated[int, Field(ge=1, le=1_000_000)]


class Payload(BaseModel):
    """Data carried in a button value, a menu option's value or a modal's private metadata.

    Encoded as compact JSON (Slack keeps values up to 2,000 characters and private metadata up to
    3,000); a value that does not decode (tampered, or drawn by an older version) is `None`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def decode(cls, raw: object) -> Self | None:
        if not isinstance(raw, str) or not raw:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None

    @classmethod
    def require(cls, raw: object, again: str) -> Self:
        """The decoded value; a value that cannot be read is a stale button (`again` says what to do)."""
        value = cls.decode(raw)
        if value is None:
            raise StaleAction(again)
        return value


class ModalMetadata(Payload):
    """A modal's private metadata, bound to the account it was opened for: a submission is taken only
    from a workspace linked to that same account (see `Interaction.modal_metadata`)."""

    account_id: str

    @classmethod
    def bound(cls, raw: object, account_id: str, what: str) -> Self:
        metadata = cls.decode(raw)
        if metadata is None or metadata.account_id != account_id:
            raise ExpiredForm(what)
        return metadata


class ViewState:
    """A modal's `view.state.values`, read by block id and action id, whatever the element."""

    def __init__(self, values: Mapping[str, Any] | None) -> None:
        self._values = values if isinstance(values, Mapping) else {}

    @classmethod
    def of(cls, view: Mapping[str, Any]) -> ViewState:
        state = view.get("state")
        return cls(state.get("values") if isinstance(state, Mapping) else None)

    def blocks(self) -> set[str]:
        return set(self._values)

    def element(self, block_id: str, action_id: str) -> Mapping[str, Any]:
        block = self._values.get(block_id)
        found = block.get(action_id) if isinstance(block, Mapping) else None
        return found if isinstance(found, Mapping) else {}

    def text(self, block_id: str, action_id: str) -> str | None:
        """A text input's value or a single select's choice, stripped; None when empty."""
        element = self.element(block_id, action_id)
        selected = element.get("selected_option")
        raw = selected.get("value") if isinstance(selected, Mapping) else element.get("value")
        return raw.strip() if isinstance(raw, str) and raw.strip() else None

    def choices(self, block_id: str, action_id: str) -> list[str]:
        """A multi-select's (or checkboxes') chosen values."""
        options = self.element(block_id, action_id).get("selected_options")
        if not isinstance(options, list):
            return []
        return [str(o.get("value")) for o in options if isinstance(o, Mapping)]

    def conversation(self, block_id: str, action_id: str) -> str | None:
        chosen = self.element(block_id, action_id).get("selected_conversation")
        return chosen if isinstance(chosen, str) and chosen else None


@dataclass(frozen=True)
class SuffixedId:
    """An action or block id with a variable suffix (`rates.page.next`, `feature.virtual_numbers`):
    `id(suffix)` builds one, `pattern` matches them all, `suffix_of` reads the suffix back."""

    prefix: str
    suffix_pattern: str = r"\w+"

    def id(self, suffix: object) -> str:
        return f"{self.prefix}.{suffix}"

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"^{re.escape(self.prefix)}\.({self.suffix_pattern})$")

    def suffix_of(self, full_id: str) -> str | None:
        matched = self.pattern.match(full_id)
        return matched.group(1) if matched else None
