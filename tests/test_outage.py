"""The database goes away and comes back: clear answers meanwhile, recovery without a restart."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import make_url

from bot.devtools.fake_slack import FakeSlack
from tests.support.dbproxy import TcpProxy
from tests.support.installs import install
from tests.support.slackdriver import TEAM, SlackDriver, all_text


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
