"""Burn-down charts (PNG) of the period's allowances, drawn with matplotlib's object API (no pyplot,
so charts can be drawn in worker threads)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.alerts.rules import midnight, period_end_at
from bot.plan.usage import quantity
from store.domain.alerts import Forecast
from store.usage import Reading

DPI = 100
WIDTH_INCHES = 8.0
HEIGHT_PER_CHART = 2.8


@dataclass(frozen=True)
class BurnDown:
    """One allowance over the billing period: what is left after each reading, and where it is heading."""

    label: str
    unit: str
    available: float
    readings: Sequence[Reading]
    period_start: date
    renewal: date
    forecast: Forecast | None = None


def burndown_png(charts: Sequence[BurnDown], *, title: str) -> bytes:
    """The charts stacked in one PNG: remaining allowance, the forecast line, an even-pace line, the
    allowance and the renewal date."""
    if not charts:
        raise ValueError("nothing to draw")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, DateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_PER_CHART * len(charts)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=12, fontweight="bold")
    axes = figure.subplots(len(charts), 1, squeeze=False)
    for ax, chart in zip(axes[:, 0], charts, strict=True):
        _draw(ax, chart)
        ax.xaxis.set_major_locator(AutoDateLocator(minticks=4, maxticks=7))  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw(ax: object, chart: BurnDown) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    start, renewal = midnight(chart.period_start), period_end_at(chart.renewal)
    times = [_x(r.at) for r in chart.readings]
    left = [chart.available - float(r.used) for r in chart.readings]
    ax.axhline(
        chart.available,
        color="#8a8f98",
        linestyle="--",
        linewidth=1,
        label=f"Allowance ({_amount(chart.available, chart.unit)})",
    )
    ax.plot(
        [_x(start), _x(renewal)],
        [chart.available, 0],
        color="#c5c9d0",
        linestyle=":",
        linewidth=1,
        label="Even pace",
    )
    if times:
        ax.plot(times, left, color="#1f3a5f", marker="o", markersize=3, linewidth=2, label="Left")
    if chart.forecast is not None and times:
        line_x, line_y = _forecast_line(chart.readings[-1].at, left[-1], chart.forecast, renewal)
        ax.plot(line_x, line_y, color="#d9480f", linestyle="--", linewidth=2, label="Forecast")
        if chart.forecast.runs_out_at < renewal:
            ax.plot([line_x[-1]], [0], color="#d9480f", marker="X", markersize=8)
            ax.annotate(
                f"runs out ~{chart.forecast.runs_out_at:%d %b}",
                (line_x[-1], 0),
                textcoords="offset points",
                xytext=(8, 6),
                ha="left",
                fontsize=8,
                color="#d9480f",
            )
    ax.axvline(_x(renewal), color="#2b8a3e", linewidth=1.5, label=f"Renewal {chart.renewal:%d %b}")
    ax.axhline(0, color="#495057", linewidth=0.8)
    ax.set_xlim(_x(start - timedelta(hours=12)), _x(renewal + timedelta(days=1)))
    ax.set_ylim(min(0.0, *left) if left else 0.0, chart.available * 1.08 or 1.0)
    ax.set_title(_headline(chart, left), fontsize=10, loc="left")
    ax.set_ylabel(f"{chart.unit} left")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=7, framealpha=0.8)


def _x(moment: datetime) -> float:
    """A time as matplotlib's date number."""
    from matplotlib.dates import date2num

    return float(date2num(moment))  # type: ignore[no-untyped-call]


def _forecast_line(
    last_at: datetime, last_left: float, forecast: Forecast, renewal: datetime
) -> tuple[list[float], list[float]]:
    """From the latest reading to zero at the run-out time, cut at renewal if it lasts beyond."""
    end = min(forecast.runs_out_at, renewal)
    span = (forecast.runs_out_at - last_at).total_seconds()
    share = (end - last_at).total_seconds() / span if span > 0 else 1.0
    return [_x(last_at), _x(end)], [last_left, last_left * (1 - share)]


def _headline(chart: BurnDown, left: list[float]) -> str:
    remaining = left[-1] if left else chart.available
    return f"{chart.label}: {_amount(max(remaining, 0.0), chart.unit)} left of {_amount(chart.available, chart.unit)}"


def _amount(value: float, unit: str) -> str:
    return f"{quantity(Decimal(str(round(value, 1))))} {unit}"
