"""Writes run in one transaction; with an `Idempotency-Key` header a retry is answered, not re-applied.

For every POST/PUT the middleware:

1. with a key: answers a retry (same key, method, path, query string and body bytes) with the stored
   response, or 409 when the key was used for a different request;
2. runs the handler inside `Database.transaction()`, so every repository call it makes commits or
   rolls back together, and claims the key in that same transaction (2xx answers only: an error
   applied nothing, so retrying it is safe anyway);
3. after the commit, starts the work the handler left for then (`after_commit`): notices, hooks.

Two concurrent requests with one key: the second's claim fails on the key's unique constraint, its
transaction rolls back, and it replays the first one's response.
"""

from __future__ import annotations

import hashlib
import logging
import re

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.api.background import Work
from bot.api.body import raw_body
from bot.api.context import API
from bot.api.errors import ApiError, json_response
from store.clock import utcnow
from store.idempotency import IdempotencyRecord, KeyAlreadyClaimed

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[!-~]{1,255}$"
"""1 to 255 visible ASCII characters (a UUID is a good key)."""

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(KEY_PATTERN)
_AFTER_COMMIT = web.RequestKey("after_commit", list[tuple[str, Work]])


def after_commit(request: web.Request, name: str, work: Work) -> None:
    """Run `work` once the request's transaction has committed (best effort, failures logged)."""
    request[_AFTER_COMMIT].append((name, work))


def _key_of(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise ApiError(
            400, "bad_idempotency_key", f"{IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters."
        )
    return key


@web.middleware
async def unit_of_work_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in WRITE_METHODS:
        return await handler(request)
    api = request.app[API]
    store = api.services.store
    key = _key_of(request)
    record = None
    if key is not None:
        body = await raw_body(request)
        record = IdempotencyRecord(
            key=key,
            request=_printable(f"{request.method} {request.rel_url.raw_path_qs}")[:600],
            body_sha256=fingerprint(request, body),
            status=0,
            response="",
            created_at=utcnow(),
        )
        if (earlier := await store.idempotency.find(key)) is not None:
            return _replay(earlier, record)
    request[_AFTER_COMMIT] = []
    try:
        async with store.db.transaction():
            response = await handler(request)
            if record is not None and 200 <= response.status < 300:
                assert isinstance(response, web.Response)
                assert response.text is not None
                await store.idempotency.claim(
                    record.model_copy(update={"status": response.status, "response": response.text})
                )
    except KeyAlreadyClaimed:
        assert record is not None
        log.info(
            "%s %s: a concurrent request claimed key %r first; replaying it",
            request.method,
            request.path,
            key,
        )
        earlier = await store.idempotency.find(record.key)
        if earlier is None:  # claimed, then expired in the meantime: vanishingly rare
            raise ApiError(
                409, "conflict", "Another request with this Idempotency-Key is in progress."
            ) from None
        return _replay(earlier, record)
    log.info("ingest: %s %s → %d", request.method, request.path, response.status)
    for name, work in request[_AFTER_COMMIT]:
        api.background.spawn(name, work)
    return response


def fingerprint(request: web.Request, body: bytes) -> str:
    """What makes two requests the same request: method, path, query string and body (SHA-256, hex).

    Kept in the `body_sha256` column. The query string counts: `PUT /rates?label=…` with a CSV body
    takes its label from it, so another label is another request.
    """
    digest = hashlib.sha256()
    for part in (request.method, request.rel_url.raw_path, request.rel_url.raw_query_string):
        encoded = part.encode("utf-8", "surrogateescape")
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    digest.update(body)
    return digest.hexdigest()


def _printable(text: str) -> str:
    """The request line as it can be stored and shown: ASCII, control characters escaped."""
    return "".join(
        ch if " " <= ch <= "~" else ch.encode("unicode_escape", "backslashreplace").decode() for ch in text
    )


def _replay(earlier: IdempotencyRecord, now: IdempotencyRecord) -> web.Response:
    if (earlier.request, earlier.body_sha256) != (now.request, now.body_sha256):
        what = f"for {earlier.request}" if earlier.request != now.request else "with a different body"
        raise ApiError(
            409,
            "idempotency_key_reused",
            f"This {IDEMPOTENCY_HEADER} was already used {what}; use a new key for a new request.",
        )
    return json_response(earlier.status, earlier.response, headers={REPLAYED_HEADER: "true"})
