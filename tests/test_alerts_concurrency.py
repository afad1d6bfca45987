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
from store.domain.alerts import AlertRules, AlertStatus
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
    services = [service(Store.from_url(database_url), fake_slack, clock) for _ in range(4)]
    yield services
    for alerts in services:
        await alerts.close()
        await alerts.store.close()


async def test_concurrent_evaluators_and_deliverers_post_every_alert_exactly_once(
    store: Store, fake_slack: FakeSlack, processes: list[AlertService]
) -> None:
    worker_a, worker_b, web_a, web_b = processes
    clock = worker_a.clock
    for used in (4100, 4600, 5000):  # each step crosses a threshold on every account
        for account in ACCOUNTS:
            await store.usage.record(
                account, [Reading(meter="voice_minutes", used=Decimal(used), at=clock())]
            )
        await asyncio.gather(
            worker_a.evaluate(),
            worker_b.evaluate(),
            *(web.on_usage(account) for account in ACCOUNTS for web in (web_a, web_b)),
            worker_a.drain(),
            worker_b.drain(),
        )
        await asyncio.gather(web_a.idle(), web_b.idle())
        await asyncio.gather(worker_a.drain(), worker_b.drain())

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
