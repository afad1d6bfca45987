"""Repositories against the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.demo import DEMO_ACCOUNT, demo_document, load_demo
from store import Store
from store.domain.plan import FeatureStatus, Meter
from store.errors import NotFound
from store.usage import Reading
from tests.support.clock import DEMO_NOW


async def test_demo_has_every_feature_status_and_an_allowance_just_under_80(demo: Store) -> None:
    plan = await demo.accounts.snapshot(DEMO_ACCOUNT)
    assert len(plan.features) == 7
    assert {f.status for f in plan.features} == set(FeatureStatus)
    voice = plan.allowance(Meter.VOICE_MINUTES)
    assert voice is not None
    assert Decimal(75) <= voice.used * 100 / voice.available < Decimal(80)
    assert await demo.workspaces.account_for_team("T0DEMO") == DEMO_ACCOUNT
    assert await demo.admins.list(DEMO_ACCOUNT) == ["U0DEMOADMIN"]


async def test_loading_the_demo_twice_leaves_the_same_state(demo: Store) -> None:
    before = await demo.accounts.snapshot(DEMO_ACCOUNT)
    readings = await demo.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW - timedelta(days=40))
    await load_demo(demo, now=DEMO_NOW)
    assert await demo.accounts.snapshot(DEMO_ACCOUNT) == before
    assert (
        await demo.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW - timedelta(days=40))
        == readings
    )


async def test_money_keeps_every_decimal_place(store: Store) -> None:
    doc = demo_document(DEMO_NOW).model_copy(
        update={"monthly_fee": Decimal("1234567.89"), "voip_rate_per_min": Decimal("0.0123")}
    )
    await store.accounts.upsert("exact", doc)
    plan = await store.accounts.snapshot("exact")
    assert plan.subscription.monthly_fee == Decimal("1234567.89")
    assert plan.account.voip_rate_per_min == Decimal("0.0123")
    assert isinstance(plan.account.voip_rate_per_min, Decimal)
    assert plan.account.data_as_of.tzinfo is not None


async def test_latest_reading_wins_and_history_keeps_all(demo: Store) -> None:
    later, earlier = DEMO_NOW + timedelta(hours=2), DEMO_NOW + timedelta(hours=1)
    await demo.usage.record(DEMO_ACCOUNT, [Reading(meter="voice_minutes", used=Decimal(4100), at=later)])
    await demo.usage.record(DEMO_ACCOUNT, [Reading(meter="voice_minutes", used=Decimal(4000), at=earlier)])
    voice = (await demo.accounts.snapshot(DEMO_ACCOUNT)).allowance(Meter.VOICE_MINUTES)
    assert voice is not None
    assert voice.used == 4100
    history = await demo.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW)
    assert [r.used for r in history] == [4000, 4100]


async def test_unknown_accounts_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.accounts.snapshot("nope")
    with pytest.raises(NotFound):
        await store.workspaces.link("T1", "nope")
    with pytest.raises(NotFound):
        await store.admins.add("nope", "U1")


async def test_a_status_change_moves_status_since_only_when_it_changes(demo: Store) -> None:
    doc = demo_document(DEMO_NOW)
    feature_since = {f.key: f.status_since for f in (await demo.accounts.snapshot(DEMO_ACCOUNT)).features}
    await demo.accounts.upsert(DEMO_ACCOUNT, doc, now=DEMO_NOW + timedelta(days=1))
    assert {
        f.key: f.status_since for f in (await demo.accounts.snapshot(DEMO_ACCOUNT)).features
    } == feature_since
