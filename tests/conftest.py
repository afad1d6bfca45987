"""Fixtures: a migrated database per backend, the fake Slack, and the real app wired to both.

The whole suite runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set
(CI sets it; an unreachable PostgreSQL then fails the run rather than skipping it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web_app
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import text

from bot.app import create_app
from bot.core.metrics import counted_session
from bot.demo import load_demo
from bot.devtools.fake_slack import FakeSlack
from bot.server import create_web_app
from bot.settings import Settings
from handlers.services import Services
from store import Store
from store.clock import utcnow
from store.migrate import upgrade_url
from store.tables import Base
from tests.support.clock import DEMO_NOW, FakeClock
from tests.support.slackdriver import SIGNING_SECRET, SlackDriver

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
# The Slack app's OAuth credentials in OAuth-mode tests.
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret"
INGEST_TOKEN = "test-ingest-token"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://").replace("postgres://", "postgresql://", 1)


def pytest_sessionstart(session: pytest.Session) -> None:
    if POSTGRES_URL is None:
        return

    async def check() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=5)
        await connection.close()

    try:
        asyncio.run(check())
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {error}", returncode=3)


@pytest.fixture(autouse=True)
def _forget_finished_apps() -> Iterator[None]:
    """aiohttp caches each application's middleware chain, keyed by the application, for up to 1,024 of
    them: a process serves one app, but a test run builds thousands, and each would stay alive with its
    engine, caches and bolt listeners (a worker grew to 700 MB, collecting ever slower)."""
    yield
    web_app._cached_build_middleware.cache_clear()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the latest migration: a template file on SQLite, a fresh database on PostgreSQL."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(upgrade_url(url))
        yield url
        return
    assert POSTGRES_URL is not None
    name = f"myplan_test_{uuid.uuid4().hex[:10]}"
    admin_dsn = _asyncpg_dsn(POSTGRES_URL)
    asyncio.run(_pg_execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    url = _with_database(POSTGRES_URL, name)
    try:
        asyncio.run(upgrade_url(url))
        yield url
    finally:
        asyncio.run(_pg_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _pg_execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def database_url(backend: str, migrated_url: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "db" / "myplan.db"
        path.parent.mkdir()
        shutil.copy(migrated_url.removeprefix("sqlite+aiosqlite:///"), path)
        return f"sqlite+aiosqlite:///{path}"
    return migrated_url


@pytest.fixture
async def store(backend: str, database_url: str) -> AsyncIterator[Store]:
    store = Store.from_url(database_url)
    if backend == "postgresql":
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with store.db.session() as session:
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield store
    await store.close()


@pytest.fixture
async def demo(store: Store) -> Store:
    """The sample account `demo`, linked to T0DEMO with U0DEMOADMIN as administrator."""
    await load_demo(store, now=DEMO_NOW)
    return store


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack
        slack.assert_valid()


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str, fake_slack: FakeSlack) -> Settings:
    """Single-workspace mode (a bot token); OAuth mode (client id and secret, no token) for tests marked
    `@pytest.mark.oauth`, where workspaces install the app through tests.support.installs.install."""
    oauth = request.node.get_closest_marker("oauth") is not None
    return Settings(
        _env_file=None,
        database_url=database_url,
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_bot_token=None if oauth else SecretStr("xoxb-test"),
        slack_client_id=CLIENT_ID if oauth else None,
        slack_client_secret=SecretStr(CLIENT_SECRET) if oauth else None,
        slack_api_url=fake_slack.api_url,
        sales_channel="C0SALES",
        ingest_token=SecretStr(INGEST_TOKEN),
    )


@pytest.fixture
async def services(
    request: pytest.FixtureRequest, settings: Settings, store: Store, clock: FakeClock
) -> AsyncIterator[Services]:
    """As the server has them: Web API calls share one session's kept-alive connections. Tests marked
    `@pytest.mark.fake_clock` run the app on the test's `clock` (the real one otherwise)."""
    on_test_clock = request.node.get_closest_marker("fake_clock") is not None
    async with counted_session() as session:
        yield Services.build(settings, store, session, clock=clock if on_test_clock else utcnow)


@pytest.fixture
async def http(services: Services) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """The real aiohttp app (bolt inside) on a loopback port."""
    client = TestClient(TestServer(create_web_app(services, create_app(services))))
    await client.start_server()
    yield client
    await client.close()


@pytest.fixture
def slack(http: TestClient, fake_slack: FakeSlack) -> SlackDriver:  # type: ignore[type-arg]
    return SlackDriver(http, fake_slack)


@pytest.fixture
def clock() -> FakeClock:
    """'Now' for whatever takes a clock, moved by the test instead of waited for."""
    return FakeClock()
