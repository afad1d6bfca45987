"""The one guard on Block Kit's limits: every message and view the app sends passes through `fitted`,
which cuts texts and lists to the limits slack_sdk's models declare (`<attribute>_max_length`), so user
text of any length (a pasted essay after `/plan`, a long company name) never makes Slack refuse a post.

Values that carry data (button values, private metadata) are bounded where they are made (`Payload`s)
and so are never cut here in practice."""

from __future__ import annotations

from copy import deepcopy
from typing import Any, Final, TypeVar

from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import TextObject

MAX_MESSAGE_BLOCKS: Final = 50
MAX_MESSAGE_TEXT: Final = 40_000
SUFFIX: Final = "_max_length"

M = TypeVar("M", bound=JsonObject)


def fitted(model: M) -> M:
    """A copy of `model` (a block, an element or a view) within slack_sdk's limits."""
    copy = deepcopy(model)
    _fit(copy)
    return copy


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit(model: JsonObject) -> None:
    for name in dir(type(model)):
        if not name.endswith(SUFFIX):
            continue
        limit = getattr(model, name)
        attribute = name.removesuffix(SUFFIX)
        value = getattr(model, attribute, None)
        if not isinstance(limit, int):
            continue
        if isinstance(value, str):
            setattr(model, attribute, truncate(value, limit))
        elif isinstance(value, TextObject) and isinstance(value.text, str):
            value.text = truncate(value.text, limit)
        elif isinstance(value, list):
            setattr(model, attribute, value[:limit])
    for child in vars(model).values():
        for item in child if isinstance(child, list) else [child]:
            if isinstance(item, JsonObject):
                _fit(item)


def view_dict(view: Any) -> dict[str, Any]:
    """A view as the Web API takes it, within Slack's limits."""
    result: dict[str, Any] = fitted(view).to_dict()
    return result
