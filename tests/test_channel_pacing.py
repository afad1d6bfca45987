"""One message per second per channel, across every process on the database (`channel_pace`).

No test sleeps: the pacer's sleep is recorded instead of slept, and what is asserted is the slots handed
out (by the database, on a FakeClock the services share; or, for the fallback, on the event loop's clock
from when the pacer was asked, so how long a call took does not matter).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack
from handlers.alerts.service import AlertService
from handlers.posting import ChannelPacer
from store import Store
from store.domain.alerts import AlertRules
from store.errors import StoreUnavailable
from store.pacing import ChannelPaceRepository
from tests.support.alerting import ADMIN, posts, service
from tests.support.clock import DEMO_NOW, FakeClock

SHARED = "C0SHARED"
SECOND = timedelta(seconds=1)
ACCOUNTS = [f"acct{n}" for n in range(6)]
"""Each crosses 80% on three meters (licences, two features) in the sample plan: three posts each."""


class Sleeps:
    """Stands in for asyncio.sleep: records how long the pacer would have slept, and when it would wake
    (in loop time), without sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.wakes: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.wakes.append(asyncio.get_running_loop().time() + delay)


def record_slots(
    pacing: ChannelPaceRepository, into: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    reserve = pacing.reserve

    async def recorded(team_id: str, channel: str, *, now: datetime, interval: timedelta) -> datetime:
        slot = await reserve(team_id, channel, now=now, interval=interval)
        into.append(slot)
        return slot

    monkeypatch.setattr(pacing, "reserve", recorded)


def spaced(slots: list[datetime], start: datetime, step: timedelta = SECOND) -> bool:
    return sorted(slots) == [start + n * step for n in range(len(slots))]


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[list[Store]]:
    """Four stores, each with its own engine and pool, as four processes would have."""
    opened = [Store.from_url(database_url) for _ in range(4)]
    yield opened
    for store in opened:
        await store.close()


@pytest.fixture
async def two_processes(
    store: Store, database_url: str, fake_slack: FakeSlack
) -> AsyncIterator[tuple[AlertService, AlertService]]:
    """Two alert services on their own engines and one clock, pacing one second per channel; the accounts
    all post to one channel."""
    for n, account in enumerate(ACCOUNTS):
        await store.accounts.upsert(account, demo_document(DEMO_NOW), now=DEMO_NOW)
        await store.workspaces.link(f"T0P{n}", account)
        await store.alerts.save_rules(account, AlertRules(channel=SHARED), by=ADMIN, now=DEMO_NOW)
    clock = FakeClock()
    pair = (
        service(Store.from_url(database_url), fake_slack, clock, channel_interval=1.0),
        service(Store.from_url(database_url), fake_slack, clock, channel_interval=1.0),
    )
    yield pair
    for alerts in pair:
        await alerts.close()
        await alerts.store.close()


# ------------------------------------------------------------------------------------ the repository


async def test_concurrent_reserves_from_several_processes_get_slots_an_interval_apart(
    stores: list[Store],
) -> None:
    step = timedelta(milliseconds=1500)
    slots = await asyncio.gather(
        *(
            store.pacing.reserve("T0A", SHARED, now=DEMO_NOW, interval=step)
            for store in stores
            for _ in range(5)
        )
    )
    assert spaced(slots, DEMO_NOW, step), "distinct slots, one interval apart, the first one now"


async def test_a_slot_is_never_before_now_and_channels_do_not_share_slots(store: Store) -> None:
    reserve = store.pacing.reserve
    assert await reserve("T0A", "C1", now=DEMO_NOW, interval=SECOND) == DEMO_NOW
    assert await reserve("T0A", "C1", now=DEMO_NOW, interval=SECOND) == DEMO_NOW + SECOND
    later = DEMO_NOW + timedelta(minutes=5)
    assert await reserve("T0A", "C1", now=later, interval=SECOND) == later, "no backlog of past slots"
    assert await reserve("T0A", "C2", now=DEMO_NOW, interval=SECOND) == DEMO_NOW, "another channel"
    assert await reserve("T0B", "C1", now=DEMO_NOW, interval=SECOND) == DEMO_NOW, "another workspace"


# ----------------------------------------------------------------------------------------- the pacer


async def test_two_processes_posting_to_one_channel_take_turns_a_second_apart(
    fake_slack: FakeSlack,
    two_processes: tuple[AlertService, AlertService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_processes
    await first.evaluate()
    slots: dict[str, list[datetime]] = {"first": [], "second": []}
    sleeps = {"first": Sleeps(), "second": Sleeps()}
    for name, alerts in zip(slots, two_processes, strict=True):
        record_slots(alerts.store.pacing, slots[name], monkeypatch)
        alerts.pacer.sleep = sleeps[name]

    reports = await asyncio.gather(
        *(first.drain(account) for account in ACCOUNTS[:3]),
        *(second.drain(account) for account in ACCOUNTS[3:]),
    )

    assert sum(report.sent for report in reports) == len(posts(fake_slack, SHARED)) == 18
    assert len(slots["first"]) == len(slots["second"]) == 9, "each post reserved its slot"
    assert spaced(slots["first"] + slots["second"], DEMO_NOW), "one message per second in the channel"
    for name in slots:
        waits = [(slot - DEMO_NOW).total_seconds() for slot in slots[name]]
        assert sleeps[name].delays == [wait for wait in waits if wait > 0], "each slept until its slot"


async def test_a_post_that_left_late_holds_the_next_one_back(store: Store, stores: list[Store]) -> None:
    busy, other = stores[0].pacing, stores[1].pacing
    late = timedelta(milliseconds=300)
    assert await busy.reserve("", SHARED, now=DEMO_NOW, interval=SECOND) == DEMO_NOW
    # Its process was busy when the slot came: the message leaves 300 ms late.
    assert await busy.depart("", SHARED, at=DEMO_NOW + late, interval=SECOND) is None

    clock = FakeClock()
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)
        clock.advance(seconds=delay)

    pacer = ChannelPacer(1.0, other, clock, sleep=sleep)
    departures: list[datetime] = []
    depart = other.depart

    async def recorded(team_id: str, channel: str, *, at: datetime, interval: timedelta) -> datetime | None:
        departures.append(at)
        return await depart(team_id, channel, at=at, interval=interval)

    other.depart = recorded  # type: ignore[method-assign]
    await pacer.wait(SHARED)  # its slot: a second after the late one's slot; it must wait 300 ms more
    assert departures == [DEMO_NOW + SECOND, DEMO_NOW + SECOND + late]
    assert delays == [1.0, 0.3], "slept to its slot, then until a second after the late one left"
    assert await depart("", SHARED, at=clock.now, interval=SECOND) == clock.now + SECOND, (
        "the departure was recorded: nothing leaves within a second of it"
    )


async def test_a_post_a_round_trip_late_is_recorded_at_its_slot(store: Store) -> None:
    clock = FakeClock()
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)
        clock.advance(seconds=delay)

    pacing = store.pacing
    reserve, depart = pacing.reserve, pacing.depart
    departures: list[datetime] = []

    async def slow(team_id: str, channel: str, *, now: datetime, interval: timedelta) -> datetime:
        slot = await reserve(team_id, channel, now=now, interval=interval)
        clock.advance(seconds=0.01)  # the database's answer takes 10 ms
        return slot

    async def recorded(team_id: str, channel: str, *, at: datetime, interval: timedelta) -> datetime | None:
        departures.append(at)
        return await depart(team_id, channel, at=at, interval=interval)

    pacing.reserve, pacing.depart = slow, recorded  # type: ignore[method-assign]
    pacer = ChannelPacer(1.0, pacing, clock, sleep=sleep)
    await pacer.wait(SHARED)
    await pacer.wait(SHARED)
    assert departures[0] == DEMO_NOW, "10 ms after its slot is on time"
    assert len(departures) == len(delays) + 1 == 2, "the next post slept to its slot once, and was not held"


async def test_without_the_database_a_process_paces_its_own_posts(
    store: Store, fake_slack: FakeSlack, two_processes: tuple[AlertService, AlertService]
) -> None:
    alerts = two_processes[0]
    await alerts.evaluate()
    sleeps = Sleeps()
    alerts.pacer.sleep = sleeps

    async def unreachable(team_id: str, channel: str, *, now: datetime, interval: timedelta) -> datetime:
        raise StoreUnavailable("connection refused")

    alerts.store.pacing.reserve = unreachable  # type: ignore[method-assign]
    assert (await alerts.drain(ACCOUNTS[0])).sent == 3, "the posts are not failed"
    assert len(posts(fake_slack, SHARED)) == 3
    assert gaps(sleeps.wakes) == pytest.approx([1.0], abs=0.05), "one per second, in this process"


async def test_after_an_outage_the_process_keeps_the_slots_it_had_reserved(store: Store) -> None:
    # The fallback paces on the event loop's clock: here "now" is that clock too, so the database's slots
    # and the fallback's line up whatever a database call takes.
    loop = asyncio.get_running_loop()
    start = loop.time()
    sleeps = Sleeps()
    pacer = ChannelPacer(
        1.0, store.pacing, lambda: DEMO_NOW + timedelta(seconds=loop.time() - start), sleep=sleeps
    )
    await pacer.wait(SHARED)
    await pacer.wait(SHARED)  # the database's slot: a second after the first
    reserve = store.pacing.reserve

    async def unreachable(team_id: str, channel: str, *, now: datetime, interval: timedelta) -> datetime:
        raise StoreUnavailable("connection refused")

    store.pacing.reserve = unreachable  # type: ignore[method-assign]
    await pacer.wait(SHARED)
    store.pacing.reserve = reserve  # type: ignore[method-assign]
    await pacer.wait(SHARED)
    assert len(sleeps.wakes) == 3
    assert gaps(sleeps.wakes) == pytest.approx([1.0, 1.0], abs=0.05), (
        "the fallback goes on from the database's slots, and the database from the fallback's"
    )


async def test_no_interval_paces_nothing_and_asks_the_database_nothing(store: Store) -> None:
    async def unused(team_id: str, channel: str, *, now: datetime, interval: timedelta) -> datetime:
        raise AssertionError("no reservation without an interval")

    store.pacing.reserve = unused  # type: ignore[method-assign]
    sleeps = Sleeps()
    pacer = ChannelPacer(0.0, store.pacing, FakeClock(), sleep=sleeps)
    for _ in range(3):
        await pacer.wait(SHARED)
    assert sleeps.delays == []


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]
