"""The OpenAPI 3.1 document, generated from the endpoint declarations and their pydantic models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.api.body import BODY_LIMIT, CSV, JSON
from bot.api.endpoints import Endpoint
from bot.api.idempotency import IDEMPOTENCY_HEADER, KEY_PATTERN
from bot.api.models import ErrorBody
from store.idempotency import KEY_LIFETIME

API_VERSION = "1.0.0"
KEY_LIFETIME_HOURS = int(KEY_LIFETIME.total_seconds() // 3600)
REF_TEMPLATE = "#/components/schemas/{model}"

DESCRIPTION = f"""\
The billing platform pushes plans, usage readings, feature status changes and workspace links to
My Plan for Slack.

* **Authentication**: `Authorization: Bearer <INGEST_TOKEN>`. Without a configured token the API
  answers 503.
* **Idempotency**: send an `{IDEMPOTENCY_HEADER}` header (a UUID, say) with a POST or PUT, and a
  retry with the same key and body gets the same response, applied once (with the header
  `Idempotent-Replayed: true`); the same key with another body or path is a 409. Keys are kept
  for {KEY_LIFETIME_HOURS} hours; only successful responses are kept.
* **Bodies** are `{JSON}` (the rate table may also be sent as `{CSV}`), at most {BODY_LIMIT}.
* **Amounts** (fees, rates, minutes, GB) are exact decimals with at most 4 decimal places: send them
  as strings (`"1299.00"`) or numbers; they are always returned as strings. Each has a maximum:
  rates (USD per minute or message) under 1,000, fees (USD a month) under 10,000,000, minutes and GB
  under 10,000,000,000; counts fit 32 bits.
* **Times** carry their UTC offset (`2026-11-27T10:00:00Z`), are not before 2000 and not more than
  5 minutes ahead of the server's clock (an unset time, `0001-01-01T00:00:00Z`, is refused); **dates**
  are from 2000-01-01 to 2099-12-31.
* **Text** is one line without control characters (no NUL), within each field's `maxLength`.
* Values are taken as the document types them: `false` is not a count, `"12"` is not an integer.
* **Errors** have one shape, `{{"error": code, "message": text, "errors": [{{"field", "message"}}]}}`;
  `errors` lists every invalid field of a 422.
"""

_ERRORS: dict[int, str] = {
    400: "Malformed JSON, or a malformed Idempotency-Key",
    401: "Missing or wrong bearer token",
    404: "No such account (or feature)",
    409: "The Idempotency-Key was used for another request, or the workspace is linked elsewhere",
    413: f"The body is larger than {BODY_LIMIT}",
    415: f"The body is not {JSON}",
    422: "Invalid fields (out of bounds, say); `errors` lists them all",
    503: "The API is not configured (no INGEST_TOKEN), or the database is unavailable",
}


def openapi_document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    refs, defs = _schemas(endpoints)
    components = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        path_params = _path_parameters(endpoint.params, components)
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, refs, path_params)
    for endpoint in endpoints:  # parameters are inlined into each operation
        components.pop(endpoint.params.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "My Plan for Slack: ingest API",
            "version": API_VERSION,
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


Key = tuple[type[BaseModel], JsonSchemaMode]
Refs = dict[Any, dict[str, Any]]


def _schemas(endpoints: Sequence[Endpoint]) -> tuple[Refs, dict[str, Any]]:
    """Request models in validation mode, responses in serialization mode (amounts differ: number or
    string in, string out)."""
    wanted: list[Key] = [(ErrorBody, "serialization")]
    for endpoint in endpoints:
        wanted.append((endpoint.params, "validation"))
        if endpoint.body is not None:
            wanted.append((endpoint.body, "validation"))
        wanted.extend((model, "serialization") for model, _ in endpoint.replies.values())
    unique = list(dict.fromkeys(wanted))
    refs, defs = models_json_schema(unique, ref_template=REF_TEMPLATE)
    return dict(refs), dict(defs)


def _path_parameters(params: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = components.get(params.__name__, {})
    result = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        examples = prop.pop("examples", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": prop}
        if description:
            parameter["description"] = description
        if examples:
            parameter["example"] = examples[0]
        result.append(parameter)
    return result


def _operation(endpoint: Endpoint, refs: Refs, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.handler.__name__,
        "summary": endpoint.summary,
        "description": endpoint.description,
        "parameters": list(path_params),
    }
    if endpoint.writes:
        operation["parameters"].append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Makes a retry safe: the same key and body get the same response, applied once.",
                "schema": {"type": "string", "pattern": KEY_PATTERN},
            }
        )
    if endpoint.body is not None:
        content: dict[str, Any] = {"schema": refs[(endpoint.body, "validation")]}
        if endpoint.body_example is not None:
            content["example"] = endpoint.body_example
        operation["requestBody"] = {"required": True, "content": {JSON: content}}
        if endpoint.csv_body is not None:
            operation["requestBody"]["content"][CSV] = {"schema": {"type": "string", "format": "csv"}}
    responses: dict[str, Any] = {
        str(status): {
            "description": description,
            "content": {JSON: {"schema": refs[(model, "serialization")]}},
        }
        for status, (model, description) in sorted(endpoint.replies.items())
    }
    for status in _error_statuses(endpoint):
        responses[str(status)] = {
            "description": _ERRORS[status],
            "content": {JSON: {"schema": refs[(ErrorBody, "serialization")]}},
        }
    operation["responses"] = responses
    return operation


def _error_statuses(endpoint: Endpoint) -> list[int]:
    statuses = {401, 422, 503}
    if endpoint.writes:
        statuses |= {400, 409}
    if endpoint.body is not None:
        statuses |= {400, 413, 415}
    if endpoint.not_found:
        statuses.add(404)
    return sorted(statuses)
