"""Drives the ingest API as the billing platform would: JSON over HTTP with the bearer token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from multidict import CIMultiDictProxy

from tests.conftest import INGEST_TOKEN

BASE = "/api/v1"


@dataclass
class ApiReply:
    status: int
    body: Any
    headers: CIMultiDictProxy[str]

    @property
    def fields(self) -> dict[str, str]:
        """A 422's invalid fields, field → message."""
        return {error["field"]: error["message"] for error in self.body["errors"]}


class IngestApi:
    def __init__(self, http: TestClient) -> None:  # type: ignore[type-arg]
        self.http = http

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = INGEST_TOKEN,
        key: str | None = None,
    ) -> ApiReply:
        sent = {"Content-Type": "application/json"} if json_body is not None else {}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if key is not None:
            sent["Idempotency-Key"] = key
        sent.update(headers or {})
        if json_body is not None:
            data = json.dumps(json_body)
        response = await self.http.request(method, BASE + path, data=data, headers=sent)
        text = await response.text()
        body = json.loads(text) if response.content_type == "application/json" else text
        return ApiReply(response.status, body, response.headers)

    async def get_account(self, account_id: str) -> ApiReply:
        return await self.call("GET", f"/accounts/{account_id}")

    async def put_account(self, account_id: str, doc: Any, **kwargs: Any) -> ApiReply:
        return await self.call("PUT", f"/accounts/{account_id}", json_body=doc, **kwargs)

    async def post_usage(self, account_id: str, *readings: dict[str, Any], **kwargs: Any) -> ApiReply:
        return await self.call(
            "POST", f"/accounts/{account_id}/usage", json_body={"readings": list(readings)}, **kwargs
        )

    async def put_feature(
        self, account_id: str, feature: str, change: dict[str, Any], **kwargs: Any
    ) -> ApiReply:
        return await self.call(
            "PUT", f"/accounts/{account_id}/features/{feature}", json_body=change, **kwargs
        )

    async def post_link(self, account_id: str, link: dict[str, Any], **kwargs: Any) -> ApiReply:
        return await self.call("POST", f"/accounts/{account_id}/links", json_body=link, **kwargs)


def reading(meter: str, used: int | str, at: str) -> dict[str, Any]:
    return {"meter": meter, "used": used, "at": at}
