"""A fake Slack Web API served on loopback, for tests and ``myplan try``.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        await client.chat_postMessage(channel="C1", text="hi")
        call = await slack.wait_for("chat.postMessage")
        assert call.params["text"] == "hi"
        slack.assert_valid()

What it does:

* answers Web API methods the way Slack does (``{"ok": true, ...}`` with plausible fields; the answers
  and the workspace state behind them are in ``bot.devtools.fake_web_api``);
* records every request (Web API calls, ``response_url`` posts, file uploads) as a ``RecordedCall``;
* validates every message and view we send with slack_sdk's Block Kit models and Slack's limits
  (``bot.devtools.blockkit``): a violation is answered with ``{"ok": false, "error": "invalid_blocks"}``
  (HTTP 200, like Slack) and described in ``validation_errors``;
* injects failures (``fail``: HTTP 429 + Retry-After, 5xx, or ``ok: false`` errors) and latency (``delay``);
* plays Slack's side of an OAuth install (``oauth.v2.access`` exchanges a code, or a refresh token when
  token rotation is on: each refresh token works once, as at Slack);
* with ``socket_mode = True``, serves a Socket Mode WebSocket: ``socket_send`` pushes an envelope to the
  app, acks are recorded as ``"socket.ack"``, connections and pings as ``"socket.connect"``/``"socket.ping"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

from bot.devtools import blockkit
from bot.devtools.fake_web_api import TOKEN_LIFETIME_SECONDS, FakeWebApi, extract_token, read_params
from bot.devtools.signing import APP_ID

__all__ = [
    "FILE_UPLOAD_METHOD",
    "RESPONSE_URL_METHOD",
    "SOCKET_ACK",
    "SOCKET_CONNECT",
    "SOCKET_PING",
    "TOKEN_LIFETIME_SECONDS",
    "FakeSlack",
    "RecordedCall",
]

RESPONSE_URL_METHOD = "response_url"
FILE_UPLOAD_METHOD = "file_upload"
SOCKET_CONNECT = "socket.connect"
SOCKET_PING = "socket.ping"
SOCKET_ACK = "socket.ack"


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
# The fake
# --------------------------------------------------------------------------------------------------


class FakeSlack(FakeWebApi):
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
        super().__init__(team_id=team_id, team_name=team_name)
        self.check_block_kit = check_block_kit
        self.host = host
        self.port = port
        self._sockets: list[web.WebSocketResponse] = []
        # What happened.
        self.calls: list[RecordedCall] = []
        self.validation_errors: list[str] = []

        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._listeners: list[Callable[[RecordedCall], None]] = []
        self._response_paths: set[str] = set()
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
        params, parse_errors = await read_params(request)
        token = extract_token(request, params)
        argument_errors, content_errors = blockkit.validate_call(method, params, content=self.check_block_kit)
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
                errors += blockkit.validate_message(params, where=RESPONSE_URL_METHOD)
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
        return 200, self._answer_method(method, params, token), {}
