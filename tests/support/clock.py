"""Time in tests: a fixed "now" for the sample data, and a clock the test moves instead of waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEMO_NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
"""A fixed "now" for sample data, so views and snapshots do not drift with the calendar."""


class FakeClock:
    """'Now' for the alert service, moved by the test instead of waited for."""

    def __init__(self, now: datetime = DEMO_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
