"""The pure rules of quota alerts: crossings, forecasts, snoozes, backoff, Slack outcomes, pacing."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import selectors
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.alerts.forecast import (
    days_before_renewal,
    forecast,
    forecast_alert,
    forecast_from_readings,
    pace_per_day,
    runs_out_before_renewal,
    stats_of,
)
from bot.alerts.rules import (
    SnoozeChoice,
    backoff,
    crossed,
    new_crossings,
    period_end_at,
    snooze_until,
    valid_thresholds,
)
from handlers.posting import ChannelPacer, Refused, Retry, WorkspaceGone, classify
from handlers.slack_calls import retry_after
from store.domain.alerts import ForecastCandidate, meter_label
from store.usage import Reading
from tests.support.clock import DEMO_NOW

START = date(2026, 11, 1)
RENEWAL = date(2026, 12, 1)


def daily(values: Sequence[float], *, start: date = START, meter: str = "voice_minutes") -> list[Reading]:
    """One reading a day at noon, from the day after `start`."""
    base = datetime(start.year, start.month, start.day, 12, tzinfo=UTC)
    return [
        Reading(meter=meter, used=Decimal(str(v)), at=base + timedelta(days=i + 1))
        for i, v in enumerate(values)
    ]


# ---------------------------------------------------------------------------------------- crossings


@pytest.mark.parametrize(
    ("used", "available", "expected"),
    [
        (Decimal(3999), Decimal(5000), []),
        (Decimal(4000), Decimal(5000), [80]),  # exactly 80%
        (Decimal("79.9999"), Decimal(100), []),
        (Decimal("0.8"), Decimal(1), [80]),  # exact decimals, no float rounding
        (Decimal(4600), Decimal(5000), [80, 90]),
        (Decimal(5200), Decimal(5000), [80, 90, 100]),
        (Decimal(0), Decimal(0), []),  # no allowance, nothing used
        (Decimal(1), Decimal(0), [80, 90, 100]),
    ],
)
def test_crossed_thresholds(used: Decimal, available: Decimal, expected: list[int]) -> None:
    assert crossed(used, available, (100, 80, 90)) == expected


def test_a_dip_and_a_rise_do_not_cross_again() -> None:
    thresholds = (80, 90, 100)
    alerted: set[int] = set()
    for used in (4100, 3000, 4200, 4600, 1000, 4700):
        alerted |= set(new := new_crossings(used, 5000, thresholds, alerted))
        if used == 4200:
            assert new == [], "80% alerted already this period"
    assert alerted == {80, 90}


def test_threshold_choices_are_validated() -> None:
    assert valid_thresholds([90, 80, 90]) == (80, 90)
    with pytest.raises(ValueError, match="1 to 100"):
        valid_thresholds([0, 80])
    with pytest.raises(ValueError, match="1 to 100"):
        valid_thresholds([101])


def test_meter_labels() -> None:
    assert [meter_label(m) for m in ("storage_gb", "staff_licences", "feature:directory", "odd")] == [
        "Storage",
        "Staff licences",
        "Directory",
        "odd",
    ]


# ---------------------------------------------------------------------------------------- forecasts


def test_a_steady_pace_runs_out_when_the_line_says() -> None:
    readings = daily([100 * (i + 1) for i in range(10)])  # 100 min a day; 1,000 used on day 10 at noon
    result = forecast_from_readings(
        readings, period_start=START, used=Decimal(1000), available=Decimal(2000), as_of=readings[-1].at
    )
    assert result is not None
    assert result.runs_out_at == readings[-1].at + timedelta(days=10)  # 1,000 left at 100 a day
    assert (result.readings, result.days) == (10, Decimal("9.0"))
    assert runs_out_before_renewal(result, RENEWAL)
    assert result.runs_out_at == datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert days_before_renewal(result, RENEWAL) == 10


def test_least_squares_smooths_a_noisy_pace() -> None:
    noisy = [90, 230, 280, 420, 480, 610, 700, 790, 910, 990]
    stats = stats_of(daily(noisy), START)
    assert stats is not None
    pace = pace_per_day(stats)
    assert pace is not None
    assert pace == pytest.approx(100, rel=0.05)


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ([100, 200], "two readings are too few"),
        ([], "no readings"),
        ([500, 500, 500, 500], "usage is not rising"),
        ([900, 800, 700], "usage is falling (storage freed)"),
    ],
)
def test_no_forecast_from_too_little_data_or_no_rise(values: list[float], why: str) -> None:
    readings = daily(values)
    used = Decimal(str(values[-1])) if values else Decimal(0)
    as_of = readings[-1].at if readings else DEMO_NOW
    assert (
        forecast_from_readings(readings, period_start=START, used=used, available=Decimal(2000), as_of=as_of)
        is None
    ), why


def test_no_forecast_from_readings_spanning_less_than_two_days() -> None:
    base = datetime(2026, 11, 5, tzinfo=UTC)
    readings = [
        Reading(meter="voice_minutes", used=Decimal(10 * i), at=base + timedelta(hours=6 * i))
        for i in range(8)
    ]
    assert (
        forecast_from_readings(
            readings, period_start=START, used=Decimal(70), available=Decimal(100), as_of=readings[-1].at
        )
        is None
    )


def test_no_forecast_once_the_allowance_is_used_up() -> None:
    readings = daily([500, 1000, 1500, 2000])
    assert (
        forecast_from_readings(
            readings, period_start=START, used=Decimal(2000), available=Decimal(2000), as_of=readings[-1].at
        )
        is None
    )


def test_a_slow_pace_lasts_beyond_renewal_and_is_not_alerted() -> None:
    readings = daily([10, 20, 30, 40, 50])
    stats = stats_of(readings, START)
    assert stats is not None
    candidate = ForecastCandidate(
        account_id="a",
        meter="voice_minutes",
        period_start=START,
        period_end=RENEWAL,
        used=Decimal(50),
        available=Decimal(5000),
        unit="min",
        as_of=readings[-1].at,
        stats=stats,
    )
    result = forecast(stats, used=Decimal(50), available=Decimal(5000), as_of=readings[-1].at)
    assert result is not None
    assert not runs_out_before_renewal(result, RENEWAL)
    assert forecast_alert(candidate) is None
    fast = dataclasses.replace(candidate, available=Decimal(100))
    assert forecast_alert(fast) is not None


def test_a_near_zero_pace_is_capped_not_overflowing() -> None:
    readings = daily([1, 1.0001, 1.0002])
    result = forecast_from_readings(
        readings, period_start=START, used=Decimal("1.0002"), available=Decimal(10**9), as_of=readings[-1].at
    )
    assert result is not None
    assert result.runs_out_at.year < 2040


# ---------------------------------------------------------------------------------- snooze, backoff


def test_snooze_for_a_day_or_until_renewal() -> None:
    now = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert snooze_until(SnoozeChoice.DAY, now, RENEWAL) == now + timedelta(days=1)
    assert snooze_until(SnoozeChoice.PERIOD, now, RENEWAL) == period_end_at(RENEWAL)
    assert period_end_at(RENEWAL) == datetime(2026, 12, 1, tzinfo=UTC)


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff(30) == timedelta(minutes=10)


# ------------------------------------------------------------------------------ Slack's answers


def _slack_error(status: int, body: dict[str, Any], headers: dict[str, Any] | None = None) -> SlackApiError:
    class Response:
        def __init__(self) -> None:
            self.status_code = status
            self.data = body
            self.headers = headers or {}

    return SlackApiError("failed", Response())  # type: ignore[no-untyped-call]


def test_slack_failures_are_classified() -> None:
    assert classify(_slack_error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"})) == Retry(
        reason="ratelimited", after=7.0
    )
    assert classify(_slack_error(503, {"ok": False})) == Retry(reason="http_503")
    assert classify(_slack_error(200, {"ok": False, "error": "internal_error"})) == Retry(
        reason="internal_error"
    )
    assert classify(_slack_error(200, {"ok": False, "error": "not_in_channel"})) == Refused(
        reason="not_in_channel", channel_problem=True
    )
    assert classify(_slack_error(200, {"ok": False, "error": "invalid_blocks"})) == Refused(
        reason="invalid_blocks", channel_problem=False
    )
    assert classify(_slack_error(200, {"ok": False, "error": "token_revoked"})) == WorkspaceGone(
        reason="token_revoked"
    )


def test_retry_after_reads_strings_and_lists() -> None:
    assert retry_after({"retry-after": ["3"]}) == 3.0
    assert retry_after({"Retry-After": "12"}) == 12.0
    assert retry_after({"Content-Type": "text/plain"}) is None
    assert retry_after({"Retry-After": "soon"}) is None


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when it would wait for a timer: a sleep ends at once, with
    `time()` moved on by exactly the time slept. Pacing is checked without waiting or measuring."""

    def __init__(self) -> None:
        self.now = 0.0
        super().__init__(_JumpToNextTimer(self))

    def time(self) -> float:
        return self.now


class _JumpToNextTimer(selectors.DefaultSelector):
    """Instead of blocking until the next timer is due, move the loop's clock to it."""

    def __init__(self, loop: VirtualClockLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout > 0:
            self._loop.now += timeout
            timeout = 0
        return super().select(timeout)


def test_pacing_spaces_one_channel_and_leaves_others_alone() -> None:
    pacer = ChannelPacer(0.05)
    loop = VirtualClockLoop()
    times: dict[str, list[float]] = {"C1": [], "C2": []}

    async def send(channel: str) -> None:
        await pacer.wait(channel)
        times[channel].append(loop.time())

    async def sends() -> None:
        await asyncio.gather(*(send("C1") for _ in range(3)), send("C2"))

    started = loop.time()
    try:
        loop.run_until_complete(sends())
    finally:
        loop.close()
    c1 = sorted(times["C1"])
    gaps = [later - earlier for earlier, later in itertools.pairwise(c1)]
    assert gaps == pytest.approx([0.05, 0.05]), "one message per interval"
    assert c1[0] == started, "the first message is not held up"
    assert times["C2"] == [started], "another channel is not held up"
