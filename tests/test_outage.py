"""The database goes away and comes back: clear answers meanwhile, recovery without a restart."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.devtools.fake_slack import FakeSlack
from bot.server import create_web_app
from bot.settings import Settings
from handlers.services import Services
from store import Store
from store.migrate import head_revision, upgrade
from tests.support.dbproxy import TcpProxy
from tests.support.installs import install
from tests.support.slackdriver import SIGNING_SECRET, TEAM, SlackDriver, all_text
from tests.test_readme_steps import fresh_database


class Outage:
    """Cuts the database off: SQLite's folder is moved away, PostgreSQL's connections are cut at a proxy."""

    def __init__(self, folder: Path | None = None, proxy: TcpProxy | None = None) -> None:
        self.folder = folder
        self.proxy = proxy

    async def begin(self) -> None:
        if self.proxy is not None:
            await self.proxy.cut()
        else:
            assert self.folder is not None
            self.folder.rename(self.folder.with_name("away"))

    async def end(self) -> None:
        if self.proxy is not None:
            await self.proxy.start()
        else:
            assert self.folder is not None
            self.folder.with_name("away").rename(self.folder)


@pytest.fixture
async def outage(backend: str, migrated_url: str, tmp_path: Path) -> AsyncIterator[Outage]:
    if backend == "sqlite":
        yield Outage(folder=tmp_path / "db")
        return
    url = make_url(migrated_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield Outage(proxy=proxy)
    await proxy.cut()


@pytest.fixture
def database_url(backend: str, migrated_url: str, tmp_path: Path, outage: Outage) -> str:
    """As in conftest, but on PostgreSQL through the outage's proxy."""
    if outage.proxy is not None:
        return make_url(migrated_url).set(host="127.0.0.1", port=outage.proxy.port).render_as_string(False)
    path = tmp_path / "db" / "myplan.db"
    path.parent.mkdir()
    shutil.copy(migrated_url.removeprefix("sqlite+aiosqlite:///"), path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.mark.usefixtures("demo")
async def test_healthz_and_plan_during_an_outage_and_after(
    http: TestClient,  # type: ignore[type-arg]
    slack: SlackDriver,
    outage: Outage,
) -> None:
    assert (await http.get("/healthz")).status == 200

    await outage.begin()
    health = await http.get("/healthz")
    assert health.status == 503
    assert (await health.json())["database"] == "unavailable"
    assert "temporarily unavailable" in all_text(await slack.run(""))

    await outage.end()
    assert (await http.get("/healthz")).status == 200
    assert "BUSINESS" in all_text(await slack.run(""))


@pytest.mark.oauth
@pytest.mark.usefixtures("demo")
async def test_oauth_mode_during_an_outage_and_after(
    http: TestClient,  # type: ignore[type-arg]
    slack: SlackDriver,
    fake_slack: FakeSlack,
    outage: Outage,
) -> None:
    await install(http, fake_slack, TEAM)

    await outage.begin()
    reply = await slack.command("")  # the request cannot even be authorized: no installation to read
    assert reply.status == 200  # Slack shows no error of its own on top of ours
    assert "temporarily unavailable" in all_text((await slack.reply_to(reply)).params)

    await outage.end()
    assert "BUSINESS" in all_text(await slack.run(""))


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path) as url:
        yield url


async def test_healthz_is_503_until_the_database_is_migrated_to_the_head(
    fresh_url: str, fake_slack: FakeSlack
) -> None:
    settings = Settings(
        _env_file=None,
        database_url=fresh_url,
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_bot_token=SecretStr("xoxb-test"),
        slack_api_url=fake_slack.api_url,
    )
    services = Services.build(settings, Store.from_url(settings.database_url))
    http = TestClient(TestServer(create_web_app(services, create_app(services))))
    await http.start_server()
    try:
        never = await http.get("/healthz")
        assert never.status == 503
        assert await never.json() == {
            "ok": False,
            "database": "not migrated",
            "reason": f"the database has no schema (it was never migrated; the code needs revision "
            f"{head_revision()}): run myplan db upgrade",
        }

        await upgrade(services.store.db.engine, "0001")
        behind = await http.get("/healthz")
        assert behind.status == 503
        assert (await behind.json())["reason"] == (
            f"the database schema is at revision 0001, the code needs {head_revision()}: run myplan db upgrade"
        )

        await upgrade(services.store.db.engine)
        current = await http.get("/healthz")
        assert current.status == 200
        assert await current.json() == {"ok": True, "database": "ok", "alerts": {"failing_accounts": []}}
    finally:
        await http.close()
        await services.store.close()
