"""Bearer-token authentication of the ingest API (`Authorization: Bearer <INGEST_TOKEN>`)."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.api.context import API, API_PREFIX, OPENAPI_PATH
from bot.api.errors import ApiError

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({API_PREFIX + OPENAPI_PATH})
"""The OpenAPI document describes the API and holds no data, so it is served without a token."""

_CHALLENGE = 'Bearer realm="myplan-ingest"'


def bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    expected = request.app[API].services.settings.ingest_token
    if expected is None:
        log.warning("ingest API refused %s %s: INGEST_TOKEN is not set", request.method, request.path)
        raise ApiError(
            503, "not_configured", "The ingest API is not configured on this server (no token set)."
        )
    given = bearer_token(request)
    if given is None:
        raise ApiError(
            401,
            "unauthorized",
            "Send Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    if not _matches(given, expected.get_secret_value()):
        raise ApiError(
            401,
            "unauthorized",
            "The bearer token is not valid.",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )
    return await handler(request)


def _matches(given: str, expected: str) -> bool:
    """Compared in constant time, so the comparison does not reveal how much of a guess was right.

    Header values arrive decoded with `surrogateescape`, so a token that is not ASCII (or not even UTF-8)
    is turned back into its bytes rather than failing to encode: it is simply not the token.
    """
    try:
        given_bytes = given.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that did not come from decoding: not a token anyone sent
        return False
    return hmac.compare_digest(given_bytes, expected.encode("utf-8"))
