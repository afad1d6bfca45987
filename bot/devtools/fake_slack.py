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
* injects failures (``fail``: HTTP 429 + Retry-After, 5xx, ``ok: false`` errors, no answer at all, each
  optionally after the call took effect, as when Slack stores a message and still answers 500;
  ``fail_at_random``: the same at random, seeded), latency (``delay``), Slack's cap on history pages
  (``history_page``) and a per-token rate limit on a method (``limit_rate``);
* serves files users uploaded (``add_file``): ``files.info`` describes them and their download URL serves
  them to a bearer token (recorded as ``"file_download"``; without a token, Slack's sign-in page);
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
import math
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

from bot.devtools import blockkit
from bot.devtools.fake_calls import (
    DROP,
    HOLD_SECONDS,
    TIMEOUT,
    Answer,
    Fault,
    Lost,
    RandomFaults,
    RecordedCall,
)
from bot.devtools.fake_web_api import TOKEN_LIFETIME_SECONDS, FakeWebApi, extract_token, read_params
from bot.devtools.signing import APP_ID

__all__ = [
    "DROP",
    "FILE_DOWNLOAD_METHOD",
    "FILE_UPLOAD_METHOD",
    "RESPONSE_URL_METHOD",
    "SOCKET_ACK",
    "SOCKET_CONNECT",
    "SOCKET_PING",
    "TIMEOUT",
    "TOKEN_LIFETIME_SECONDS",
    "FakeSlack",
    "Fault",
    "RecordedCall",
]

RESPONSE_URL_METHOD = "response_url"
FILE_UPLOAD_METHOD = "file_upload"
FILE_DOWNLOAD_METHOD = "file_download"
SOCKET_CONNECT = "socket.connect"
SOCKET_PING = "socket.ping"
SOCKET_ACK = "socket.ack"
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

        self.history_page: int | None = None
        """Slack's cap on a conversations.history page (15 for apps outside the Marketplace since May
        2025); None answers as many as asked for."""

        self._failures: dict[str, deque[Fault]] = {}
        self._random_faults: dict[str, RandomFaults] = {}
        self._rate_limits: dict[str, float] = {}
        self._last_answered: dict[tuple[str, str | None], float] = {}
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
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._handle_download)
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
        status: int | Lost = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        stored: bool = False,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail.

        ``status=429``: rate limited (Retry-After header, default 1s; error "ratelimited").
        ``status>=500``: server error. ``status=200``: ``{"ok": false, "error": error}`` (error required).
        ``status=TIMEOUT``: no answer until the caller gives up. ``status=DROP``: the connection is closed
        without an answer. ``stored=True``: the call takes effect first (Slack stored the message, then
        answered 500, timed out or dropped the connection).
        Works for Web API methods, ``"response_url"``, ``"file_upload"`` and ``"file_download"``.
        """
        fault = Fault(status, error, retry_after, stored)
        self._failures.setdefault(method, deque()).extend(fault for _ in range(times))

    def fail_at_random(self, method: str, faults: Mapping[Fault, float], *, seed: int = 0) -> None:
        """Fail each call to ``method`` (those ``fail`` did not queue a failure for) with each of ``faults``
        at its chance (0…1; they add up to at most 1), drawn from a generator seeded with ``seed``. An empty
        mapping stops it."""
        if sum(faults.values()) > 1 or any(chance < 0 for chance in faults.values()):
            raise ValueError("chances are from 0 to 1 and add up to at most 1")
        if not faults:
            self._random_faults.pop(method, None)
            return
        self._random_faults[method] = RandomFaults(list(faults.items()), random.Random(seed))

    def limit_rate(self, method: str, every: float) -> None:
        """Answer ``method`` at most once per ``every`` seconds per token, as Slack's rate limits do (for
        conversations.history: once a minute outside the Marketplace); sooner calls get 429 with the
        seconds left as Retry-After. 0 removes the limit."""
        if every > 0:
            self._rate_limits[method] = every
        else:
            self._rate_limits.pop(method, None)

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
        timeout: float = 15.0,  # noqa: ASYNC109 - generous for a loaded 2-core CI machine; a pass never waits it out
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
        await self._record(SOCKET_CONNECT, {}, None, request, Answer(200, {"ok": True}, {}))
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
                    await self._record(SOCKET_PING, {}, None, request, Answer(200, {"ok": True}, {}))
                elif message.type == WSMsgType.TEXT:
                    ack = json.loads(message.data)
                    await self._record(
                        SOCKET_ACK, ack if isinstance(ack, dict) else {}, None, request, Answer(200, {}, {})
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
        answer = self._answer(method, params, token, errors, error_code=code)
        await self._record(method, params, token, request, answer)
        if answer.lost is not None:
            return await self._lose(request, answer.lost)
        await self._sleep_if_delayed(method)
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)

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
        if request.path not in self._response_paths:
            answer = Answer(404, {"ok": False, "error": "no_active_hooks"}, {})
        else:
            if self.check_block_kit:
                errors += blockkit.validate_message(params, where=RESPONSE_URL_METHOD)
            answer = self._answer(RESPONSE_URL_METHOD, params, None, errors)
        await self._record(RESPONSE_URL_METHOD, params, None, request, answer)
        if answer.lost is not None:
            return await self._lose(request, answer.lost)
        await self._sleep_if_delayed(RESPONSE_URL_METHOD)
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)

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
        answer = self._answer(FILE_UPLOAD_METHOD, params, None, [])
        if file_id not in self._files and (answer.status == 200 or answer.stored):
            answer = Answer(404, {"ok": False, "error": "file_not_found"}, {})
        if answer.status == 200 or answer.stored:
            self.uploads[file_id] = data
        await self._record(FILE_UPLOAD_METHOD, params, None, request, answer)
        if answer.lost is not None:
            return await self._lose(request, answer.lost)
        await self._sleep_if_delayed(FILE_UPLOAD_METHOD)
        if answer.status == 200:  # Slack's upload endpoint answers in plain text
            return web.Response(text=f"OK - {len(data)}", content_type="text/plain", headers=answer.headers)
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        """A file's ``url_private_download``: its content for a bearer token; as at Slack, a request without
        one gets the sign-in page (HTML, status 200), not an error."""
        file_id = request.match_info["team_file"].rpartition("-")[2]
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        params: dict[str, Any] = {"file_id": file_id}
        answer = self._answer(FILE_DOWNLOAD_METHOD, params, token or None, [])
        await self._record(FILE_DOWNLOAD_METHOD, params, token or None, request, answer)
        if answer.lost is not None:
            return await self._lose(request, answer.lost)
        await self._sleep_if_delayed(FILE_DOWNLOAD_METHOD)
        if answer.status != 200:
            return web.json_response(answer.body, status=answer.status, headers=answer.headers)
        file = self._shared_files.get(file_id)
        if file is None:
            return web.Response(status=404, text="file not found")
        if scheme.lower() != "bearer" or not token.strip():
            return web.Response(text="<html><body>Sign in to Slack</body></html>", content_type="text/html")
        return web.Response(body=self.uploads.get(file_id, b""), content_type=str(file["mimetype"]))

    async def _record(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        request: web.Request,
        answer: Answer,
    ) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        call = RecordedCall(
            method,
            params,
            token,
            str(request.url),
            time.time(),
            answer.status,
            answer.body,
            tuple(peer[:2]) if peer else None,
            answer.stored,
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        for listener in self._listeners:
            listener(call)

    async def _lose(self, request: web.Request, lost: Lost) -> web.StreamResponse:
        """No answer: hold the request until the caller gives up (TIMEOUT), or close its connection (DROP)."""
        if lost == TIMEOUT:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), HOLD_SECONDS)
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)  # never sent: the connection is gone

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
    ) -> Answer:
        """The answer to a call: an injected failure (after the call took effect, for a stored one), a rate
        limit, a validation error, or success."""
        self.validation_errors.extend(errors)
        fault = self._fault(method)
        if fault is None:
            fault = self._rate_limited(method, token)
        if fault is not None:
            stored = fault.stored and not errors
            if stored:
                self._answer_method(method, self._as_slack_would(method, params), token)
            status, body, headers = fault.answer()
            return Answer(status, body, headers, fault.lost, stored)
        if errors:
            body = {
                "ok": False,
                "error": error_code,
                "errors": errors,
                "response_metadata": {"messages": [f"[ERROR] {error}" for error in errors]},
            }
            return Answer(200, body, {})
        return Answer(200, self._answer_method(method, self._as_slack_would(method, params), token), {})

    def _fault(self, method: str) -> Fault | None:
        queue = self._failures.get(method)
        if queue:
            return queue.popleft()
        chosen = self._random_faults.get(method)
        return chosen.draw() if chosen is not None else None

    def _rate_limited(self, method: str, token: str | None) -> Fault | None:
        every = self._rate_limits.get(method)
        if every is None:
            return None
        now = time.monotonic()
        last = self._last_answered.get((method, token))
        if last is not None and now - last < every:
            return Fault(429, retry_after=max(math.ceil(every - (now - last)), 1))
        self._last_answered[(method, token)] = now
        return None

    def _as_slack_would(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The arguments as Slack reads them: a history page no longer than ``history_page``."""
        if method != "conversations.history" or self.history_page is None:
            return params
        asked = int(params.get("limit") or self.history_page)
        return {**params, "limit": min(asked, self.history_page)}
