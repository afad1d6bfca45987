"""Counted (`myplan_ingest_requests_total`, by endpoint and status), and the log context of an ingest API
request: its id (the caller's `X-Request-Id` when it sends a sane one,
else a new one, answered in `X-Request-Id`), the account in its path and its endpoint."""

from __future__ import annotations

import re
import uuid
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.core import log_context, metrics
from bot.core.bounds import ACCOUNT_ID_PATTERN

REQUEST_ID_HEADER: Final = "X-Request-Id"
_SANE_ID: Final = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ACCOUNT_ID: Final = re.compile(ACCOUNT_ID_PATTERN)


@web.middleware
async def request_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = sent if _SANE_ID.match(sent) else uuid.uuid4().hex
    route = request.match_info.route.resource
    account = request.match_info.get("account_id", "")
    log_context.bind(
        request_id=request_id,
        account=account if _ACCOUNT_ID.match(account) else None,  # a hostile id is not repeated
        surface=f"api:{request.method} {route.canonical if route is not None else request.path}",
    )
    response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = request_id
    endpoint = f"{request.method} {route.canonical}" if route is not None else "unknown"
    metrics.INGEST_REQUESTS.labels(endpoint, str(response.status)).inc()
    return response
