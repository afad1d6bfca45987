"""The retention policy: its settings and the moments they put each account's data before.

A period count N keeps the current billing period and the N - 1 before it whole; what is older than that
is rolled up (usage readings) or compacted (alerts). Periods are measured by the account's own period
length (`next_payment_date - period_start`), so an annual plan keeps years where a monthly one keeps
months."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from bot.digest.schedule import LATE_LIMIT
from store.domain.bounds import EARLIEST_DATE

if TYPE_CHECKING:
    from bot.settings import Settings

DIGEST_READS: Final = timedelta(days=7) + LATE_LIMIT
"""How far back the weekly digest reads readings one by one: its week, sent up to `LATE_LIMIT` late. Days
this recent are never rolled up, whatever the policy, so a digest reads what it would have read."""


@dataclass(frozen=True)
class RetentionPolicy:
    """The RETAIN_* settings (their defaults are the settings')."""

    readings_periods: int
    """Usage readings are kept one by one for this many billing periods, then rolled up to one a day."""
    daily_readings_periods: int
    """Rolled-up readings are kept for this many billing periods, then removed."""
    alert_periods: int
    """Alerts are kept whole for this many periods, then compacted to one per meter, kind and period."""
    traffic_months: int
    """Hourly traffic by destination (and spike alerts) is kept this many calendar months."""
    audit_years: int
    """Audit entries are kept this many years."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(**{f.name: getattr(settings, f"retain_{f.name}") for f in fields(cls)})

    @classmethod
    def defaults(cls, **changes: int) -> RetentionPolicy:
        """The settings' defaults, but for `changes`."""
        from bot.settings import Settings

        return cls(
            **{f.name: Settings.model_fields[f"retain_{f.name}"].default for f in fields(cls)} | changes
        )


def periods_back(period_start: date, next_payment: date, periods: int) -> date:
    """The first day kept whole when `periods` billing periods are: the start of the period `periods - 1`
    before the current one (periods as long as the current one; at least a day), not before the first
    sane date."""
    length = max((next_payment - period_start).days, 1)
    back = period_start.toordinal() - length * (periods - 1)
    return date.fromordinal(max(back, EARLIEST_DATE.toordinal()))


def months_back(moment: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last day)."""
    year, month_index = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month = month_index + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def rollup_end(first_kept_day: date, zone: ZoneInfo, now: datetime) -> datetime:
    """Readings before this moment may be rolled up: a local midnight, at or before both the UTC start of
    `first_kept_day` (from which the forecasts and charts of the current period read, in UTC) and the start
    of the days the weekly digest reads (`DIGEST_READS`)."""
    day = min(first_kept_day, (now - DIGEST_READS).astimezone(zone).date())
    end = local_midnight(day, zone)
    while end > datetime.combine(first_kept_day, time(), tzinfo=UTC):
        day -= timedelta(days=1)
        end = local_midnight(day, zone)
    return end


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """When `day` begins in `zone`, in UTC."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
