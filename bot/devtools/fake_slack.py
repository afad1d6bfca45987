"""A fake Slack Web API served on loopback, for tests and ``myplan try``.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        await client.chat_postMessage(channel="C1", text="hi")
        call = await slack.wait_for("chat.postMessage")
        assert call.params["text"] == "hi"
        slack.assert_valid()

What it does:

* answers Web API methods the way Slack does (``{"ok": true, ...}`` with plausible fields);
* records every request (Web API calls, ``response_url`` posts, file uploads) as a ``RecordedCall``;
* validates every message and view we send with slack_sdk's Block Kit models and Slack's limits:
  a violation is answered with ``{"ok": false, "error": "invalid_blocks"}`` (HTTP 200, like Slack)
  and described in ``validation_errors``;
* injects failures (``fail``: HTTP 429 + Retry-After, 5xx, or ``ok: false`` errors) and latency (``delay``);
* plays Slack's side of an OAuth install (``oauth.v2.access`` exchanges a code, or a refresh token when
  token rotation is on: each refresh token works once, as at Slack);
* with ``socket_mode = True``, serves a Socket Mode WebSocket: ``socket_send`` pushes an envelope to the
  app, acks are recorded as ``"socket.ack"``, connections and pings as ``"socket.connect"``/``"socket.ping"``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self

from aiohttp import WSMsgType, web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.devtools.signing import APP_ID, BOT_ID, BOT_USER_ID, DEFAULT_CHANNEL_ID

RESPONSE_URL_METHOD = "response_url"
FILE_UPLOAD_METHOD = "file_upload"
SOCKET_CONNECT = "socket.connect"
SOCKET_PING = "socket.ping"
SOCKET_ACK = "socket.ack"
TOKEN_LIFETIME_SECONDS = 12 * 3600  # rotating tokens, as at Slack

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_CHARS = 40_000
MAX_PRIVATE_METADATA_CHARS = 3000
MAX_CALLBACK_ID_CHARS = 255
MAX_VIEW_BUTTON_CHARS = 24  # title, submit and close of a view

# Form-encoded Web API params that carry JSON documents.
_JSON_PARAMS = frozenset({"blocks", "view", "attachments", "files", "metadata", "unfurls"})
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
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
}
_MODEL_ERRORS = (SlackObjectFormationError, KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True)
class RecordedCall:
    """One request received by the fake.

    ``method`` is the Web API method, ``"response_url"`` or ``"file_upload"``; ``params`` merges the
    query string and the JSON/form body (JSON-string ``blocks``/``view``/``attachments`` decoded,
    ``token`` removed); ``status``/``response`` are what the fake answered; ``peer`` is the caller's
    (host, port): calls over one kept-alive connection share it.
    """

    method: str
    params: dict[str, Any]
    token: str | None
    url: str
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    peer: tuple[str, int] | None = None

    @property
    def ok(self) -> bool:
        """True when the fake answered HTTP 200 with ``"ok": true``."""
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """The Slack ``error`` code the fake answered with, if any."""
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass(frozen=True)
class _Failure:
    status: int
    error: str | None
    retry_after: int | None


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


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


def _truthy(value: Any) -> bool:
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
    if _truthy(params.get("delete_original")):
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


def _validate_call(method: str, params: dict[str, Any], *, content: bool) -> tuple[list[str], list[str]]:
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


# --------------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------------


class FakeSlack:
    """Fake Slack Web API + response_url + file-upload endpoints on ``http://127.0.0.1:<port>/``."""

    def __init__(
        self,
        *,
        team_id: str = "T0DEMO",
        team_name: str = "Demo Team",
        host: str = "127.0.0.1",
        port: int = 0,
        check_block_kit: bool = True,
    ) -> None:
        """`check_block_kit=False` skips validating messages and views (bench/ does, so that the fake's own
        work, larger for larger payloads, does not weigh on the process that measures)."""
        self.check_block_kit = check_block_kit
        self.team_id = team_id
        self.team_name = team_name
        self.enterprise_id: str | None = None
        self.host = host
        self.port = port
        # Settable state that shapes answers.
        self.users: dict[str, dict[str, Any]] = {}
        """users.info: user id -> user object fields (merged over a plain non-admin UTC user)."""
        self.channels: dict[str, dict[str, Any]] = {}
        """conversations.info: channel id -> channel fields (merged over a plain public channel)."""
        self.auth_by_token: dict[str, dict[str, Any]] = {}
        """auth.test: token -> fields overriding the default bot identity (e.g. another team_id)."""
        self.oauth_response: dict[str, Any] | None = None
        """oauth.v2.access answer to a code; None means a plausible bot install into ``team_id``. The
        answer's access token is registered for auth.test (its ``team``), its ``refresh_token`` for refreshes."""
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        """Refresh tokens not yet used -> the team they refresh (``{"id": …, "name": …}``)."""
        self.socket_mode = False
        """When True, apps.connections.open answers with this fake's Socket Mode WebSocket URL."""
        self._sockets: list[web.WebSocketResponse] = []
        # What happened.
        self.calls: list[RecordedCall] = []
        self.validation_errors: list[str] = []
        self.uploads: dict[str, bytes] = {}
        self.views: dict[str, dict[str, Any]] = {}
        """Views as last opened/pushed/published/updated, by view id."""
        self.messages: dict[str, list[dict[str, Any]]] = {}
        """Messages posted with chat.postMessage, by channel, oldest first (chat.update edits them);
        conversations.history answers from here."""

        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._listeners: list[Callable[[RecordedCall], None]] = []
        self._counter = itertools.count(1)
        self._ts_counter = itertools.count(1)
        self._response_paths: set[str] = set()
        self._files: dict[str, dict[str, Any]] = {}
        self._home_view_ids: dict[str, str] = {}
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # ---------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            return
        # Fresh primitives, so a FakeSlack can be restarted on another event loop.
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{n}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/socket", self._handle_socket)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"http://{self.host}:{port}/"

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing.set()  # wakes up delayed requests
        await self.drop_sockets()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/`` (only once started)."""
        if self._base_url is None:
            raise RuntimeError("FakeSlack is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """Web API base URL, for ``AsyncWebClient(base_url=...)``; ends with ``/api/``."""
        return self.base_url + "api/"

    def new_response_url(self) -> str:
        """A fresh response_url; POSTs to it are recorded with method ``"response_url"``."""
        path = f"/response/{next(self._counter)}"
        self._response_paths.add(path)
        return self.base_url + path.lstrip("/")

    # ------------------------------------------------------------------------------ test controls

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail.

        ``status=429``: rate limited (Retry-After header, default 1s; error "ratelimited").
        ``status>=500``: server error. ``status=200``: ``{"ok": false, "error": error}`` (error required).
        Works for Web API methods, ``"response_url"`` and ``"file_upload"``.
        """
        if status == 200 and error is None:
            raise ValueError("fail(status=200) needs an error code, e.g. error='channel_not_found'")
        if status == 429 and retry_after is None:
            retry_after = 1
        queue = self._failures.setdefault(method, deque())
        queue.extend(_Failure(status, error, retry_after) for _ in range(times))

    def delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` only after ``seconds`` (0 removes the delay)."""
        if seconds > 0:
            self._delays[method] = seconds
        else:
            self._delays.pop(method, None)

    def add_listener(self, listener: Callable[[RecordedCall], None]) -> None:
        """Call ``listener(call)`` for every recorded call (e.g. to print a transcript)."""
        self._listeners.append(listener)

    def clear(self) -> None:
        """Forget recorded calls and validation errors (queued failures and delays are kept)."""
        self.calls.clear()
        self.validation_errors.clear()

    # ------------------------------------------------------------------------------- inspection

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        *,
        where: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the familiar test-helper signature; uses asyncio.timeout
        count: int = 1,
    ) -> RecordedCall:
        """Wait until ``count`` calls to ``method`` (matching ``where``) were recorded; return the last one.

        Calls recorded before this was called count too. Failed attempts count as well: filter them
        with ``where=lambda c: c.ok`` if needed.
        """

        def matching() -> list[RecordedCall]:
            return [call for call in self.calls_to(method) if where is None or where(call)]

        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(lambda: len(matching()) >= count)
            except TimeoutError:
                raise AssertionError(
                    self._timeout_message(method, where, timeout, count, matching())
                ) from None
            return matching()[count - 1]

    def _timeout_message(
        self,
        method: str,
        where: Callable[[RecordedCall], bool] | None,
        timeout: float,
        count: int,
        matched: list[RecordedCall],
    ) -> str:
        labels = [
            call.method if call.ok else f"{call.method} ({call.error or call.status})" for call in self.calls
        ]
        recorded = ", ".join(
            label if repeats == 1 else f"{label} x{repeats}"
            for label, repeats in ((label, len(list(group))) for label, group in itertools.groupby(labels))
        )
        condition = " matching `where`" if where is not None else ""
        message = (
            f"timed out after {timeout}s waiting for {count} call(s) to {method}{condition}; "
            f"got {len(matched)}. Recorded calls: {recorded or '(none)'}"
        )
        if self.validation_errors:
            message += "\nValidation errors (latest):\n  " + "\n  ".join(self.validation_errors[-10:])
        return message

    def assert_valid(self) -> None:
        """Raise AssertionError listing every Block Kit / message / view problem seen so far."""
        if self.validation_errors:
            raise AssertionError(
                f"{len(self.validation_errors)} invalid Slack payload(s):\n  "
                + "\n  ".join(self.validation_errors)
            )

    # ------------------------------------------------------------------------------ Socket Mode

    @property
    def socket_connected(self) -> bool:
        return any(not socket.closed for socket in self._sockets)

    async def socket_send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Push an envelope (``events_api``, ``slash_commands``, ``interactive``) to the connected app over
        the newest socket; returns its ``envelope_id`` (the app's ack is recorded as ``"socket.ack"``)."""
        open_sockets = [socket for socket in self._sockets if not socket.closed]
        if not open_sockets:
            raise RuntimeError("no Socket Mode connection")
        envelope_id = f"env-{next(self._counter)}"
        await open_sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": payload,
                "accepts_response_payload": envelope_type != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
            }
        )
        return envelope_id

    async def drop_sockets(self) -> None:
        """Close every Socket Mode connection from Slack's side (the app is expected to reconnect)."""
        for socket in list(self._sockets):
            await socket.close()

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse(autoping=False)
        await socket.prepare(request)
        self._sockets.append(socket)
        await self._record(SOCKET_CONNECT, {}, None, request, 200, {"ok": True})
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        try:
            async for message in socket:
                if message.type == WSMsgType.PING:
                    await socket.pong(message.data)
                    await self._record(SOCKET_PING, {}, None, request, 200, {"ok": True})
                elif message.type == WSMsgType.TEXT:
                    ack = json.loads(message.data)
                    await self._record(
                        SOCKET_ACK, ack if isinstance(ack, dict) else {}, None, request, 200, {}
                    )
        finally:
            self._sockets.remove(socket)
        return socket

    # --------------------------------------------------------------------------------- handlers

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, parse_errors = await _read_params(request)
        token = _extract_token(request, params)
        argument_errors, content_errors = _validate_call(method, params, content=self.check_block_kit)
        errors = parse_errors + argument_errors + content_errors
        # Slack answers invalid_blocks for bad Block Kit and invalid_arguments for the rest.
        code = "invalid_blocks" if content_errors or not errors else "invalid_arguments"
        status, body, headers = self._answer(method, params, token, errors, error_code=code)
        await self._record(method, params, token, request, status, body)
        await self._sleep_if_delayed(method)
        return web.json_response(body, status=status, headers=headers)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        params: dict[str, Any] = {}
        errors: list[str] = []
        try:
            data = await request.json()
        except ValueError as exc:
            errors.append(f"{RESPONSE_URL_METHOD}: body is not JSON ({exc})")
        else:
            if isinstance(data, dict):
                params = data
            else:
                errors.append(f"{RESPONSE_URL_METHOD}: body must be a JSON object")
        headers: dict[str, str] = {}
        if request.path not in self._response_paths:
            status, body = 404, {"ok": False, "error": "no_active_hooks"}
        else:
            if self.check_block_kit:
                errors += validate_message(params, where=RESPONSE_URL_METHOD)
            status, body, headers = self._answer(RESPONSE_URL_METHOD, params, None, errors)
        await self._record(RESPONSE_URL_METHOD, params, None, request, status, body)
        await self._sleep_if_delayed(RESPONSE_URL_METHOD)
        return web.json_response(body, status=status, headers=headers)

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        if request.content_type == "multipart/form-data":
            data = b""
            form = await request.post()
            for value in form.values():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    break
        else:
            data = await request.read()
        params: dict[str, Any] = {"file_id": file_id, "size": len(data)}
        status, body, headers = self._answer(FILE_UPLOAD_METHOD, params, None, [])
        if status == 200 and file_id not in self._files:
            status, body = 404, {"ok": False, "error": "file_not_found"}
        if status == 200:
            self.uploads[file_id] = data
        await self._record(FILE_UPLOAD_METHOD, params, None, request, status, body)
        await self._sleep_if_delayed(FILE_UPLOAD_METHOD)
        if status == 200:  # Slack's upload endpoint answers in plain text
            return web.Response(text=f"OK - {len(data)}", content_type="text/plain", headers=headers)
        return web.json_response(body, status=status, headers=headers)

    async def _record(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        request: web.Request,
        status: int,
        body: dict[str, Any],
    ) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        call = RecordedCall(
            method,
            params,
            token,
            str(request.url),
            time.time(),
            status,
            body,
            tuple(peer[:2]) if peer else None,
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        for listener in self._listeners:
            listener(call)

    async def _sleep_if_delayed(self, method: str) -> None:
        seconds = self._delays.get(method)
        if seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    def _answer(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        errors: list[str],
        *,
        error_code: str = "invalid_blocks",
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(HTTP status, JSON body, headers) for a call: injected failure, validation error, or success."""
        self.validation_errors.extend(errors)
        queue = self._failures.get(method)
        if queue:
            failure = queue.popleft()
            headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            if failure.status == 429:
                error = failure.error or "ratelimited"
            elif failure.status >= 500:
                error = failure.error or "internal_error"
            else:
                error = failure.error or "request_failed"
            return failure.status, {"ok": False, "error": error}, headers
        if errors:
            body = {
                "ok": False,
                "error": error_code,
                "errors": errors,
                "response_metadata": {"messages": [f"[ERROR] {error}" for error in errors]},
            }
            return 200, body, {}
        handler = self._method_handlers.get(method)
        return 200, handler(self, params, token) if handler else {"ok": True}, {}

    # ------------------------------------------------------------------------ method answers

    def _next_ts(self) -> str:
        seconds, micros = divmod(next(self._ts_counter) * 100, 1_000_000)
        return f"{1_700_000_000 + seconds}.{micros:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):010d}"

    @property
    def _domain(self) -> str:
        return f"team-{self.team_id.lower()}"

    @staticmethod
    def _channel_id(channel: Any) -> str:
        """Posting to a user id lands in the DM with that user."""
        channel_id = str(channel or "")
        return "D" + channel_id if channel_id[:1] in ("U", "W") else channel_id

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "text": params.get("text") or "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key) is not None:
                message[key] = params[key]
        return message

    def _auth_test(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "ok": True,
            "url": f"https://{self._domain}.slack.com/",
            "team": self.team_name,
            "user": "myplan",
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            answer["enterprise_id"] = self.enterprise_id
        answer.update(self.auth_by_token.get(token or "", {}))
        return answer

    def _chat_post_message(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        ts = self._next_ts()
        channel = self._channel_id(params.get("channel"))
        message = self._message(params, ts)
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        ts = str(params.get("ts"))
        channel = self._channel_id(params.get("channel"))
        message = self._message(params, ts)
        history = self.messages.get(channel, [])
        for index, posted in enumerate(history):
            if posted["ts"] == ts:
                history[index] = {**posted, **message}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": params.get("text") or "",
            "message": message,
        }

    def _conversations_history(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = self._channel_id(params.get("channel"))
        limit = int(params.get("limit") or 100)
        with_metadata = _truthy(params.get("include_all_metadata"))
        newest_first = list(reversed(self.messages.get(channel, [])))[:limit]
        messages = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in newest_first
        ]
        return {"ok": True, "messages": messages, "has_more": len(self.messages.get(channel, [])) > limit}

    def _chat_delete(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "channel": self._channel_id(params.get("channel")), "ts": params.get("ts")}

    def _chat_schedule_message(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {
            "ok": True,
            "channel": self._channel_id(params.get("channel")),
            "scheduled_message_id": self._next_id("Q"),
            "post_at": int(params.get("post_at") or 0),
            "message": self._message(params, ""),
        }

    def _chat_get_permalink(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = self._channel_id(params.get("channel"))
        ts = str(params.get("message_ts") or "").replace(".", "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{self._domain}.slack.com/archives/{channel}/p{ts}",
        }

    def _store_view(
        self,
        view: dict[str, Any],
        view_id: str,
        *,
        previous_view_id: str | None = None,
        root_view_id: str | None = None,
    ) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks") or [],
            "private_metadata": view.get("private_metadata") or "",
            "callback_id": view.get("callback_id") or "",
            "state": {"values": {}},
            "hash": f"1700000000.{next(self._counter):08d}",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": APP_ID,
            "external_id": view.get("external_id") or "",
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _views_publish(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = str(params.get("user_id"))
        view_id = self._home_view_ids.setdefault(user_id, self._next_id("V"))
        return self._store_view(params["view"], view_id)

    def _views_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return self._store_view(params["view"], self._next_id("V"))

    def _views_push(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return self._store_view(params["view"], self._next_id("V"))

    def _views_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        view_id = params.get("view_id")
        if not view_id:
            external_id = params.get("external_id")
            view_id = next((v["id"] for v in self.views.values() if v["external_id"] == external_id), None)
            if view_id is None:
                return {"ok": False, "error": "not_found"}
        previous = self.views.get(str(view_id), {})
        return self._store_view(
            params["view"],
            str(view_id),
            previous_view_id=previous.get("previous_view_id"),
            root_view_id=previous.get("root_view_id"),
        )

    def _conversations_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(str(user) for user in users)
        if users:
            channel_id = "D" + str(users).split(",")[0].strip()
        elif params.get("channel"):
            channel_id = str(params["channel"])
        else:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel_id}}

    def _conversations_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel_id = str(params.get("channel"))
        channel: dict[str, Any] = {
            "id": channel_id,
            "name": "general" if channel_id == DEFAULT_CHANNEL_ID else channel_id.lower(),
            "is_channel": channel_id.startswith("C"),
            "is_group": False,
            "is_im": channel_id.startswith("D"),
            "is_mpim": False,
            "is_private": channel_id.startswith("G"),
            "is_archived": False,
            "is_general": channel_id == DEFAULT_CHANNEL_ID,
            "is_member": True,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "created": 1_700_000_000,
        }
        if channel_id.startswith("D"):
            channel["user"] = channel_id[1:]
        channel.update(self.channels.get(channel_id, {}))
        return {"ok": True, "channel": channel}

    def _users_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = str(params.get("user"))
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "deleted": False,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "profile": {
                "real_name": f"User {user_id}",
                "display_name": user_id.lower(),
                "email": f"{user_id.lower()}@example.com",
                "team": self.team_id,
            },
        }
        if _truthy(params.get("include_locale")):
            user["locale"] = "en-US"
        user.update(self.users.get(user_id, {}))
        return {"ok": True, "user": user}

    def _files_get_upload_url(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        file_id = self._next_id("F")
        self._files[file_id] = {"name": params.get("filename"), "length": params.get("length")}
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list):
            return {"ok": False, "error": "invalid_arguments"}
        channel = params.get("channel_id")
        answered = []
        for item in files:
            file_id = str(item.get("id")) if isinstance(item, dict) else ""
            if file_id not in self._files:
                return {"ok": False, "error": "file_not_found"}
            name = self._files[file_id]["name"]
            answered.append(
                {
                    "id": file_id,
                    "name": name,
                    "title": item.get("title") or name,
                    "size": len(self.uploads.get(file_id, b"")),
                    "user": BOT_USER_ID,
                    "created": int(time.time()),
                    "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{file_id}/{name}",
                    "permalink": f"https://{self._domain}.slack.com/files/{BOT_USER_ID}/{file_id}/{name}",
                    "channels": [channel] if channel else [],
                }
            )
        return {"ok": True, "files": answered}

    def _oauth_v2_access(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if params.get("grant_type") == "refresh_token":
            return self._refresh(str(params.get("refresh_token") or ""))
        if self.oauth_response is not None:
            answer = {"ok": True, **self.oauth_response}
        else:
            answer = {
                "ok": True,
                "app_id": APP_ID,
                "authed_user": {"id": "U0INSTALLER"},
                "scope": "commands,chat:write,im:write,users:read",
                "token_type": "bot",
                "access_token": f"xoxb-{self.team_id}-fake",
                "bot_user_id": BOT_USER_ID,
                "team": {"id": self.team_id, "name": self.team_name},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        team = answer.get("team") or {"id": self.team_id, "name": self.team_name}
        if isinstance(answer.get("access_token"), str):
            self.auth_by_token.setdefault(
                answer["access_token"], {"team_id": team.get("id"), "team": team.get("name")}
            )
        if isinstance(answer.get("refresh_token"), str):
            self.refresh_tokens[answer["refresh_token"]] = team
        return answer

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        """A rotating token's refresh: a new access token and a new refresh token; the old one is spent."""
        team = self.refresh_tokens.pop(refresh_token, None)
        if team is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        serial = next(self._counter)
        access_token = f"xoxb-{team.get('id')}-refreshed-{serial}"
        new_refresh_token = f"xoxe-1-{team.get('id')}-{serial}"
        self.refresh_tokens[new_refresh_token] = team
        self.auth_by_token.setdefault(access_token, {"team_id": team.get("id"), "team": team.get("name")})
        return {
            "ok": True,
            "app_id": APP_ID,
            "token_type": "bot",
            "access_token": access_token,
            "refresh_token": new_refresh_token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "scope": "commands,chat:write,im:write,users:read",
            "bot_user_id": BOT_USER_ID,
            "team": team,
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not self.socket_mode:
            return {"ok": False, "error": "not_allowed"}
        return {"ok": True, "url": self.base_url.replace("http://", "ws://", 1) + "socket"}

    _method_handlers: ClassVar[
        dict[str, Callable[[FakeSlack, dict[str, Any], str | None], dict[str, Any]]]
    ] = {
        "auth.test": _auth_test,
        "chat.postMessage": _chat_post_message,
        "chat.postEphemeral": _chat_post_ephemeral,
        "chat.update": _chat_update,
        "chat.delete": _chat_delete,
        "chat.scheduleMessage": _chat_schedule_message,
        "chat.getPermalink": _chat_get_permalink,
        "views.publish": _views_publish,
        "views.open": _views_open,
        "views.push": _views_push,
        "views.update": _views_update,
        "conversations.open": _conversations_open,
        "conversations.info": _conversations_info,
        "conversations.history": _conversations_history,
        "users.info": _users_info,
        "files.getUploadURLExternal": _files_get_upload_url,
        "files.completeUploadExternal": _files_complete_upload,
        "oauth.v2.access": _oauth_v2_access,
        "apps.connections.open": _apps_connections_open,
    }


# --------------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------------


async def _read_params(request: web.Request) -> tuple[dict[str, Any], list[str]]:
    """Merge query string and JSON/form body; decode JSON-string params. Returns (params, errors)."""
    method = request.match_info.get("method", "?")
    params: dict[str, Any] = dict(request.query)
    errors: list[str] = []
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                data = await request.json()
            except ValueError as exc:
                errors.append(f"{method}: body is not valid JSON ({exc})")
            else:
                if isinstance(data, dict):
                    params.update(data)
                else:
                    errors.append(f"{method}: JSON body must be an object")
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                params[key] = value.file.read() if isinstance(value, web.FileField) else value
    for key in _JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                errors.append(f"{method}: {key} is not valid JSON")
    return params, errors


def _extract_token(request: web.Request, params: dict[str, Any]) -> str | None:
    """Bearer token (or ``token`` param, removed from params); Basic auth fills client_id/secret."""
    param_token = params.pop("token", None)
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    if scheme.lower() == "basic" and credentials:
        with contextlib.suppress(binascii.Error, UnicodeDecodeError):
            client_id, _, client_secret = base64.b64decode(credentials).decode().partition(":")
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", client_secret)
    return str(param_token) if param_token is not None else None
