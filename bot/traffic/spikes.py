"""Spike and toll-fraud detection: an area's traffic in the last 12 hours against its own recent history.

The method (docs/traffic-alerts.md):

- **Window**: the 12 hours ending with the newest hour the platform sent.
- **Baseline**: the account's daily totals for that area and kind over the 28 days before the window's
  first day, each halved (a day holds two 12-hour windows); days before the account's first traffic are
  not counted, days since without traffic to the area count as 0. Its centre is the median and its
  spread 1.4826 × the median absolute deviation (MAD): neither moves when a few days were outliers,
  as a mean and a standard deviation would.
- **A spike**: the window's volume reaches the minimum volume, and exceeds both the baseline's median plus
  `spread` robust deviations (at least a tenth of the median, or 1) and `factor` × the median.
- **A new account** (its first traffic less than 14 days before the window) is not flagged, but for
  high-risk destinations; an area without history for an older account has a baseline of 0, so new
  traffic to it is judged by the minimum volume alone.
- **High-risk destinations** (`bot.traffic.high_risk`) lower the bar: a smaller minimum volume, fewer
  deviations, a smaller factor, and no minimum history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Final

from store import Store
from store.domain.traffic import SpikeClaim, TrafficHour, TrafficKind, TrafficSeries

WINDOW: Final = timedelta(hours=12)
BASELINE_DAYS: Final = 28
MIN_HISTORY_DAYS: Final = 14
MAD_SCALE: Final = Decimal("1.4826")
"""Makes the MAD estimate a standard deviation for normally distributed figures."""
DAYS_PER_WINDOW: Final = Decimal(2)


@dataclass(frozen=True, slots=True)
class Bar:
    min_volume: Mapping[str, Decimal]
    """Per kind: minutes of voice, messages of SMS in the window."""
    spread: Decimal
    """Robust deviations above the median."""
    factor: Decimal
    """Times the median."""
    min_history_days: int


NORMAL: Final = Bar({"voice": Decimal(60), "sms": Decimal(200)}, Decimal(6), Decimal(3), MIN_HISTORY_DAYS)
HIGH_RISK: Final = Bar({"voice": Decimal(10), "sms": Decimal(20)}, Decimal(3), Decimal(2), 0)


@dataclass(frozen=True, slots=True)
class Baseline:
    median: Decimal
    spread: Decimal
    days: int


def baseline(days: Mapping[date, Decimal], window_start: datetime, history_start: date) -> Baseline:
    """The 12-hour baseline from daily totals (see the module's docstring); 0 over no days."""
    first_day = window_start.date()
    samples = [
        days.get(day, Decimal(0)) / DAYS_PER_WINDOW
        for offset in range(1, BASELINE_DAYS + 1)
        if (day := first_day - timedelta(days=offset)) >= history_start
    ]
    if not samples:
        return Baseline(Decimal(0), Decimal(0), 0)
    centre = median(samples)
    deviation = median(abs(sample - centre) for sample in samples)
    return Baseline(centre, deviation * MAD_SCALE, len(samples))


def is_spike(volume: Decimal, kind: str, base: Baseline, *, high_risk: bool, history_days: int) -> bool:
    bar = HIGH_RISK if high_risk else NORMAL
    if volume < bar.min_volume[kind] or history_days < bar.min_history_days:
        return False
    spread = max(base.spread, base.median / 10, Decimal(1))
    return volume > base.median + bar.spread * spread and volume > bar.factor * base.median


async def find_spikes(
    store: Store, account_id: str, hours: Sequence[datetime], areas: Iterable[str], now: datetime
) -> list[SpikeClaim]:
    """The spikes in the areas just sent, judged on the window ending with the newest hour sent, without
    those muted now. Reads only; `store.traffic.claim_spikes` claims them."""
    end = max(hours) + timedelta(hours=1)
    start = end - WINDOW
    wanted = set(areas)
    window = [figure for figure in await store.traffic.hours(account_id, start, end) if figure.area in wanted]
    # Most areas are under the least minimum volume: their history is not even read.
    candidates = {key: figures for key, figures in _by_series(window).items() if _may_spike(figures)}
    if not candidates:
        return []
    history_start = await store.traffic.history_start(account_id)
    if history_start is None:
        return []
    series = {(s.area, s.kind): s for s in await store.traffic.series(account_id, {a for a, _ in candidates})}
    muted = await store.traffic_alerts.muted(account_id, now)
    found = []
    for key, figures in candidates.items():
        if key in muted:
            continue
        claim = _judge(figures, series.get(key), start, end, history_start)
        if claim is not None:
            found.append(claim)
    return found


def _may_spike(figures: list[TrafficHour]) -> bool:
    bar = HIGH_RISK if any(f.high_risk for f in figures) else NORMAL
    return sum((f.quantity for f in figures), Decimal(0)) >= bar.min_volume[figures[0].kind]


def _by_series(figures: Iterable[TrafficHour]) -> dict[tuple[str, TrafficKind], list[TrafficHour]]:
    grouped: dict[tuple[str, TrafficKind], list[TrafficHour]] = {}
    for figure in figures:
        grouped.setdefault((figure.area, figure.kind), []).append(figure)
    return grouped


def _judge(
    figures: list[TrafficHour],
    series: TrafficSeries | None,
    start: datetime,
    end: datetime,
    history_start: date,
) -> SpikeClaim | None:
    kind = figures[0].kind
    volume = sum((f.quantity for f in figures), Decimal(0))
    high_risk = any(f.high_risk for f in figures)
    base = baseline(series.days if series else {}, start, history_start)
    history_days = (start.date() - history_start).days
    if not is_spike(volume, kind, base, high_risk=high_risk, history_days=history_days):
        return None
    newest = max(figures, key=lambda f: (f.hour, f.rate is not None))
    by_destination: dict[str, Decimal] = {}
    for figure in figures:
        by_destination[figure.destination] = (
            by_destination.get(figure.destination, Decimal(0)) + figure.quantity
        )
    return SpikeClaim(
        area=figures[0].area,
        place=next((f.place for f in figures if f.place), series.place if series else figures[0].area),
        kind=kind,
        day=(end - timedelta(hours=1)).date(),
        window_start=start,
        window_end=end,
        quantity=volume,
        cost=sum((f.cost for f in figures if f.cost is not None), Decimal(0)),
        rate=newest.rate,
        baseline=base.median,
        baseline_days=base.days,
        high_risk=high_risk,
        prefixes=tuple(sorted(by_destination, key=lambda d: (-by_destination[d], d))),
    )
