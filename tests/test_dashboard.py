"""The Grafana dashboard in docs/ charts only series the service exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import bot.core.metrics  # noqa: F401  (registers the series)

DASHBOARD = Path(__file__).parents[1] / "docs" / "grafana-dashboard.json"


def test_every_series_the_dashboard_charts_is_exported() -> None:
    exported = {metric.name for metric in REGISTRY.collect()}
    panels = json.loads(DASHBOARD.read_text())["panels"]
    charted = {
        re.sub(r"_(bucket|total)$", "", name)
        for panel in panels
        for target in panel["targets"]
        for name in re.findall(r"myplan_[a-z_]+", target["expr"])
    }
    assert charted, "the dashboard charts something"
    assert charted <= exported, charted - exported
