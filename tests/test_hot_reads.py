"""The per-process copies of "which account is this workspace" and "who administers it": a write through
this process shows at once; one through another process (a second Store on the same database) within
the time-to-live; an unlinked workspace is never remembered."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.demo import DEMO_ACCOUNT
from bot.linking.codes import issue_link_code, redeem_link_code
from store import Store
from store.cache import SECONDS, HotReads
from tests.support.slackdriver import ADMIN, STAFF, TEAM

pytestmark = pytest.mark.usefixtures("demo")


class CacheTimer:
    """The copies' timer: seconds as `time.monotonic` counts them (not a datetime clock like conftest's
    `clock`), moved by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache_timer() -> CacheTimer:
    return CacheTimer()


@pytest.fixture
async def this(database_url: str, cache_timer: CacheTimer) -> AsyncIterator[Store]:
    """This process's store, its copies timed by `cache_timer`."""
    store = Store(Store.from_url(database_url).db, HotReads(timer=cache_timer))
    yield store
    await store.close()


@pytest.fixture
async def other(database_url: str) -> AsyncIterator[Store]:
    """Another process on the same database (the CLI, say)."""
    store = Store.from_url(database_url)
    yield store
    await store.close()


async def test_own_writes_show_at_once(this: Store) -> None:
    assert await this.admins.is_admin(DEMO_ACCOUNT, ADMIN)
    assert not await this.admins.is_admin(DEMO_ACCOUNT, STAFF)
    assert await this.admins.add(DEMO_ACCOUNT, STAFF)
    assert await this.admins.is_admin(DEMO_ACCOUNT, STAFF)
    assert await this.admins.remove(DEMO_ACCOUNT, STAFF)
    assert await this.admins.list(DEMO_ACCOUNT) == [ADMIN]

    assert await this.workspaces.account_for_team(TEAM) == DEMO_ACCOUNT
    assert await this.workspaces.unlink(TEAM)
    assert await this.workspaces.account_for_team(TEAM) is None


async def test_another_processes_writes_show_within_the_time_to_live(
    this: Store, other: Store, cache_timer: CacheTimer
) -> None:
    assert await this.admins.is_admin(DEMO_ACCOUNT, ADMIN)
    assert await this.workspaces.account_for_team(TEAM) == DEMO_ACCOUNT
    assert await other.admins.remove(DEMO_ACCOUNT, ADMIN)
    assert await other.workspaces.unlink(TEAM)

    cache_timer.now += SECONDS - 1
    assert await this.admins.is_admin(DEMO_ACCOUNT, ADMIN)
    assert await this.workspaces.account_for_team(TEAM) == DEMO_ACCOUNT
    cache_timer.now += 1
    assert not await this.admins.is_admin(DEMO_ACCOUNT, ADMIN)
    assert await this.workspaces.account_for_team(TEAM) is None


async def test_a_workspace_linked_elsewhere_is_seen_at_once(this: Store, other: Store) -> None:
    assert await this.workspaces.account_for_team("T0NEW") is None
    await other.workspaces.link("T0NEW", DEMO_ACCOUNT)
    assert await this.workspaces.account_for_team("T0NEW") == DEMO_ACCOUNT


async def test_redeeming_a_link_code_shows_the_new_administrator_at_once(this: Store) -> None:
    assert not await this.admins.is_admin(DEMO_ACCOUNT, STAFF)
    issued = await issue_link_code(this, DEMO_ACCOUNT, by="test")
    linked = await redeem_link_code(this, team_id=TEAM, user_id=STAFF, text=issued.code)
    assert linked.account_id == DEMO_ACCOUNT
    assert await this.admins.is_admin(DEMO_ACCOUNT, STAFF)
