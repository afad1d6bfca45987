"""Slack's request URL, checked at the edge before bolt sees a request (see docs/slack-edge.md): the
body's size, then the signature and timestamp on the raw bytes, then that the body parses into a payload
of a shape bolt and the listeners can read. A request that fails is `Refused` with a 4xx and a reason
that names no request content."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""Slack's largest payloads (a modal's state, 100 blocks of input) are far below this."""
SIGNATURE_MAX_AGE = 5 * 60 - 5
"""A request signed longer ago than this (or that far in the future) is refused, as Slack advises: five
minutes, less a margin so that bolt's own check (five minutes, moments later) never disagrees."""
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


async def admit(request: web.Request, verifier: SignatureVerifier) -> tuple[AsyncBoltRequest, dict[str, Any]]:
    """The request as bolt takes it, and its parsed body; raises `Refused`."""
    raw = await _read_body(request)
    try:
        _verify(verifier, request, raw)
        text, body = _parse(raw, request.content_type)
        problem = shape_problem(body)
        if problem is not None:
            raise Refused(400, problem)
    except Refused as refused:
        refused.size = len(raw)
        raise
    return _bolt_request(request, text, body), body


class Refused(Exception):
    """A request refused at the edge: the status it is answered with and why (no request content)."""

    def __init__(self, status: int, reason: str, size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.size = size


async def _read_body(request: web.Request) -> bytes:
    """The body, refused (413) as soon as it is known to exceed MAX_BODY_BYTES: by its Content-Length,
    else by what has been read (a chunked body is never read past the limit)."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise Refused(413, "body too large", declared)
    body = bytearray()
    while len(body) <= MAX_BODY_BYTES:
        chunk = await request.content.read(MAX_BODY_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, "body too large", len(body))
    return bytes(body)


class RawSignatureVerifier(SignatureVerifier):
    """slack_sdk's verifier, signing the body's bytes as they came: slack_sdk decodes a bytes body as UTF-8
    first, which raises on any other body instead of calling its signature wrong."""

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        if not isinstance(body, bytes):
            return super().generate_signature(timestamp=timestamp, body=body)
        signed = b"v0:" + timestamp.encode() + b":" + body
        return "v0=" + hmac.new(self.signing_secret.encode(), signed, hashlib.sha256).hexdigest()


_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)


def _verify(verifier: SignatureVerifier, request: web.Request, raw: bytes) -> None:
    """Slack's signature (HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret) on the raw bytes,
    and a timestamp within SIGNATURE_MAX_AGE of now; anything else is refused with 401."""
    timestamps = request.headers.getall("X-Slack-Request-Timestamp", [])
    signatures = request.headers.getall("X-Slack-Signature", [])
    if not timestamps:
        raise Refused(401, "no timestamp")
    if not signatures:
        raise Refused(401, "no signature")
    if len(timestamps) > 1 or len(signatures) > 1:
        raise Refused(401, "more than one timestamp or signature")
    timestamp, signature = timestamps[0], signatures[0]
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Refused(401, "malformed timestamp")
    if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE:
        raise Refused(401, "stale timestamp")
    if not _SIGNATURE.fullmatch(signature):
        raise Refused(401, "malformed signature")
    if not verifier.is_valid(body=raw, timestamp=timestamp, signature=signature):
        raise Refused(401, "bad signature")


def _parse(raw: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """The payload: a JSON object (Events API), or a form: `payload=<JSON object>` (interactions) or the
    fields themselves (slash commands, ssl_check). Refused with 400 when it is not one, 415 for another
    content type."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if content_type == JSON:
        return text, _json_object(text, "body")
    if content_type != FORM:
        raise Refused(415, "unsupported content type")
    try:
        form = dict(parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=1000))
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "unreadable form") from None
    if "payload" in form:
        return text, _json_object(form["payload"], "payload")
    return text, form


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(parsed, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return parsed


def _bolt_request(request: web.Request, text: str, body: dict[str, Any]) -> AsyncBoltRequest:
    """Bolt's request for a payload that passed the checks: bolt reads the body we read (its own form
    parsing takes any form mentioning "payload" for an interaction, so a command whose text says "payload"
    would reach it empty), with headers meant for bolt's own lazy listeners dropped."""
    headers: dict[str, str | Sequence[str]] = {}
    for name, value in request.headers.items():
        lowered = name.lower()
        if not lowered.startswith("x-slack-bolt-"):
            headers.setdefault(lowered, value)
    headers["content-type"] = request.content_type
    try:
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        if bolt_request.body != body:
            bolt_request.body = body
            bolt_request.context = build_async_context(AsyncBoltContext(), body)
    except Exception as error:  # whatever bolt cannot read is a bad request, not a 500
        log.debug("bolt could not read a payload: %r", error)
        raise Refused(400, "unreadable payload") from None
    for key in _CONTEXT_IDS:
        if not isinstance(bolt_request.context.get(key), str | None):
            raise Refused(400, f"{key} is not a string")
    return bolt_request


_CONTEXT_IDS = (
    "team_id",
    "enterprise_id",
    "user_id",
    "channel_id",
    "response_url",
    "thread_ts",
    "actor_team_id",
    "actor_enterprise_id",
    "actor_user_id",
)


# ---------------------------------------------------------------------------------------------------------
# Payload shapes: what bolt (building its context, matching listeners) and the listeners read without a
# guard is there, with the right type. Anything else is a malformed request (400), not a 500 after bolt
# or a listener trips over it. Slack's own payloads carry much more; only what is read is checked.

Problem = str | None
Check = Callable[[Mapping[str, Any]], Problem]


def shape_problem(body: Mapping[str, Any]) -> Problem:
    """Why the payload cannot be handled, or None when it can."""
    kind = body.get("type")
    if kind is None and "command" in body:
        return _command(body)
    if kind is None and "ssl_check" in body:
        return None  # Slack checking the certificate: bolt answers it
    if not isinstance(kind, str):
        return "no payload type"
    check = _KINDS.get(kind)
    if check is None:
        return "unknown payload type"
    return check(body) or _ids(body, "payload")


def _command(body: Mapping[str, Any]) -> Problem:
    command = body.get("command")
    if not isinstance(command, str) or not command.startswith("/"):
        return "command without a command"
    return _required_text(body, "user_id", "team_id", where="command") or _ids(body, "command")


def _url_verification(body: Mapping[str, Any]) -> Problem:
    return _required_text(body, "challenge", where="url_verification")


def _event_callback(body: Mapping[str, Any]) -> Problem:
    event = body.get("event")
    if not isinstance(event, Mapping):
        return "event_callback without an event"
    problem = _required_text(body, "event_id", where="event_callback") or _required_text(
        event, "type", where="event"
    )
    if problem is None and event.get("type") == "app_home_opened":
        problem = _required_text(event, "user", where="app_home_opened")
    if problem is None and event.get("type") == "function_executed":
        problem = _function_executed(event)
    return (
        problem or _ids(event, "event") or _objects(event, "item", "message", "view", "tokens", where="event")
    )


def _function_executed(event: Mapping[str, Any]) -> Problem:
    """A Workflow Builder step's run: which step (its callback id), its execution, and its inputs."""
    function = event.get("function")
    if not isinstance(function, Mapping):
        return "function_executed without a function"
    return (
        _required_text(function, "callback_id", where="function")
        or _required_text(event, "function_execution_id", where="function_executed")
        or _texts(event, "bot_access_token", where="function_executed")
        or _objects(event, "inputs", where="function_executed")
    )


def _anything(body: Mapping[str, Any]) -> Problem:
    return None


def _block_actions(body: Mapping[str, Any]) -> Problem:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "block_actions without actions"
    for action in actions:
        if not isinstance(action, Mapping):
            return "an action is not an object"
        problem = _required_text(action, "action_id", where="action") or _texts(
            action, "block_id", "action_ts", "value", "type", where="action"
        )
        if problem is None and not isinstance(action.get("selected_option"), Mapping | None):
            problem = "action's selected_option is not an object"
        if problem is not None:
            return problem
    return (
        _interaction(body) or _optional_view(body) or _objects(body, "container", "message", where="payload")
    )


def _block_suggestion(body: Mapping[str, Any]) -> Problem:
    return (
        _interaction(body)
        or _required_text(body, "action_id", where="block_suggestion")
        or _texts(body, "value", "block_id", where="block_suggestion")
        or _optional_view(body)
    )


def _view_payload(body: Mapping[str, Any]) -> Problem:
    view = body.get("view")
    if not isinstance(view, Mapping):
        return f"{body.get('type')} without a view"
    return (
        _interaction(body)
        or _view(view)
        or _required_text(view, "id", "callback_id", where="view")
        or _list_of_objects(body, "response_urls")
    )


def _callback(body: Mapping[str, Any]) -> Problem:
    """Shortcuts and legacy interactions (attachments, dialogs): bolt matches them by callback_id."""
    return _interaction(body) or _required_text(body, "callback_id", where=str(body.get("type")))


def _interaction(body: Mapping[str, Any]) -> Problem:
    user = body.get("user")
    if not isinstance(user, Mapping):
        return "interaction without a user"
    return (
        _required_text(user, "id", where="user")
        or _texts(user, "team_id", where="user")
        or _texts(body, "trigger_id", "response_url", where="payload")
    )


def _optional_view(body: Mapping[str, Any]) -> Problem:
    view = body.get("view")
    return None if view is None else _view(view)


def _view(view: object) -> Problem:
    if not isinstance(view, Mapping):
        return "view is not an object"
    problem = _texts(view, "id", "type", "hash", "callback_id", "private_metadata", "team_id", where="view")
    state = view.get("state")
    if problem is None and state is not None:
        if not isinstance(state, Mapping):
            problem = "view state is not an object"
        elif not isinstance(state.get("values"), Mapping | None):
            problem = "view state values are not an object"
    return problem


_KINDS: dict[str, Check] = {
    "url_verification": _url_verification,
    "event_callback": _event_callback,
    "app_rate_limited": _anything,
    "block_actions": _block_actions,
    "block_suggestion": _block_suggestion,
    "view_submission": _view_payload,
    "view_closed": _view_payload,
    "shortcut": _callback,
    "message_action": _callback,
    "interactive_message": _callback,
    "dialog_submission": _callback,
    "dialog_cancellation": _callback,
    "dialog_suggestion": _callback,
    "workflow_step_edit": _callback,
}

# Where bolt reads ids from (`slack_bolt.request.internals`): each is absent, null, an id, or an object
# whose ids are strings.
_HOLDERS = ("team", "user", "enterprise", "channel")
_ID_FIELDS = ("team_id", "user_id", "enterprise_id", "channel_id", "context_team_id", "context_enterprise_id")


def _ids(body: Mapping[str, Any], where: str) -> Problem:
    for name in _HOLDERS:
        holder = body.get(name)
        if isinstance(holder, Mapping):
            problem = _texts(holder, "id", "team_id", "enterprise_id", where=f"{where} {name}")
            if problem is not None:
                return problem
        elif not isinstance(holder, str | None):
            return f"{where} {name} is neither an id nor an object"
    authorizations = body.get("authorizations")
    if authorizations is not None:
        if not isinstance(authorizations, list):
            return "authorizations is not a list"
        for authorization in authorizations:
            if not isinstance(authorization, Mapping):
                return "an authorization is not an object"
            problem = _texts(authorization, "team_id", "enterprise_id", "user_id", where="authorization")
            if problem is not None:
                return problem
    return (
        _texts(body, *_ID_FIELDS, "response_url", "thread_ts", where=where)
        or _objects(body, "event", "view", "item", "message", "previous_message", where=where)
        or _list_of_objects(body, "response_urls")
    )


def _required_text(body: Mapping[str, Any], *names: str, where: str) -> Problem:
    for name in names:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            return f"{where} without {name}"
    return None


def _texts(body: Mapping[str, Any], *names: str, where: str) -> Problem:
    for name in names:
        if not isinstance(body.get(name), str | None):
            return f"{where} {name} is not a string"
    return None


def _objects(body: Mapping[str, Any], *names: str, where: str) -> Problem:
    for name in names:
        if not isinstance(body.get(name), Mapping | None):
            return f"{where} {name} is not an object"
    return None


def _list_of_objects(body: Mapping[str, Any], name: str) -> Problem:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        return f"{name} is not a list of objects"
    if any(not isinstance(item.get("response_url"), str | None) for item in value):
        return f"{name} holds a response_url that is not a string"
    return None


def surface_of(body: Mapping[str, Any]) -> str:
    """Where a request comes from, for the log: `command:/plan`, `action:plan.share`, `view:upgrade.request`,
    `event:app_home_opened`…"""
    if "command" in body:
        return f"command:{body.get('command')}"
    kind = str(body.get("type") or "unknown")
    if kind == "event_callback":
        event = body.get("event")
        return f"event:{event.get('type') if isinstance(event, Mapping) else '?'}"
    if kind == "block_actions":
        actions = body.get("actions")
        first = (
            actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], Mapping) else {}
        )
        return f"action:{first.get('action_id', '?')}"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return f"view:{view.get('callback_id', '?') if isinstance(view, Mapping) else '?'}"
    if kind == "block_suggestion":
        return f"options:{body.get('action_id', '?')}"
    return kind


def surface_kind(body: Mapping[str, Any]) -> str:
    """`surface_of` without the element: `command:/plan`, `event:app_mention`, `block_actions`,
    `view_submission`… (a metric's label, whose values must stay few)."""
    if "command" in body or body.get("type") == "event_callback":
        return surface_of(body)
    return str(body.get("type") or "unknown")
