"""Rolling usage readings up to one a day without changing what is read from them.

A reading is the meter's figure for the current period, so a day's last reading says where the day ended
and the ones before it add nothing, except around a fall (a new period starting from zero, a correction):
the digest counts what was used as the sum of the rises between readings, a fall counting from zero, and
that sum only survives if the reading before a fall and the one after it stay. So a reading is kept when
it is its day's last (in the account's time zone), when the next reading is lower, or when the one before
is higher. Between two kept readings the rest only rise, so the rises between the kept ones add up to the
same sum, over any span that starts and ends at a local midnight; and thinning again keeps them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from store.retention import StoredReading


def to_drop(readings: Sequence[StoredReading], zone: ZoneInfo, before: Mapping[str, Decimal]) -> list[int]:
    """The ids of `readings` (oldest first, whole local days) the roll-up removes. `before`: each meter's
    reading just before them, if any."""
    by_meter: dict[str, list[StoredReading]] = defaultdict(list)
    for reading in readings:
        # A figure that is not a number (stored before the bounds) is read by nothing: left as it is.
        if reading.used.is_finite():
            by_meter[reading.meter].append(reading)
    drop: list[int] = []
    for meter, series in by_meter.items():
        previous = before.get(meter)
        drop.extend(
            _meter_drops(series, zone, previous if previous is not None and previous.is_finite() else None)
        )
    return drop


def _meter_drops(series: list[StoredReading], zone: ZoneInfo, previous: Decimal | None) -> Iterator[int]:
    days = _LocalDays(zone)
    for index, reading in enumerate(series):
        following = series[index + 1] if index + 1 < len(series) else None
        last_of_day = following is None or not days.same_day(reading.at, following.at)
        falls_next = following is not None and following.used < reading.used
        first_or_after_fall = previous is None or previous > reading.used
        if not (last_of_day or falls_next or first_or_after_fall):
            yield reading.id
        previous = reading.used


class _LocalDays:
    """Whether two moments (the second not earlier) fall on one local day: the day's end is worked out once
    a day, not a time-zone conversion a reading."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._start = self._end = datetime.min.replace(tzinfo=UTC)

    def same_day(self, first: datetime, second: datetime) -> bool:
        if not self._start <= first < self._end:
            day = first.astimezone(self._zone).date()
            self._start = datetime.combine(day, time(), tzinfo=self._zone).astimezone(UTC)
            self._end = datetime.combine(day + timedelta(days=1), time(), tzinfo=self._zone).astimezone(UTC)
        return second < self._end
