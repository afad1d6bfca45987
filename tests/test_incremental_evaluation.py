"""Incremental evaluation is complete: random changes to many accounts, and after each round the pass over
the accounts marked due claims and resolves exactly what a full sweep of every account would."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.alerts.forecast import MIN_READINGS, forecast_alert
from bot.demo import add_month, demo_document
from store import Store
from store.alert_evaluation import MARK_BATCH
from store.domain.account import AllowanceDoc
from store.domain.alerts import DEFAULT_THRESHOLDS, Alert, AlertRules, AlertStatus, DuePass
from store.domain.plan import STAFF_LICENCES, FeatureKey, Meter, feature_meter
from store.usage import Reading
from tests.support.alerting import ADMIN
from tests.support.clock import DEMO_NOW, FakeClock

ACCOUNTS = [f"inc{n:02d}" for n in range(20)]
ROUNDS = 20
SEED = 1

Key = tuple[str, str, str, int, object, Decimal]


def key(alert: Alert) -> Key:
    return (alert.account_id, alert.meter, alert.kind, alert.threshold, alert.period_start, alert.available)


class Sweeps:
    """The pass over the accounts due, and a full sweep of every account (as a dry run), at the clock's now."""

    def __init__(self, store: Store, clock: FakeClock) -> None:
        self.store, self.clock = store, clock
        self.batch = MARK_BATCH

    async def full(self) -> set[Key]:
        alerts = await self.store.alerts.evaluate(
            self.clock(), forecast_alert, defaults=DEFAULT_THRESHOLDS, min_readings=MIN_READINGS, dry_run=True
        )
        return {key(alert) for alert in alerts}

    async def due(self) -> DuePass:
        return await self.store.alerts.evaluate_due(
            self.clock(),
            forecast_alert,
            defaults=DEFAULT_THRESHOLDS,
            min_readings=MIN_READINGS,
            batch=self.batch,
        )

    async def alerts(self) -> list[Alert]:
        return [alert for account in ACCOUNTS for alert in await self.store.alerts.all_of(account)]


@pytest.fixture
async def sweeps(store: Store) -> Sweeps:
    for account in ACCOUNTS:
        await store.accounts.upsert(account, demo_document(DEMO_NOW), now=DEMO_NOW)
    return Sweeps(store, FakeClock())


def _changes(store: Store, clock: FakeClock, rng: random.Random) -> list[Callable[[str], Awaitable[object]]]:
    """Every kind of write that can change what an account's evaluation finds."""

    async def reading(account: str) -> None:
        meter = rng.choice(
            [m.value for m in Meter] + [STAFF_LICENCES, feature_meter(FeatureKey.VIRTUAL_NUMBERS)]
        )
        used = (
            Decimal(rng.randint(0, 60) * 100)
            if meter in {m.value for m in Meter}
            else Decimal(rng.randint(0, 60))
        )
        await store.usage.record(account, [Reading(meter=meter, used=used, at=clock())], now=clock())

    async def allowance(account: str) -> None:
        doc = await store.accounts.document(account)
        allowances = dict(doc.allowances)
        voice = allowances[Meter.VOICE_MINUTES]
        allowances[Meter.VOICE_MINUTES] = AllowanceDoc(
            available=Decimal(rng.choice([2000, 5000, 10_000])), used=voice.used
        )
        await store.accounts.upsert(account, doc.model_copy(update={"allowances": allowances}), now=clock())

    async def new_period(account: str) -> None:
        doc = await store.accounts.document(account)
        start = clock().date()
        update = {"period_start": start, "next_payment_date": add_month(start), "data_as_of": clock()}
        await store.accounts.upsert(account, doc.model_copy(update=update), now=clock())

    async def rules(account: str) -> None:
        thresholds = tuple(sorted(rng.sample([50, 75, 80, 90, 100], rng.randint(1, 3))))
        overrides = {Meter.VOICE_MINUTES.value: ()} if rng.random() < 0.2 else {}
        chosen = AlertRules(enabled=rng.random() > 0.1, thresholds=thresholds, overrides=overrides)
        await store.alerts.save_rules(account, chosen, by=ADMIN, now=clock())

    return [reading, reading, reading, allowance, new_period, rules]


async def _post_some(store: Store, clock: FakeClock, rng: random.Random) -> None:
    """Post about half of what is due, as the delivery loop would."""
    for n, item in enumerate(await store.alerts.claim(clock(), lease=timedelta(minutes=5), limit=1000)):
        if rng.random() < 0.5:
            await store.alerts.mark_sent(
                item.alert.id, item.alert.attempts, team_id="T0INC", channel="C0INC", ts=f"{n}.0", now=clock()
            )
        else:
            await store.alerts.mark_retry(item.alert.id, item.alert.attempts, at=clock(), error="not_posted")


# Batches of 3: a pass is several transactions, on PostgreSQL two of them at once.
@pytest.mark.parametrize("batch", [MARK_BATCH, 3])
async def test_a_pass_over_the_accounts_due_finds_what_a_full_sweep_finds(
    store: Store, sweeps: Sweeps, batch: int
) -> None:
    sweeps.batch = batch
    rng = random.Random(SEED)
    clock = sweeps.clock
    changes = _changes(store, clock, rng)
    for _ in range(ROUNDS):
        for _ in range(rng.randint(0, 12)):
            await rng.choice(changes)(rng.choice(ACCOUNTS))
        clock.advance(hours=rng.choice([0, 1, 6, 24, 24 * 5, 24 * 12]))

        expected = await sweeps.full()
        before = {a.id for a in await sweeps.alerts()}
        await sweeps.due()
        after = await sweeps.alerts()
        claimed = {key(a) for a in after if a.id not in before}
        assert claimed == expected, "the pass claims exactly what a full sweep would"
        assert await sweeps.full() == set(), "nothing left for a full sweep"

        resolved = {a.id for a in after if a.resolution is not None}
        await store.alerts.resolve(clock())  # every account's messages
        assert {a.id for a in await sweeps.alerts() if a.resolution is not None} == resolved, (
            "the pass resolved every message a full resolution would"
        )
        assert (await sweeps.due()).evaluated == 0, "a pass with nothing changed evaluates nothing"
        await _post_some(store, clock, rng)

    assert any(a.status == AlertStatus.SENT and a.resolution for a in await sweeps.alerts()), (
        "scenario too tame"
    )


async def test_a_pass_with_nothing_due_evaluates_nothing_until_a_period_ends(
    store: Store, sweeps: Sweeps
) -> None:
    first = await sweeps.due()
    assert first.evaluated == len(ACCOUNTS)
    assert (await sweeps.due()).evaluated == 0
    doc = demo_document(DEMO_NOW)
    sweeps.clock.now = sweeps.clock.now.replace(hour=0) + (doc.next_payment_date - DEMO_NOW.date())
    assert (await sweeps.due()).evaluated == len(ACCOUNTS), "the period's end is an evaluation's due time"
    assert (await sweeps.due()).evaluated == 0
