"""Schemathesis against the ingest API's own OpenAPI document: no 5xx, no answer the document does not allow,
and no request the document forbids accepted (so the bounds it states are the bounds the server enforces).

The real server runs on a loopback port (on each backend) with the sample account loaded, so the
document's examples (account `demo`) reach the success paths while generated data probes the rest.
Bounded: its deterministic coverage phase (boundary values, wrong types, missing fields) plus a fixed
number of derandomised examples per operation, so it runs the same way, in seconds, every time.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from sqlalchemy import text

from bot.api.idempotency import IDEMPOTENCY_HEADER, KEY_PATTERN
from bot.api.openapi import openapi_document
from bot.api.routes import endpoints
from bot.demo import load_demo
from bot.server import create_web_app
from bot.settings import Settings
from handlers.services import Services
from store import Store
from store.tables import Base
from tests.conftest import INGEST_TOKEN
from tests.support.clock import DEMO_NOW
from tests.support.liveserver import LiveServer

MAX_EXAMPLES = 15
AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}

schema = schemathesis.openapi.from_dict(openapi_document(endpoints.all))
schema.config.generation.update(max_examples=MAX_EXAMPLES)
# Data the document forbids must be refused: with the status of a bad body, or 413 for a body (a table of
# more rows than allowed) that is larger than the API reads.
schema.config.checks.negative_data_rejection.expected_statuses = [
    "400",
    "401",
    "404",
    "409",
    "413",
    "415",
    "422",
]

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.ignored_auth,
    schemathesis.checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def live_api(backend: str, migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real web app, with the sample account, on a loopback port; yields the API's base URL."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("schema") / "myplan.db"
        shutil.copy(migrated_url.removeprefix("sqlite+aiosqlite:///"), path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = migrated_url

    async def factory() -> tuple[web.Application, Callable[[], Awaitable[None]]]:
        store = Store.from_url(url)
        if backend == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            async with store.db.session() as session:
                await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await load_demo(store, now=DEMO_NOW)
        config = Settings(
            _env_file=None,
            database_url=url,
            ingest_token=SecretStr(INGEST_TOKEN),
            slack_api_url="http://127.0.0.1:9/api/",  # nothing listens: no alerts channel is set anyway
        )
        return create_web_app(Services.build(config, store), None), store.close

    server = LiveServer(factory)
    base = server.start()
    yield base + "/api/v1"
    server.stop()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_document(
    case: schemathesis.Case[Any], live_api: str, session: requests.Session
) -> None:
    key = case.headers.get(IDEMPOTENCY_HEADER) if case.headers else None
    if isinstance(key, str) and re.match(KEY_PATTERN, key):
        # Generated keys repeat ("0", "0"…), and a reused key is a 409 before the body is looked at;
        # a fresh key lets the body be tested. Replays and reuse have tests of their own.
        case.headers[IDEMPOTENCY_HEADER] = uuid.uuid4().hex
    case.call_and_validate(base_url=live_api, session=session, headers=AUTH, checks=CHECKS, timeout=30)


def test_the_document_is_served_as_generated(live_api: str, session: requests.Session) -> None:
    served = session.get(f"{live_api}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == openapi_document(endpoints.all)
    assert {(method.upper(), path) for path, ops in served.json()["paths"].items() for method in ops} == {
        ("PUT", "/accounts/{account_id}"),
        ("GET", "/accounts/{account_id}"),
        ("PUT", "/rates"),
        ("POST", "/accounts/{account_id}/link-codes"),
        ("POST", "/accounts/{account_id}/usage"),
        ("POST", "/accounts/{account_id}/traffic"),
        ("GET", "/accounts/{account_id}/destination-blocks"),
        ("PUT", "/accounts/{account_id}/destination-blocks/{block_id}"),
        ("PUT", "/accounts/{account_id}/features/{feature}"),
        ("POST", "/accounts/{account_id}/links"),
        ("PUT", "/accounts/{account_id}/staff"),
        ("GET", "/accounts/{account_id}/staff"),
    }
