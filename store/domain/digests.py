"""The weekly digest: each account's schedule (on, weekday, hour on its own clock) and the record of each
digest sent, claimed before it is posted so that it goes out once per week however many workers run."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Final

from pydantic import Field

from store.domain.plan import Frozen

MONDAY: Final = 0
DEFAULT_HOUR: Final = 9
WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class DigestSchedule(Frozen):
    """When the account's digest is due: `weekday` (0 is Monday) at `hour`:00 in its time zone."""

    enabled: bool = True
    weekday: int = Field(default=MONDAY, ge=0, le=6)
    hour: int = Field(default=DEFAULT_HOUR, ge=0, le=23)
    updated_at: datetime | None = None
    updated_by: str | None = None

    def audit_view(self) -> dict[str, object]:
        return {"enabled": self.enabled, "weekday": WEEKDAYS[self.weekday], "hour": self.hour}

    def same_times(self, other: DigestSchedule) -> bool:
        return (self.enabled, self.weekday, self.hour) == (other.enabled, other.weekday, other.hour)


class DigestAccount(Frozen):
    """A linked account, with what deciding whether its digest is due needs."""

    account_id: str
    schedule: DigestSchedule


class DigestStatus(StrEnum):
    SENDING = "sending"
    """Claimed; its post is under way (or its process died: the week is then not sent)."""
    RETRY = "retry"
    """Certainly not posted (Slack answered 429): the next pass may claim it again, while it is due."""
    SENT = "sent"
    FAILED = "failed"


class Digest(Frozen):
    id: int
    account_id: str
    week: date
    """The local date it was due (a scheduled digest) or sent (by hand)."""
    scheduled: bool
    status: DigestStatus
    attempts: int
    channel: str | None = None
    ts: str | None = None
    error: str | None = None
    claimed_at: datetime
    finished_at: datetime | None = None


class FeatureStatusSince(Frozen):
    """A feature whose status changed in the window: what it is now, and since when."""

    key: str
    status: str
    since: datetime
