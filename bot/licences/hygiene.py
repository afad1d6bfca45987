"""Licence hygiene before renewal: which licences are paid for and unused, and what they cost a month.

Unused means unassigned (purchased but held by nobody) or held by a staff member inactive for
`INACTIVE_AFTER` or more (or never active). Money is exact: the per-licence price times a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

from store.domain.bounds import PLACES
from store.domain.plan import FeatureKey, PlanSnapshot, Subscription
from store.domain.staff import StaffAccountDoc, StaffActivity

INACTIVE_AFTER: Final = timedelta(days=30)
"""A licensed staff member inactive this long (or more) is holding a licence nobody uses."""
NOTICE_DAYS_BEFORE_RENEWAL: Final = 7
"""Administrators are told this many days before the renewal (the next payment date), once a period."""
STAFF_PAGE: Final = "/staff"
"""The dashboard's staff page, when the plan's Staff Accounts feature does not name its own."""
PRICE_QUANTUM: Final = Decimal(1).scaleb(-PLACES)
"""A derived per-licence price is kept to the store's 4 decimal places."""


class PriceSource(StrEnum):
    STATED = "stated"  # the account's `licence_price`
    PLAN_FEE = "plan_fee"  # the plan's monthly fee divided by the licences purchased


@dataclass(frozen=True)
class LicencePrice:
    amount: Decimal
    source: PriceSource


@dataclass(frozen=True)
class LicenceHygiene:
    """What an administrator should look at before the renewal."""

    currency: str
    purchased: int
    assigned: int
    inactive: tuple[StaffAccountDoc, ...]
    """Licensed staff inactive for `INACTIVE_AFTER` or more: never active first, then the longest idle."""
    price: LicencePrice | None
    """None when neither the account nor its plan gives one (no licences purchased)."""
    staff_as_of: datetime | None
    """When the staff list arrived; None: the billing platform has sent none."""

    @property
    def unassigned(self) -> int:
        return max(self.purchased - self.assigned, 0)

    @property
    def unused(self) -> int:
        return self.unassigned + len(self.inactive)

    @property
    def has_findings(self) -> bool:
        return self.unused > 0

    def cost(self, licences: int) -> Decimal | None:
        """What `licences` cost a month, exactly; None without a price."""
        return None if self.price is None else self.price.amount * licences


def licence_price(subscription: Subscription) -> LicencePrice | None:
    """The account's stated price per licence, else the plan's fee per purchased licence."""
    if subscription.licence_price is not None:
        return LicencePrice(subscription.licence_price, PriceSource.STATED)
    if subscription.staff_licences_purchased <= 0:
        return None
    per_licence = subscription.monthly_fee / subscription.staff_licences_purchased
    return LicencePrice(per_licence.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP), PriceSource.PLAN_FEE)


def is_inactive(member: StaffAccountDoc, now: datetime, after: timedelta = INACTIVE_AFTER) -> bool:
    return member.last_active_at is None or now - member.last_active_at >= after


def licence_hygiene(
    plan: PlanSnapshot, activity: StaffActivity, now: datetime, *, inactive_after: timedelta = INACTIVE_AFTER
) -> LicenceHygiene:
    """Unassigned licences (from the plan, as `/plan` shows them) and licensed staff idle for
    `inactive_after` or more (from the staff list), with the per-licence price."""
    sub = plan.subscription
    idle = [m for m in activity.staff if m.licensed and is_inactive(m, now, inactive_after)]
    idle.sort(
        key=lambda m: (m.last_active_at is not None, m.last_active_at or now, m.display_name.casefold())
    )
    return LicenceHygiene(
        currency=plan.account.currency,
        purchased=sub.staff_licences_purchased,
        assigned=sub.staff_licences_assigned,
        inactive=tuple(idle),
        price=licence_price(sub),
        staff_as_of=activity.received_at,
    )


def staff_page(plan: PlanSnapshot) -> str:
    """The dashboard path of staff management: the Staff Accounts feature's Manage page."""
    feature = next((f for f in plan.features if f.key == FeatureKey.STAFF_ACCOUNTS), None)
    return feature.manage_path if feature is not None and feature.manage_path else STAFF_PAGE


def notice_window(today: date) -> tuple[date, date]:
    """Renewal dates whose notice is due `today`: from tomorrow to `NOTICE_DAYS_BEFORE_RENEWAL` ahead
    (a worker that was down on the day itself still sends it before the renewal)."""
    return today + timedelta(days=1), today + timedelta(days=NOTICE_DAYS_BEFORE_RENEWAL)
