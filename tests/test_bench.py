"""The benchmarks still run (tiny sizes: this checks they work, not how fast)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bench import campaign, prune, rates, rss, soak, spikes
from bot.rates import sample_rows
from handlers.alerts.service import AlertService
from handlers.slack_clients import single_client
from store import Store
from store.clock import utcnow
from store.usage import Reading
from tests.support.clock import DEMO_NOW


def test_rates_benchmark_reports_every_kind_of_query_on_both_tables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = rates.main(["--rows", "600", "--lookups", "5"])
    assert text == capsys.readouterr().out.rstrip("\n")
    assert f"sample: {len(sample_rows())} rows" in text
    assert "synthetic 600: 600 rows" in text
    for kind in rates.QUERIES:
        assert f"sample           {kind}" in text
    assert "lookups/s" in text
    assert "p99 µs" in text


def test_rates_benchmark_refuses_too_few_lookups() -> None:
    with pytest.raises(SystemExit):
        rates.main(["--lookups", "1"])


def test_campaign_benchmark_prices_a_list_of_the_size_asked(capsys: pytest.CaptureFixture[str]) -> None:
    text = campaign.main(["--numbers", "300", "--runs", "2"])
    assert text == capsys.readouterr().out.rstrip("\n")
    assert "campaign pre-flight: 300 numbers" in text
    assert "best of 2" in text
    assert "numbers/s" in text
    assert re.search(r"\n[\d,]+ priced in \d+ destinations, [\d,]+ duplicates, [\d,]+ invalid", text), text


def test_campaign_benchmark_refuses_more_than_a_campaign_takes() -> None:
    with pytest.raises(SystemExit):
        campaign.main(["--numbers", "100001"])


async def test_the_prune_benchmark_rolls_readings_up_while_it_ingests(
    store: Store, database_url: str
) -> None:
    if store.db.is_sqlite:
        pytest.skip("bench.prune seeds with PostgreSQL's generate_series")
    now = utcnow()
    _, rows = await prune.seed(store, accounts=3, days=120, now=now)
    assert await prune.count_readings(store) == rows == 3 * 120 * 24
    _, output, during = await prune.prune_while_ingesting(database_url, store, 3, now)
    assert "usage readings: 0 were" not in output
    assert "were rolled up to one a day" in output
    assert during.recorded == len(during.seconds) > 0, "every reading ingested during the prune was kept"
    assert await prune.count_readings(store) < rows / 2


async def test_the_spike_benchmark_finds_its_one_burst_in_a_hundred(store: Store) -> None:
    if store.db.is_sqlite:
        pytest.skip("bench.spikes seeds with PostgreSQL's generate_series")
    await spikes.seed(store, accounts=3, destinations=100)
    _, found, each = await spikes.judge_all(store, accounts=3, destinations=100, concurrency=2)
    assert (found, len(each)) == (3, 3)


def test_rss_benchmark_reports_every_server(capsys: pytest.CaptureFixture[str]) -> None:
    """Ours, the bare bolt app and the required stack's app each started, answered and were measured."""
    text = rss.main(["--runs", "1"])
    assert text == capsys.readouterr().out.rstrip("\n")
    assert "target for myplan serve: under 80 MB" in text
    assert re.search(r"myplan serve \(SQLite\) +\d+\.\d", text), text
    assert re.search(r"bolt \+ required stack \(SQLite\) +\d+\.\d", text), text
    assert re.search(r"bare bolt app +\d+\.\d", text), text


async def test_the_soak_sets_up_exactly_the_alerts_it_expects(database_url: str, store: Store) -> None:
    """bench.soak counts doubles and losses against N: its accounts must make exactly N alerts."""
    await soak.set_up(database_url, accounts=3, now=DEMO_NOW)
    for n in range(3):
        readings = soak.readings_for(n, 8, DEMO_NOW)
        await store.usage.record(
            f"soak{n:04d}",
            [
                Reading(meter=r["meter"], used=Decimal(r["used"]), at=datetime.fromisoformat(r["at"]))
                for r in readings
            ],
            now=DEMO_NOW,
        )
    alerts = AlertService(store, single_client(None), clock=lambda: DEMO_NOW + timedelta(seconds=2))
    assert len(await alerts.evaluate()) == 8
    assert len({a.account_id for a in await store.alerts.due(DEMO_NOW + timedelta(seconds=2))}) == 3


def test_the_soak_passes_only_on_n_of_n_none_doubled_none_lost() -> None:
    def report(counts: dict[int, int], recorded: dict[str, int]) -> soak.Report:
        return soak.Report(
            expected=3, counts=Counter(counts), recorded=recorded, seconds=1, killed_after_posts=1
        )

    sent = {"sent": 3}
    assert report({1: 1, 2: 1, 3: 1}, sent).ok
    doubled = report({1: 2, 2: 1, 3: 1}, sent)
    assert not doubled.ok
    assert doubled.lines()[0] == "posted 3 / expected 3 / doubled 1 / lost 0 (1 extra messages)"
    assert report({1: 1, 2: 1}, sent).lines()[0].endswith("lost 1")
    assert not report({1: 1, 2: 1, 3: 1}, {"sent": 2, "pending": 1}).ok
