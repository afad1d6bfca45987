"""Alert rules: which thresholds a reading crosses, snoozes, retry backoff. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from store.domain.plan import STAFF_LICENCES, FeatureStatus, Meter, PlanSnapshot, feature_meter

THRESHOLD_CHOICES: Final[tuple[int, ...]] = tuple(range(5, 101, 5))
"""The percentages administrators can pick in the alert settings."""


def crossed(used: Decimal | int, available: Decimal | int, thresholds: Iterable[int]) -> list[int]:
    """The thresholds (percent) that `used` of `available` has reached, lowest first. Exact (Decimal).

    An allowance of zero counts as 100% used as soon as anything is used, and 0% before."""
    used, available = Decimal(used), Decimal(available)
    if available <= 0 and used <= 0:
        return []
    return sorted(p for p in set(thresholds) if used * 100 >= p * available)


def new_crossings(
    used: Decimal | int, available: Decimal | int, thresholds: Iterable[int], already: Iterable[int]
) -> list[int]:
    """Crossed thresholds not alerted yet this period: each (meter, threshold, period) alerts once,
    so a dip below a threshold and a rise above it again changes nothing."""
    done = set(already)
    return [p for p in crossed(used, available, thresholds) if p not in done]


def valid_thresholds(values: Iterable[int]) -> tuple[int, ...]:
    """Sorted, distinct percentages in 1…100; ValueError names what is wrong."""
    result = tuple(sorted(set(values)))
    if any(not 1 <= p <= 100 for p in result):
        raise ValueError("thresholds are percentages from 1 to 100")
    return result


def midnight(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time(), tzinfo=UTC)


def period_end_at(renewal: date) -> datetime:
    """When a billing period ends: midnight UTC at the start of the next payment date."""
    return midnight(renewal)


class SnoozeChoice(StrEnum):
    DAY = "day"
    PERIOD = "period"

    @property
    def label(self) -> str:
        return "For 1 day" if self is SnoozeChoice.DAY else "Until renewal"


def snooze_until(choice: SnoozeChoice, now: datetime, renewal: date) -> datetime:
    """The end of a snooze chosen now; "until renewal" ends with the billing period."""
    if choice is SnoozeChoice.DAY:
        return now + timedelta(days=1)
    return max(period_end_at(renewal), now)


RETRY_BASE: Final = timedelta(seconds=2)
RETRY_CAP: Final = timedelta(minutes=10)
MAX_ATTEMPTS: Final = 25
"""With the backoff below, about three hours of Slack trouble before an alert is given up on."""


def backoff(attempt: int, *, base: timedelta = RETRY_BASE, cap: timedelta = RETRY_CAP) -> timedelta:
    """Wait before retry number `attempt` (1-based): 2 s, 4 s, 8 s … capped at 10 minutes."""
    delay: timedelta = base * 2 ** max(attempt - 1, 0)
    return min(delay, cap)


def answered_in_lease(now: datetime, claimed_at: datetime, lease: timedelta, timeout: float) -> bool:
    """Whether a call made `now`, given up after `timeout` seconds, is answered (with as long again to
    record it) before the lease taken at `claimed_at` runs out, when another pass may take the work over
    and do it again. Every outbox (alerts, spike alerts, notices, the block webhook) asks before a post."""
    return now <= claimed_at + lease - timedelta(seconds=2 * timeout)


def watched_meters(plan: PlanSnapshot) -> list[str]:
    """The meters alerts watch for an account: its allowances, staff licences, and every Available
    feature that has a limit — in the order the plan shows them."""
    meters = [meter.value for meter in Meter if plan.allowance(meter) is not None]
    meters.append(STAFF_LICENCES)
    meters += [
        feature_meter(f.key)
        for f in plan.features
        if f.status == FeatureStatus.AVAILABLE and f.limit is not None
    ]
    return meters
