"""Block Kit checks: what Slack would refuse in a message, a view or a Web API call's arguments.

The fake Slack Web API (``bot.devtools.fake_slack``) runs them on every call and answers
``invalid_blocks``/``invalid_arguments`` when they find a problem; view tests call them directly:

    assert validate_message({"text": "hi", "blocks": blocks}, where="plan") == []

Each check returns the problems it found (an empty list when valid), each prefixed with ``where``.
Blocks are parsed with slack_sdk's Block Kit models (fields the models would silently drop count as
problems too) and measured against Slack's limits.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_CHARS = 40_000
MAX_PRIVATE_METADATA_CHARS = 3000
MAX_CALLBACK_ID_CHARS = 255
MAX_VIEW_BUTTON_CHARS = 24  # title, submit and close of a view

_MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
)
_VIEW_METHODS = frozenset({"views.publish", "views.open", "views.update", "views.push"})
_REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("channel",),
    "chat.postEphemeral": ("channel", "user"),
    "chat.update": ("channel", "ts"),
    "chat.delete": ("channel", "ts"),
    "chat.scheduleMessage": ("channel", "post_at"),
    "chat.getPermalink": ("channel", "message_ts"),
    "views.publish": ("user_id", "view"),
    "views.open": ("trigger_id", "view"),
    "views.push": ("trigger_id", "view"),
    "views.update": ("view",),
    "users.info": ("user",),
    "conversations.info": ("channel",),
    "conversations.history": ("channel",),
    "conversations.replies": ("channel", "ts"),
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
    "files.info": ("file",),
    "assistant.threads.setStatus": ("channel_id", "thread_ts", "status"),
    "assistant.threads.setSuggestedPrompts": ("channel_id", "prompts"),
    "functions.completeSuccess": ("function_execution_id", "outputs"),
    "functions.completeError": ("function_execution_id", "error"),
}
_MODEL_ERRORS = (SlackObjectFormationError, KeyError, TypeError, ValueError, AttributeError)


class _CollectingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _sdk_model_warnings() -> Iterator[list[str]]:
    """Collect the warnings slack_sdk models log when they meet something unknown and drop it."""
    logger = logging.getLogger("slack_sdk.models")
    handler = _CollectingHandler()
    old_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, SlackObjectFormationError) else f"{type(exc).__name__}: {exc}"


def truthy(value: Any) -> bool:
    """A Slack boolean param: ``true`` in JSON, ``"true"``/``"1"`` in a form or query string."""
    return value is True or value in ("true", "1", 1)


def validate_blocks(blocks: Any, *, where: str, max_blocks: int | None) -> list[str]:
    """Problems Slack would reject in a ``blocks`` array (empty list when valid)."""
    if not isinstance(blocks, list):
        return [f"{where}: blocks must be a JSON array, got {type(blocks).__name__}"]
    errors: list[str] = []
    if max_blocks is not None and len(blocks) > max_blocks:
        errors.append(f"{where}: {len(blocks)} blocks, more than the {max_blocks} allowed")
    seen_block_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        if not isinstance(raw, dict):
            errors.append(f"{where}: block {index} is not an object")
            continue
        label = f"{where}: block {index} ({raw.get('type')!r}"
        label += f", block_id {raw['block_id']!r})" if "block_id" in raw else ")"
        block_id = raw.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                errors.append(f"{label}: duplicate block_id")
            seen_block_ids.add(block_id)
        with _sdk_model_warnings() as warnings:
            try:
                parsed = Block.parse(raw)
                if parsed is None:
                    errors.append(f"{label}: unknown block type")
                    continue
                parsed.validate_json()
                parsed.to_dict()  # validates nested elements and text objects as well
            except _MODEL_ERRORS as exc:
                errors.append(f"{label}: {_describe(exc)}")
        errors.extend(f"{label}: {warning}" for warning in warnings)
    return errors


def validate_message(params: dict[str, Any], *, where: str) -> list[str]:
    """Problems with a message (chat.* params or a response_url body)."""
    if truthy(params.get("delete_original")):
        return []
    errors: list[str] = []
    text = params.get("text")
    if text is not None and not isinstance(text, str):
        errors.append(f"{where}: text must be a string, got {type(text).__name__}")
        text = None
    elif text is not None and len(text) > MAX_TEXT_CHARS:
        errors.append(f"{where}: text is {len(text)} characters, more than {MAX_TEXT_CHARS}")
    blocks = params.get("blocks")
    has_blocks = blocks is not None and blocks != []
    if has_blocks:
        errors.extend(validate_blocks(blocks, where=where, max_blocks=MAX_MESSAGE_BLOCKS))
        if not (text and text.strip()):
            errors.append(f"{where}: message has blocks but no fallback text (used in notifications)")
    attachments = params.get("attachments")
    if attachments is not None:
        if not isinstance(attachments, list):
            errors.append(f"{where}: attachments must be a JSON array")
        else:
            for index, attachment in enumerate(attachments):
                if isinstance(attachment, dict) and attachment.get("blocks"):
                    errors.extend(
                        validate_blocks(
                            attachment["blocks"],
                            where=f"{where} attachment {index}",
                            max_blocks=MAX_MESSAGE_BLOCKS,
                        )
                    )
    if not has_blocks and not text and not attachments:
        errors.append(f"{where}: message has no text, blocks or attachments")
    return errors


def validate_view(view: Any, *, where: str) -> list[str]:
    """Problems with a view (the ``view`` param of views.*)."""
    if not isinstance(view, dict):
        return [f"{where}: view must be a JSON object, got {type(view).__name__}"]
    errors: list[str] = []
    view_type = view.get("type")
    if view_type not in ("modal", "home", "workflow_step"):
        errors.append(f"{where}: view type must be 'modal' or 'home', got {view_type!r}")
    private_metadata = view.get("private_metadata")
    if isinstance(private_metadata, str) and len(private_metadata) > MAX_PRIVATE_METADATA_CHARS:
        errors.append(f"{where}: private_metadata is {len(private_metadata)} characters (max 3000)")
    callback_id = view.get("callback_id")
    if isinstance(callback_id, str) and len(callback_id) > MAX_CALLBACK_ID_CHARS:
        errors.append(f"{where}: callback_id is {len(callback_id)} characters (max 255)")
    for key in ("title", "submit", "close"):
        value = view.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append(f"{where}: {key} must be a plain_text object, not {type(value).__name__}")
        elif not 1 <= len(str(value.get("text") or "")) <= MAX_VIEW_BUTTON_CHARS:
            errors.append(f"{where}: {key} text must be 1 to {MAX_VIEW_BUTTON_CHARS} characters")
        elif view_type == "home" and key != "title":
            errors.append(f"{where}: a home view cannot have {key}")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= MAX_VIEW_BLOCKS:
        count = len(blocks) if isinstance(blocks, list) else 0
        errors.append(f"{where}: a view needs 1 to {MAX_VIEW_BLOCKS} blocks, got {count}")
    if view_type == "modal":
        if not view.get("title"):
            errors.append(f"{where}: a modal needs a title")
        has_inputs = isinstance(blocks, list) and any(
            isinstance(block, dict) and block.get("type") == "input" for block in blocks
        )
        if has_inputs and not view.get("submit"):
            errors.append(f"{where}: a modal with input blocks needs a submit button")
    if not errors:
        # Backstop: slack_sdk's own view-level rules (it reports only the first problem it meets).
        try:
            View(**view).validate_json()
        except _MODEL_ERRORS as exc:
            errors.append(f"{where}: view: {_describe(exc)}")
    if isinstance(blocks, list):
        errors.extend(validate_blocks(blocks, where=where, max_blocks=None))  # count checked above
    return errors


def validate_call(method: str, params: dict[str, Any], *, content: bool) -> tuple[list[str], list[str]]:
    """(argument problems, Block Kit/message/view problems) of a Web API call; `content=False` skips
    the second."""
    argument_errors = [
        f"{method}: missing required argument {name!r}"
        for name in _REQUIRED_PARAMS.get(method, ())
        if params.get(name) in (None, "")
    ]
    if method == "views.update" and not (params.get("view_id") or params.get("external_id")):
        argument_errors.append("views.update: needs view_id or external_id")
    content_errors: list[str] = []
    if not content:
        return argument_errors, content_errors
    if method in _MESSAGE_METHODS:
        content_errors.extend(validate_message(params, where=method))
    if method in _VIEW_METHODS and params.get("view") is not None:
        content_errors.extend(validate_view(params["view"], where=method))
    return argument_errors, content_errors
