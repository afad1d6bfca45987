"""The benchmarks still run (tiny sizes: this checks they work, not how fast)."""

from __future__ import annotations

import pytest

from bench import rates
from bot.rates import sample_rows


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
