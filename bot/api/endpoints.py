"""Declaring an endpoint: its path, pydantic models for parameters, body and answers, and its handler.

    @endpoints.route(
        "PUT", "/rates", summary="Replace the rate table", not_found=False,
        body=RateTableIn, replies={200: (RateTableOut, "The table as stored")},
    )
    async def put_rates(call: ApiCall[NoParams, RateTableIn]) -> Reply:
        ...
        return Reply(200, RateTableOut(...))

The wrapper validates path parameters and the JSON body (400/415/413/422), so a handler only sees
valid input; the middlewares around it add authentication, the transaction and idempotency; the
OpenAPI document is generated from the same declarations.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.api.background import Work
from bot.api.body import CSV, JSON, read_body
from bot.api.context import API, ApiContext
from bot.api.errors import ApiError, from_validation_error, json_response
from bot.api.idempotency import WRITE_METHODS, after_commit
from bot.core import bounds

P = TypeVar("P", bound=BaseModel)
B = TypeVar("B", bound=BaseModel | None)


class NoParams(BaseModel):
    """An endpoint without path parameters."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: BaseModel


@dataclass(frozen=True)
class ApiCall(Generic[P, B]):
    """One validated request, as a handler sees it."""

    request: web.Request
    api: ApiContext
    params: P
    body: B

    def after_commit(self, name: str, work: Work) -> None:
        """Run `work` in the background once the change is committed (Slack notices, hooks)."""
        after_commit(self.request, name, work)

    def usage_changed(self, account_id: str) -> None:
        """Tell the usage hook (quota alerts), after the commit, that the account's usage figures changed."""
        if (hook := self.api.on_usage) is not None:
            self.after_commit(f"usage hook for {account_id}", lambda: hook(account_id))

    def spike_alerts_changed(self, account_id: str) -> None:
        """Tell the spike hook, after the commit, that the account's spike alerts changed (new ones to post,
        a block's state for their messages to show)."""
        if (hook := self.api.on_spikes) is not None:
            self.after_commit(f"spike alerts for {account_id}", lambda: hook(account_id))


Handler = Callable[[ApiCall[Any, Any]], Awaitable[Reply]]
CsvParser = Callable[[str, web.Request], BaseModel]
"""Turns a `text/csv` body (with the request, for query parameters) into the endpoint's body model."""


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    description: str
    handler: Handler
    params: type[BaseModel]
    body: type[BaseModel] | None
    replies: Mapping[int, tuple[type[BaseModel], str]]
    not_found: bool
    body_example: Any = None
    csv_body: CsvParser | None = None

    @property
    def accepts(self) -> tuple[str, ...]:
        return (JSON, CSV) if self.csv_body is not None else (JSON,)

    @property
    def writes(self) -> bool:
        return self.method in WRITE_METHODS


@dataclass
class Endpoints:
    """The API's endpoints, in declaration order (the OpenAPI document lists them so)."""

    all: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        replies: Mapping[int, tuple[type[BaseModel], str]],
        params: type[BaseModel] = NoParams,
        body: type[BaseModel] | None = None,
        not_found: bool = True,
        description: str = "",
        body_example: Any = None,
        csv_body: CsvParser | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare an endpoint; `not_found` documents a 404 (an unknown account, say); `csv_body` lets it
        take `text/csv` as well as JSON."""

        def register(handler: Handler) -> Handler:
            self.all.append(
                Endpoint(
                    method,
                    path,
                    summary,
                    description or inspect.cleandoc(handler.__doc__ or ""),
                    handler,
                    params,
                    body,
                    replies,
                    not_found,
                    body_example,
                    csv_body,
                )
            )
            return handler

        return register

    def mount(self, app: web.Application) -> None:
        for endpoint in self.all:
            app.router.add_route(endpoint.method, endpoint.path, _serve(endpoint))


def validation_context(request: web.Request) -> dict[str, Any]:
    """What bodies are validated with: "now" from the services' clock (tests inject one)."""
    return bounds.validation_context(request.app[API].services.clock())


def _serve(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        try:
            params = endpoint.params.model_validate(dict(request.match_info))
        except ValidationError as error:
            raise from_validation_error(error) from None
        body = await _read(endpoint, request) if endpoint.body is not None else None
        reply = await endpoint.handler(ApiCall(request, request.app[API], params, body))
        if reply.status not in endpoint.replies:
            raise ApiError(500, "internal", f"undocumented status {reply.status}")  # a bug: fail loudly
        return json_response(reply.status, reply.body.model_dump_json())

    serve.__name__ = endpoint.handler.__name__
    return serve


async def _read(endpoint: Endpoint, request: web.Request) -> BaseModel:
    """The body, validated against its bounds; "in the future" means ahead of the services' clock."""
    assert endpoint.body is not None
    raw = await read_body(request, endpoint.accepts)
    try:
        if request.content_type == CSV and endpoint.csv_body is not None:
            # In a thread: checking a 20,000-row file takes most of a second, which would hold every ack.
            return await asyncio.to_thread(endpoint.csv_body, raw.decode("utf-8"), request)
        return endpoint.body.model_validate_json(raw, strict=True, context=validation_context(request))
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_body", "The body is not valid UTF-8.") from None
    except ValidationError as error:
        raise from_validation_error(error) from None
