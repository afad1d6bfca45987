"""The upgrade request store: one request per double submit, per-account lookups, forward-only status."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.demo import demo_document
from store import Store
from store.domain.plan import FeatureKey
from store.domain.upgrades import Delivery, Evidence, UpgradeDraft, UpgradeKind, UpgradeStatus
from store.errors import NotFound
from tests.support.clock import DEMO_NOW

pytestmark = pytest.mark.usefixtures("demo")


async def draft_for(store: Store, **changes: object) -> UpgradeDraft:
    plan = await store.accounts.snapshot("demo")
    fields: dict[str, object] = {
        "account_id": "demo",
        "team_id": "T0DEMO",
        "requested_by": "U0DEMOADMIN",
        "kind": UpgradeKind.VOICE_MINUTES,
        "quantity": 2000,
        "note": "Busy season",
        "evidence": Evidence.of(plan),
    }
    fields.update(changes)
    return UpgradeDraft.model_validate(fields)


async def test_a_request_is_stored_with_its_evidence_and_audited(store: Store) -> None:
    request, created = await store.upgrades.create(await draft_for(store), now=DEMO_NOW)
    assert created
    assert request.id.startswith("UR-")
    assert request.status == UpgradeStatus.REQUESTED
    assert request.delivery == Delivery.PENDING
    stored = await store.upgrades.get("demo", request.id)
    assert stored == request
    assert stored.evidence.plan_name == "BUSINESS"
    assert [f.name for f in stored.evidence.allowances] == [
        "Voice call minutes",
        "Video call minutes",
        "Storage",
        "Staff licences",
    ]
    assert stored.evidence.allowances[2].used == Decimal("37.5")  # Decimal through JSON, exactly
    audit = await store.audit.recent("demo", action="upgrade.requested")
    assert audit[0].actor == "U0DEMOADMIN"
    assert audit[0].after == {"id": request.id, "kind": "voice_minutes", "quantity": 2000, "feature": None}


@pytest.mark.parametrize("seconds_later", [0, 30, 59])
async def test_the_same_request_within_a_minute_is_one_request(store: Store, seconds_later: int) -> None:
    first, _ = await store.upgrades.create(await draft_for(store), now=DEMO_NOW)
    again, created = await store.upgrades.create(
        await draft_for(store, note="  Busy   season "), now=DEMO_NOW + timedelta(seconds=seconds_later)
    )
    assert not created
    assert again.id == first.id
    assert len(await store.upgrades.recent("demo")) == 1


async def test_a_different_or_later_request_is_a_new_one(store: Store) -> None:
    await store.upgrades.create(await draft_for(store), now=DEMO_NOW)
    _, more = await store.upgrades.create(await draft_for(store, quantity=3000), now=DEMO_NOW)
    _, other_user = await store.upgrades.create(await draft_for(store, requested_by="U0OTHER"), now=DEMO_NOW)
    _, later = await store.upgrades.create(await draft_for(store), now=DEMO_NOW + timedelta(seconds=61))
    assert (more, other_user, later) == (True, True, True)
    assert len(await store.upgrades.recent("demo")) == 4


async def test_requests_are_only_found_in_their_own_account(store: Store) -> None:
    await store.accounts.upsert("other", demo_document(DEMO_NOW))
    request, _ = await store.upgrades.create(await draft_for(store), now=DEMO_NOW)
    with pytest.raises(NotFound):
        await store.upgrades.get("other", request.id)
    with pytest.raises(NotFound):
        await store.upgrades.advance("other", request.id, UpgradeStatus.DONE, by="U0SALES")
    with pytest.raises(NotFound):
        await store.upgrades.record_delivery("other", request.id, Delivery.DELIVERED)
    assert (await store.upgrades.get("demo", request.id)).status == UpgradeStatus.REQUESTED


async def test_status_only_moves_forward(store: Store) -> None:
    request, _ = await store.upgrades.create(await draft_for(store), now=DEMO_NOW)
    acked, changed = await store.upgrades.advance(
        "demo", request.id, UpgradeStatus.ACKNOWLEDGED, by="U0SALES"
    )
    assert changed
    assert acked.acknowledged_by == "U0SALES"
    assert acked.acknowledged_at is not None
    done, changed = await store.upgrades.advance("demo", request.id, UpgradeStatus.DONE, by="U0SALES2")
    assert changed
    assert (done.status, done.done_by) == (UpgradeStatus.DONE, "U0SALES2")
    again, changed = await store.upgrades.advance("demo", request.id, UpgradeStatus.ACKNOWLEDGED, by="U0X")
    assert not changed
    assert again.acknowledged_by == "U0SALES"
    actions = [entry.action for entry in await store.audit.recent("demo")]
    assert actions[:2] == ["upgrade.done", "upgrade.acknowledged"]


async def test_delivery_is_recorded(store: Store) -> None:
    request, _ = await store.upgrades.create(
        await draft_for(store, kind=UpgradeKind.FEATURE, quantity=None, feature=FeatureKey.CAMPAIGNS),
        now=DEMO_NOW,
    )
    failed = await store.upgrades.record_delivery(
        "demo", request.id, Delivery.FAILED, channel="C0SALES", error="not_in_channel"
    )
    assert (failed.delivery, failed.delivery_error, failed.feature) == (
        Delivery.FAILED,
        "not_in_channel",
        FeatureKey.CAMPAIGNS,
    )
    delivered = await store.upgrades.record_delivery(
        "demo", request.id, Delivery.DELIVERED, channel="C0SALES", ts="1700000000.000100"
    )
    assert (delivered.delivery, delivered.sales_ts, delivered.delivery_error) == (
        Delivery.DELIVERED,
        "1700000000.000100",
        None,
    )
