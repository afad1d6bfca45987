"""The sample account as a domain snapshot, for tests of the pure view builders, and as the billing platform
sends it when a period starts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.demo import add_month, demo_document
from store.domain.account import AccountDocument, AllowanceDoc
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


def next_period(doc: AccountDocument) -> AccountDocument:
    """`doc` as the billing platform sends it when the next billing period starts: usage back to zero."""
    return doc.model_copy(
        update={
            "period_start": doc.next_payment_date,
            "next_payment_date": add_month(doc.next_payment_date),
            "allowances": {
                m: AllowanceDoc(available=a.available, used=Decimal(0)) for m, a in doc.allowances.items()
            },
        }
    )
