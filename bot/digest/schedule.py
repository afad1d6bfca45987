"""When an account's weekly digest is due: its weekday at its hour on the account's own clock.

The week is a local week (from the same weekday and hour seven days earlier), so across a daylight
saving change it is 167 or 169 hours long, and the digest still comes at 09:00 local time. A week whose
due moment passed more than `LATE_LIMIT` ago (the workers were down) is skipped, not sent late: at most
the latest week's digest goes out, never a backlog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from store.domain.digests import DigestSchedule

LATE_LIMIT: Final = timedelta(hours=24)
"""How late a missed digest may still be sent (a worker that was down); after that the week is skipped."""


@dataclass(frozen=True)
class DigestWeek:
    """The week a digest covers: [since, until) in UTC, and its key, the local date it ends on."""

    week: date
    since: datetime
    until: datetime


def local_moment(zone: ZoneInfo, day: date, hour: int) -> datetime:
    """The moment (UTC) it is `hour`:00 on `day` in `zone` (an hour skipped by DST is read as before it)."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def latest_due(schedule: DigestSchedule, zone: ZoneInfo, now: datetime) -> datetime:
    """The last due moment at or before `now` (UTC)."""
    today = now.astimezone(zone).date()
    day = today - timedelta(days=(today.weekday() - schedule.weekday) % 7)
    due = local_moment(zone, day, schedule.hour)
    return due if due <= now else local_moment(zone, day - timedelta(days=7), schedule.hour)


def due_week(schedule: DigestSchedule, zone: ZoneInfo, now: datetime) -> DigestWeek | None:
    """The week whose digest is due now (from its due moment until `LATE_LIMIT` after), or None."""
    if not schedule.enabled:
        return None
    due = latest_due(schedule, zone, now)
    return week_ending(zone, due) if now - due < LATE_LIMIT else None


def week_ending(zone: ZoneInfo, end: datetime) -> DigestWeek:
    """The local week ending at `end`: from the same local time seven days before."""
    local_end = end.astimezone(zone)
    start = datetime.combine(local_end.date() - timedelta(days=7), local_end.time(), tzinfo=zone)
    return DigestWeek(week=local_end.date(), since=start.astimezone(UTC), until=end.astimezone(UTC))
