"""Several workers and web processes on one PostgreSQL: every alert is posted exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack
from handlers.alerts.service import AlertService
from store import Store
from store.domain.account import AllowanceDoc
from store.domain.alerts import AlertRules, AlertStatus
from store.domain.plan import Meter
from store.usage import Reading
from tests.support.alerting import ADMIN, service
from tests.support.clock import DEMO_NOW, FakeClock

ACCOUNTS = [f"acct{n:02d}" for n in range(24)]


@pytest.fixture
async def processes(
    backend: str, store: Store, database_url: str, fake_slack: FakeSlack
) -> AsyncIterator[list[AlertService]]:
    """Four alert services, each with its own engine and pool, as four processes would have."""
    if backend != "postgresql":
        pytest.skip("several processes on one database: PostgreSQL")
    for n, account in enumerate(ACCOUNTS):
        await store.accounts.upsert(account, demo_document(DEMO_NOW), now=DEMO_NOW)
        await store.workspaces.link(f"T0C{n:02d}", account)
        await store.alerts.save_rules(account, AlertRules(channel=f"C0CH{n:02d}"), by=ADMIN, now=DEMO_NOW)
    fake_slack.delay("chat.postMessage", 0.01)
    clock = FakeClock()
    # A generous post timeout: a loaded machine must not turn a slow answer into an unknown outcome here.
    # Four pools within the server's 100 connections, beside the other tests running meanwhile.
    services = [
        service(Store.from_url(database_url, pool_size=8), fake_slack, clock, post_timeout=30.0)
        for _ in range(4)
    ]
    yield services
    for alerts in services:
        await alerts.close()
        await alerts.store.close()


async def _everyone_at(
    store: Store, processes: list[AlertService], used: int, *, resolve: bool = False
) -> None:
    """A voice-minutes reading for every account, then every process at once: both workers evaluate and
    deliver (and resolve), both web processes evaluate each account as after its ingest; then it settles."""
    worker_a, worker_b, web_a, web_b = processes
    for account in ACCOUNTS:
        await store.usage.record(
            account, [Reading(meter="voice_minutes", used=Decimal(used), at=worker_a.clock())]
        )
    resolutions = (worker_a.resolve(), worker_b.resolve()) if resolve else ()
    await asyncio.gather(
        worker_a.evaluate(),
        worker_b.evaluate(),
        *(web.on_usage(account) for account in ACCOUNTS for web in (web_a, web_b)),
        worker_a.drain(),
        worker_b.drain(),
        *resolutions,
    )
    await asyncio.gather(web_a.idle(), web_b.idle())
    await settle(worker_a)


async def settle(worker: AlertService) -> None:
    """The worker's next passes, until one finds nothing due: passes that ran at once skip the threads the
    others held, and an alert put back for a moment waits for the next pass."""
    for _ in range(10):
        if not (await worker.drain()).claimed:
            return
    raise AssertionError("deliveries did not settle")


async def test_concurrent_evaluators_and_deliverers_post_every_alert_exactly_once(
    store: Store, fake_slack: FakeSlack, processes: list[AlertService]
) -> None:
    for used in (4100, 4600, 5000):  # each step crosses a threshold on every account
        await _everyone_at(store, processes, used)

    alerts = [a for account in ACCOUNTS for a in await store.alerts.all_of(account)]
    sent = [a for a in alerts if a.status == AlertStatus.SENT]
    assert {a.status for a in alerts} <= {AlertStatus.SENT, AlertStatus.SUPERSEDED}
    # Per account: licences, two features at 80% from the start, and voice minutes 80/90/100.
    voice = Counter(
        (a.account_id, a.threshold) for a in alerts if a.meter == "voice_minutes" and a.kind == "threshold"
    )
    assert voice == {(account, p): 1 for account in ACCOUNTS for p in (80, 90, 100)}

    posted = Counter(
        c.params["metadata"]["event_payload"]["alert_id"]
        for c in fake_slack.calls_to("chat.postMessage")
        if c.ok
    )
    assert set(posted.values()) == {1}, "no alert posted twice"
    assert sorted(posted) == sorted(a.id for a in sent), "every claimed alert posted"


async def test_after_a_raised_allowance_concurrent_evaluators_claim_each_threshold_once_more(
    store: Store, fake_slack: FakeSlack, processes: list[AlertService]
) -> None:
    """An alert is claimed once per period *and allowance*: after an upgrade, the thresholds start afresh,
    and still each is claimed and posted exactly once, in a new message per meter."""
    worker_a, worker_b, _, _ = processes
    clock = worker_a.clock

    await _everyone_at(store, processes, 4600, resolve=True)  # 80% and 90% of 5,000: the 90% posted
    doc = demo_document(DEMO_NOW)
    allowances = dict(doc.allowances)
    allowances[Meter.VOICE_MINUTES] = AllowanceDoc(available=Decimal(10_000), used=Decimal(4600))
    for account in ACCOUNTS:
        await store.accounts.upsert(account, doc.model_copy(update={"allowances": allowances}), now=clock())
    await asyncio.gather(worker_a.resolve(), worker_b.resolve())
    await _everyone_at(store, processes, 8100, resolve=True)  # 80% of 10,000
    await _everyone_at(store, processes, 9100, resolve=True)  # 90% of 10,000

    voice = [
        a for account in ACCOUNTS for a in await store.alerts.all_of(account) if a.meter == "voice_minutes"
    ]
    claims = Counter((a.account_id, a.threshold, a.available) for a in voice if a.kind == "threshold")
    assert claims == {
        (account, p, Decimal(allowance)): 1
        for account in ACCOUNTS
        for p, allowance in ((80, 5000), (90, 5000), (80, 10_000), (90, 10_000))
    }
    sent = [a for a in voice if a.status == AlertStatus.SENT]
    assert {(a.threshold, a.available) for a in sent} == {
        (90, Decimal(5000)),
        (80, Decimal(10_000)),
        (90, Decimal(10_000)),
    }
    unresolved = [a for a in sent if a.available == 5000 and a.resolution is None]
    assert not unresolved, (
        "the old messages were resolved",
        [
            (a.id, a.account_id, a.threshold, a.status, a.attempts, a.error, a.message_ts)
            for a in voice
            if a.account_id in {u.account_id for u in unresolved}
        ],
    )
    messages = Counter((a.account_id, a.message_ts) for a in sent)
    assert len(messages) == 2 * len(ACCOUNTS), "one message per meter and allowance"
    posted = Counter(
        c.params["metadata"]["event_payload"]["alert_id"]
        for c in fake_slack.calls_to("chat.postMessage")
        if c.ok
    )
    assert set(posted.values()) == {1}, "no alert posted (or replied) twice"
    assert {a.id for a in sent} <= set(posted), "every voice alert sent was posted"
