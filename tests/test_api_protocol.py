"""The ingest API's protocol: authentication, every error class, idempotent retries, the usage hook."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.api.body import MAX_BODY_BYTES
from bot.api.examples import rate_table_example
from bot.app import create_app
from bot.demo import DEMO_ACCOUNT, demo_document
from bot.devtools.fake_slack import FakeSlack
from bot.server import create_web_app
from bot.settings import Settings
from handlers.services import Services
from store import Store
from store.clock import utcnow
from store.idempotency import KEY_LIFETIME, IdempotencyRecord
from store.tables import IdempotencyKeyRow
from tests.conftest import INGEST_TOKEN
from tests.support.apiclient import BASE, IngestApi, reading
from tests.support.clock import DEMO_NOW

pytestmark = pytest.mark.usefixtures("demo")

AT = "2026-11-20T10:00:00Z"
ACCOUNT = demo_document(DEMO_NOW).model_dump(mode="json")
USAGE = {"readings": [reading("voice_minutes", 4100, AT)]}
WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("PUT", f"/accounts/{DEMO_ACCOUNT}", ACCOUNT),
    ("POST", f"/accounts/{DEMO_ACCOUNT}/usage", USAGE),
    ("PUT", f"/accounts/{DEMO_ACCOUNT}/features/omnichannels", {"status": "available"}),
    ("POST", f"/accounts/{DEMO_ACCOUNT}/links", {"team_id": "T0NEW"}),
    ("PUT", "/rates", rate_table_example()),
]
EVERY_ENDPOINT = [*WRITES, ("GET", f"/accounts/{DEMO_ACCOUNT}", {})]
# Calls naming an existing account other than by creating it (an unknown one is a 404).
NOT_UPSERT = [
    call
    for call in EVERY_ENDPOINT
    if call[1].startswith("/accounts/") and call[:2] != ("PUT", f"/accounts/{DEMO_ACCOUNT}")
]


def ids(calls: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [f"{method} {path}" for method, path, _ in calls]


@pytest.fixture
def api(http: TestClient) -> IngestApi:  # type: ignore[type-arg]
    return IngestApi(http)


async def send(api: IngestApi, method: str, path: str, body: dict[str, Any], **kwargs: Any) -> Any:
    return await api.call(method, path, json_body=body if method != "GET" else None, **kwargs)


async def readings_stored(store: Store) -> int:
    """Voice readings stored after the sample data's own."""
    return len(await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW))


# --- authentication -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), EVERY_ENDPOINT, ids=ids(EVERY_ENDPOINT))
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {INGEST_TOKEN}", "Bearer"], ids=str
)
async def test_every_endpoint_needs_the_token(
    api: IngestApi, store: Store, method: str, path: str, body: dict[str, Any], authorization: str | None
) -> None:
    before = await store.accounts.document(DEMO_ACCOUNT)
    headers = {"Authorization": authorization} if authorization else {}
    refused = await send(api, method, path, body, token=None, headers=headers)
    assert refused.status == 401
    assert refused.body["error"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert await store.accounts.document(DEMO_ACCOUNT) == before
    assert await store.workspaces.account_for_team("T0NEW") is None


@pytest.mark.parametrize(
    "token", ["tökén", "\u2603" * 40, INGEST_TOKEN + "é"], ids=["accents", "snowmen", "suffix"]
)
async def test_a_token_that_is_not_ascii_is_401_not_500(api: IngestApi, token: str) -> None:
    refused = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, AT), token=token)
    assert refused.status == 401
    assert refused.body["error"] == "unauthorized"


async def test_a_token_that_is_not_even_utf8_is_401_not_500(http: TestClient) -> None:  # type: ignore[type-arg]
    """Header bytes that are not UTF-8 reach the server as lone surrogates (aiohttp's surrogateescape)."""
    assert http.server.host is not None
    assert http.server.port is not None
    reader, writer = await asyncio.open_connection(http.server.host, http.server.port)
    try:
        body = json.dumps(USAGE).encode()
        writer.write(
            b"POST " + f"{BASE}/accounts/{DEMO_ACCOUNT}/usage".encode() + b" HTTP/1.1\r\n"
            b"Host: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer \xff\xfe" + INGEST_TOKEN.encode() + b"\xed\xa0\x80\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    assert status_line.split()[1] == b"401", status_line


async def test_without_a_configured_token_the_api_answers_503_and_says_why(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    unconfigured = Services.build(services.settings.model_copy(update={"ingest_token": None}), services.store)
    async with TestClient(TestServer(create_web_app(unconfigured, create_app(unconfigured)))) as client:
        api = IngestApi(client)
        for method, path, body in EVERY_ENDPOINT:
            answer = await send(api, method, path, body)
            assert answer.status == 503
            assert answer.body["error"] == "not_configured"
        assert (await api.call("GET", "/openapi.json", token=None)).status == 200
    assert any("INGEST_TOKEN is not set" in r.getMessage() for r in caplog.records)


async def test_the_openapi_document_needs_no_token(api: IngestApi) -> None:
    document = await api.call("GET", "/openapi.json", token=None)
    assert document.status == 200
    assert document.body["openapi"] == "3.1.0"


# --- error classes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=ids(WRITES))
async def test_malformed_json_is_400(api: IngestApi, method: str, path: str, body: dict[str, Any]) -> None:
    answer = await api.call(
        method, path, data=json.dumps(body)[:-1], headers={"Content-Type": "application/json"}
    )
    assert answer.status == 400
    assert answer.body["error"] == "malformed_json"


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=ids(WRITES))
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_is_415(
    api: IngestApi, method: str, path: str, body: dict[str, Any], content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await api.call(method, path, data=json.dumps(body).encode(), headers=headers)
    assert answer.status == 415
    assert answer.body["error"] == "unsupported_media_type"


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=ids(WRITES))
async def test_a_body_over_the_limit_is_413(
    api: IngestApi, method: str, path: str, body: dict[str, Any]
) -> None:
    padded = json.dumps(body) + " " * MAX_BODY_BYTES
    answer = await api.call(method, path, data=padded, headers={"Content-Type": "application/json"})
    assert answer.status == 413
    assert answer.body["error"] == "too_large"


async def test_a_streamed_body_over_the_limit_is_413(api: IngestApi) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    response = await api.http.post(
        f"{BASE}/accounts/{DEMO_ACCOUNT}/usage",
        data=chunks(),
        headers={"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status == 413


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=ids(WRITES))
async def test_invalid_fields_are_422_with_the_list(
    api: IngestApi, method: str, path: str, body: dict[str, Any]
) -> None:
    answer = await send(api, method, path, {**body, "unexpected": 1})
    assert answer.status == 422
    assert answer.body["error"] == "invalid"
    assert answer.fields == {"unexpected": "Extra inputs are not permitted"}


@pytest.mark.parametrize(("method", "path", "body"), NOT_UPSERT, ids=ids(NOT_UPSERT))
async def test_an_unknown_account_is_404(
    api: IngestApi, method: str, path: str, body: dict[str, Any]
) -> None:
    answer = await send(api, method, path.replace(DEMO_ACCOUNT, "nobody"), body)
    assert answer.status == 404
    assert answer.body["error"] == "not_found"


async def test_unknown_endpoints_and_methods_answer_in_json(api: IngestApi) -> None:
    missing = await api.call("GET", "/plans")
    assert (missing.status, missing.body["error"]) == (404, "not_found")
    wrong_method = await api.call("DELETE", f"/accounts/{DEMO_ACCOUNT}")
    assert (wrong_method.status, wrong_method.body["error"]) == (405, "method_not_allowed")
    assert set(wrong_method.headers["Allow"].split(",")) == {"GET", "PUT"}


async def test_an_unreachable_database_is_503_with_retry_after(settings: Settings, tmp_path: Path) -> None:
    gone = Store.from_url(f"sqlite+aiosqlite:///{tmp_path}/missing/folder/myplan.db")
    services = Services.build(settings, gone)
    try:
        async with TestClient(TestServer(create_web_app(services, None))) as client:
            answer = await IngestApi(client).post_usage(DEMO_ACCOUNT, reading("voice_minutes", 1, AT))
    finally:
        await gone.close()
    assert answer.status == 503
    assert answer.body["error"] == "unavailable"
    assert answer.headers["Retry-After"] == "30"


# --- idempotency ----------------------------------------------------------------------------------------


async def test_a_retry_with_the_same_key_is_answered_not_applied(api: IngestApi, store: Store) -> None:
    first = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, AT), key="batch-1")
    retry = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, AT), key="batch-1")
    assert first.status == retry.status == 200
    assert first.body == retry.body == {"received": 1, "recorded": 1, "duplicates": 0}
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await readings_stored(store) == 1

    # Without the key, the same batch is applied again (and found to be a duplicate).
    again = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, AT))
    assert again.body == {"received": 1, "recorded": 0, "duplicates": 1}


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=ids(WRITES))
async def test_every_write_replays_its_first_answer(
    api: IngestApi, method: str, path: str, body: dict[str, Any]
) -> None:
    first = await send(api, method, path, body, key=f"key-{method}-{path}")
    retry = await send(api, method, path, body, key=f"key-{method}-{path}")
    assert 200 <= first.status < 300, first.body
    assert (retry.status, retry.body) == (first.status, first.body)
    assert retry.headers["Idempotent-Replayed"] == "true"


async def test_a_key_reused_for_another_request_is_409(api: IngestApi, store: Store) -> None:
    assert (await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, AT), key="k1")).status == 200
    other_body = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4200, AT), key="k1")
    assert other_body.status == 409
    assert other_body.body["error"] == "idempotency_key_reused"
    assert "different body" in other_body.body["message"]
    other_path = await api.put_feature(DEMO_ACCOUNT, "directory", {"used": 1}, key="k1")
    assert other_path.status == 409
    assert f"POST {BASE}/accounts/{DEMO_ACCOUNT}/usage" in other_path.body["message"]
    assert await readings_stored(store) == 1


async def test_the_same_key_and_body_with_another_query_is_another_request(
    api: IngestApi, store: Store
) -> None:
    """`PUT /rates` with a CSV body takes its label from the query: another label is another request."""
    csv = "dial_code,iso_code,destination,landline_per_min,mobile_per_min,sms_per_message\n44,GB,UK,0.01,0.02,0.03\n"
    headers = {"Content-Type": "text/csv"}
    first = await api.call("PUT", "/rates?label=First", data=csv, headers=headers, key="csv-1")
    assert first.status == 200, first.body
    replay = await api.call("PUT", "/rates?label=First", data=csv, headers=headers, key="csv-1")
    assert (replay.status, replay.headers["Idempotent-Replayed"]) == (200, "true")
    other = await api.call("PUT", "/rates?label=Second", data=csv, headers=headers, key="csv-1")
    assert other.status == 409, other.body
    assert other.body["error"] == "idempotency_key_reused"
    assert f"PUT {BASE}/rates?label=First" in other.body["message"]
    current = await store.rates.current_info()
    assert current is not None
    assert current.label == "First"
    fresh = await api.call("PUT", "/rates?label=Second", data=csv, headers=headers, key="csv-2")
    assert (fresh.status, fresh.body["label"]) == (200, "Second")


async def test_a_refused_request_does_not_use_up_its_key(api: IngestApi) -> None:
    refused = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", -1, AT), key="k2")
    assert refused.status == 422
    fixed = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 1, AT), key="k2")
    assert fixed.status == 200


async def test_concurrent_retries_apply_once(api: IngestApi, store: Store) -> None:
    answers = await asyncio.gather(
        *(api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, AT), key="burst") for _ in range(5))
    )
    assert {a.status for a in answers} == {200}
    assert all(a.body == {"received": 1, "recorded": 1, "duplicates": 0} for a in answers)
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert await readings_stored(store) == 1


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "has space", "ünïcode"], ids=["empty", "long", "space", "unicode"]
)
async def test_a_malformed_key_is_400(api: IngestApi, key: str) -> None:
    answer = await api.post_usage(
        DEMO_ACCOUNT, reading("voice_minutes", 1, AT), headers={"Idempotency-Key": key}
    )
    assert answer.status == 400
    assert answer.body["error"] == "bad_idempotency_key"


async def test_keys_expire(store: Store) -> None:
    now = utcnow()
    old = IdempotencyRecord(
        key="k",
        request="POST /x",
        body_sha256="0" * 64,
        status=200,
        response="{}",
        created_at=now - KEY_LIFETIME * 2,
    )
    await store.idempotency.claim(old)
    assert await store.idempotency.find("k", now=now) is None
    await store.idempotency.claim(old.model_copy(update={"created_at": now}))  # an expired key may be reused
    assert await store.idempotency.find("k", now=now) is not None
    await store.idempotency.claim(old.model_copy(update={"key": "k-old"}))
    assert await store.idempotency.purge(now=now) == 1
    async with store.db.session() as session:
        assert set(await session.scalars(select(IdempotencyKeyRow.key))) == {"k"}


# --- the usage hook -------------------------------------------------------------------------------------


async def test_the_usage_hook_runs_after_the_commit(services: Services, fake_slack: FakeSlack) -> None:
    heard: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    async def on_usage(account_id: str) -> None:
        history = await services.store.usage.history(account_id, "voice_minutes", since=DEMO_NOW)
        await heard.put((account_id, len(history)))

    app = create_web_app(services, create_app(services), on_usage=on_usage)
    async with TestClient(TestServer(app)) as client:
        api = IngestApi(client)
        assert (await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", -1, AT))).status == 422
        assert (await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, AT))).status == 200
        assert await asyncio.wait_for(heard.get(), 5) == (DEMO_ACCOUNT, 1)  # the reading is visible to it
        assert (await api.put_feature(DEMO_ACCOUNT, "directory", {"used": 170})).status == 200
        assert await asyncio.wait_for(heard.get(), 5) == (DEMO_ACCOUNT, 1)
        doc = (await api.get_account(DEMO_ACCOUNT)).body
        assert (await api.put_account(DEMO_ACCOUNT, doc)).status == 200
        assert await asyncio.wait_for(heard.get(), 5) == (DEMO_ACCOUNT, 1)
    assert heard.empty()  # not for the refused batch


async def test_a_failing_usage_hook_fails_nothing_but_the_hook(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    async def on_usage(account_id: str) -> None:
        raise RuntimeError("quota alerts are broken")

    app = create_web_app(services, None, on_usage=on_usage)
    async with TestClient(TestServer(app)) as client:
        answer = await IngestApi(client).post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, AT))
    assert answer.status == 200
    assert any("usage hook" in r.getMessage() and r.exc_info for r in caplog.records)
