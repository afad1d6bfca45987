"""API errors: one JSON shape for every 4xx/5xx, and the middleware that renders them.

    {"error": "invalid", "message": "2 fields are invalid", "errors": [{"field": "readings.0.at", "message": "…"}]}

Bad input never produces a 500: anything unexpected is logged with its traceback and answered with a
plain 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from bot.api.models import ErrorBody, FieldError
from store.errors import NotFound, StoreUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class ApiError(Exception):
    """An answer other than success: an HTTP status, a stable error code, and what to fix."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorBody(error=code, message=message, errors=list(errors))
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return json_response(self.status, self.body.model_dump_json(), headers=self.headers)


def json_response(status: int, body: str, *, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


MAX_LISTED: Final = 100
"""Problems an answer lists: a body can hold hundreds of thousands (a CSV of bad lines), and an answer
that lists them all runs to tens of megabytes; the first hundred say what to fix."""


def invalid(errors: Sequence[FieldError]) -> ApiError:
    count = len(errors)
    message = "1 field is invalid" if count == 1 else f"{count:,} fields are invalid"
    if count > MAX_LISTED:
        message += f"; the first {MAX_LISTED} are listed"
    return ApiError(422, "invalid", message, errors=errors[:MAX_LISTED])


def field_name(loc: Iterable[int | str], prefix: Sequence[int | str] = ()) -> str:
    """`("readings", 0, "at")` → `readings.0.at`; the body itself is `body`."""
    parts = [str(part) for part in (*prefix, *loc)]
    return ".".join(parts) if parts else "body"


def from_validation_error(error: ValidationError, *, prefix: Sequence[int | str] = ()) -> ApiError:
    """400 for JSON that does not parse, else 422 listing every invalid field."""
    details = error.errors(include_url=False, include_input=False)
    if any(detail["type"] == "json_invalid" for detail in details):
        reason = next(d["msg"] for d in details if d["type"] == "json_invalid")
        return ApiError(400, "malformed_json", f"The body is not valid JSON ({reason}).")
    return invalid(
        [
            FieldError(field=field_name(detail["loc"], prefix), message=_message(detail["msg"]))
            for detail in details
        ]
    )


def _message(message: str) -> str:
    """Pydantic prefixes the messages of custom checks with their exception type; people need not see it."""
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return error.response()
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = _HTTP_CODES.get(error.status, "http_error")
        headers = {k: v for k, v in error.headers.items() if k.lower() in ("allow", "retry-after")}
        return ApiError(error.status, code, _explain(request, error), headers=headers).response()
    except NotFound as error:
        return ApiError(404, "not_found", f"No such {error}.").response()
    except StoreUnavailable as error:
        log.warning("ingest API: database unavailable: %s", error)
        return ApiError(
            503,
            "unavailable",
            "The database is unavailable right now; retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ).response()
    except Exception:
        log.exception("ingest API: unhandled error in %s %s", request.method, request.path)
        return ApiError(500, "internal", "Something went wrong on our side; it has been logged.").response()


def _explain(request: web.Request, error: web.HTTPException) -> str:
    if error.status == 404:
        return f"No such endpoint: {request.method} {request.path} (the OpenAPI document lists them all)."
    if error.status == 405:
        allowed = ", ".join(sorted(error.headers.get("Allow", "").split(",")))
        return f"{request.method} is not allowed on {request.path}; use {allowed}."
    return error.reason


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.")
