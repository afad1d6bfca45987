"""Reading a request body: JSON (or CSV where an endpoint takes it), at most `MAX_BODY_BYTES`, read once."""

from __future__ import annotations

from aiohttp import web

from bot.api.errors import ApiError

MAX_BODY_BYTES = 1024 * 1024
"""1 MiB: a batch of about 14,000 readings, or an account document many times over."""

BODY_LIMIT = "1 MiB"
JSON = "application/json"
CSV = "text/csv"
_BODY = web.RequestKey("body", bytes)
_CHUNK = 64 * 1024


async def read_body(request: web.Request, accept: tuple[str, ...] = (JSON,)) -> bytes:
    """The raw body of a request in one of the `accept`ed types; 415 for another type, 413 past the limit."""
    if _BODY in request:
        return request[_BODY]
    if request.content_type not in accept or (request.charset or "utf-8").lower() not in ("utf-8", "utf8"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Send the body as {' or '.join(accept)} (UTF-8); "
            f"got {request.headers.get('Content-Type') or 'no Content-Type'}.",
        )
    return await raw_body(request)


async def raw_body(request: web.Request) -> bytes:
    """The body's bytes, whatever its type (for hashing a retried request); 413 past the size limit."""
    if _BODY in request:
        return request[_BODY]
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
    request[_BODY] = bytes(body)
    return request[_BODY]


def _too_large() -> ApiError:
    return ApiError(413, "too_large", f"The body is larger than {BODY_LIMIT}; send smaller batches.")
