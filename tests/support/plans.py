"""The sample account as a domain snapshot, for tests of the pure view builders."""

from __future__ import annotations

from typing import Any

from bot.demo import demo_document
from store.domain.plan import Account, Allowance, Feature, PlanSnapshot, Subscription
from tests.support.clock import DEMO_NOW


def demo_plan(**feature_changes: dict[str, Any]) -> PlanSnapshot:
    """The sample account as the store would return it, with every feature present."""
    doc = demo_document(DEMO_NOW)
    assert doc.data_as_of is not None
    features = []
    for key, feature in doc.features.items():
        fields = {**feature.model_dump(exclude={"status_since"}), **feature_changes.get(key.value, {})}
        features.append(Feature(key=key, status_since=feature.status_since or doc.data_as_of, **fields))
    return PlanSnapshot(
        account=Account(
            id="demo",
            company_name=doc.company_name,
            voip_rate_per_min=doc.voip_rate_per_min,
            data_as_of=doc.data_as_of,
        ),
        subscription=Subscription(**doc.model_dump(include=set(Subscription.model_fields))),
        allowances=tuple(
            Allowance(meter=m, available=a.available, used=a.used) for m, a in doc.allowances.items()
        ),
        features=tuple(features),
    )
