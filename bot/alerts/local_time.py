"""An account's local time: its time zone, and its quiet hours (when warnings wait). Pure functions
over the account's `AlertRules` (or anything carrying `time_zone` and `quiet`), for alerts and for
anything else that speaks to the account on its own clock (a weekly digest, say)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from store.domain.alerts import DEFAULT_TIME_ZONE, QuietHours

SATURDAY: Final = 5
_MAX_STEPS: Final = 8
"""Quiet segments one stretch can chain (a night, a weekend, the next night): far more than enough."""


class LocalSchedule(Protocol):
    """What local-time rules need of an account's settings (`AlertRules` and `ClaimedAlert` have it)."""

    @property
    def time_zone(self) -> str: ...

    @property
    def quiet(self) -> QuietHours | None: ...


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this system knows ('Europe/London', 'UTC')."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_of(schedule: LocalSchedule) -> ZoneInfo:
    """The account's time zone (UTC if the stored name is unknown here)."""
    name = schedule.time_zone if is_time_zone(schedule.time_zone) else DEFAULT_TIME_ZONE
    return ZoneInfo(name)


def local(schedule: LocalSchedule, moment: datetime) -> datetime:
    """`moment` on the account's clock."""
    return moment.astimezone(zone_of(schedule))


def at_local(schedule: LocalSchedule, day: date, clock: time) -> datetime:
    """The moment (UTC) it is `clock` on `day` in the account's time zone."""
    return datetime.combine(day, clock, tzinfo=zone_of(schedule)).astimezone(UTC)


def quiet_until(schedule: LocalSchedule, now: datetime) -> datetime | None:
    """When the quiet stretch `now` falls in ends (UTC), or None when `now` is not quiet."""
    quiet = schedule.quiet
    if quiet is None:
        return None
    moment, ended = local(schedule, now), None
    for _ in range(_MAX_STEPS):
        end = _segment_end(quiet, moment)
        if end is None:
            break
        moment = ended = end
    return ended.astimezone(UTC) if ended is not None else None


def _segment_end(quiet: QuietHours, moment: datetime) -> datetime | None:
    """The end of the quiet segment (a night, a weekend) `moment` (local) is in, or None."""
    zone, day, clock = moment.tzinfo, moment.date(), moment.time().replace(tzinfo=None)
    if quiet.weekends and moment.weekday() >= SATURDAY:
        monday = day + timedelta(days=7 - moment.weekday())
        return datetime.combine(monday, time(), tzinfo=zone)
    start, end = quiet.start, quiet.end
    if start == end:
        return None
    if start < end:  # within a day: 13:00–14:00
        return datetime.combine(day, end, tzinfo=zone) if start <= clock < end else None
    if clock >= start:  # overnight, before midnight
        return datetime.combine(day + timedelta(days=1), end, tzinfo=zone)
    if clock < end:  # overnight, after midnight
        return datetime.combine(day, end, tzinfo=zone)
    return None
