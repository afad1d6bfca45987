"""The rate table in the store: versions, exact rates, the changes between versions, the sample table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.demo import DEMO_ACCOUNT, load_demo, load_sample_rates
from bot.rates import SAMPLE_LABEL, RateRow, sample_rows
from store import Store
from store.domain.rates import RatesHomeState
from store.errors import NotFound
from tests.support.alerting import set_alerts_channel
from tests.support.clock import DEMO_NOW

DAY = date(2026, 12, 1)


def row(
    iso: str, landline: str = "0.01", mobile: str = "0.02", sms: str = "0.03", dial: str = "1"
) -> RateRow:
    return RateRow(
        dial_code=dial,
        iso_code=iso,
        destination=f"Place {iso}",
        landline_per_min=Decimal(landline),
        mobile_per_min=Decimal(mobile),
        sms_per_message=Decimal(sms),
    )


async def test_no_table_at_first(store: Store) -> None:
    assert await store.rates.current_version() is None
    assert await store.rates.current_info() is None
    assert await store.rates.table() is None


async def test_rates_come_back_exactly_as_written_in_file_order(store: Store) -> None:
    rows = [row("HK", "0.0100", "0.5", "0"), row("GB", "0.01", "1.2345", "0.0001"), row("AF", "12.3")]
    imported = await store.rates.import_table(rows, effective_date=DAY, label="first")
    assert imported.created
    assert imported.previous is None
    assert imported.table.version == 1
    table = await store.rates.table()
    assert table is not None
    assert [r.iso_code for r in table.rows] == ["HK", "GB", "AF"]  # as imported, not alphabetical
    # 0.0100 and 0.01 are the same amount but are written differently; both survive on both backends.
    assert [str(r.landline_per_min) for r in table.rows] == ["0.0100", "0.01", "12.3"]
    assert [str(r.mobile_per_min) for r in table.rows] == ["0.5", "1.2345", "0.02"]
    assert str(table.rows[0].sms_per_message) == "0"
    assert (table.effective_date, table.label, table.sample) == (DAY, "first", False)
    assert table.imported_at is not None
    assert table.imported_at.tzinfo is not None


async def test_a_new_version_keeps_the_old_and_reports_the_changes(store: Store) -> None:
    await store.rates.import_table([row("GB"), row("HK"), row("FR")], effective_date=DAY, label="v1")
    imported = await store.rates.import_table(
        [row("GB", mobile="0.05"), row("HK", sms="0.01"), row("DE")], effective_date=DAY, label="v2"
    )
    assert imported.created
    assert imported.table.version == 2
    assert imported.previous is not None
    assert imported.previous.version == 1
    changes = imported.changes
    assert [r.iso_code for r in changes.added] == ["DE"]
    assert [r.iso_code for r in changes.removed] == ["FR"]
    assert [(c.iso_code, c.kind, c.new) for c in changes.increased] == [("GB", "mobile", Decimal("0.05"))]
    assert [(c.iso_code, c.kind, c.new) for c in changes.decreased] == [("HK", "sms", Decimal("0.01"))]
    assert await store.rates.current_version() == 2
    old = await store.rates.table(1)
    assert old is not None
    assert [r.iso_code for r in old.rows] == ["GB", "HK", "FR"]
    assert [info.version for info in await store.rates.versions()] == [2, 1]
    assert await store.rates.table(3) is None


async def test_importing_the_same_table_again_changes_nothing(store: Store) -> None:
    rows = [row("GB"), row("HK")]
    first = await store.rates.import_table(rows, effective_date=DAY, label="v1")
    again = await store.rates.import_table(rows, effective_date=DAY, label="v1")
    assert not again.created
    assert again.table == first.table
    assert again.changes.is_empty
    assert await store.rates.current_version() == 1
    # Written differently is a new version (the export must reproduce the new file), with no rate change.
    retyped = await store.rates.import_table(
        [row("GB", landline="0.0100"), row("HK")], effective_date=DAY, label="v1"
    )
    assert retyped.created
    assert retyped.changes.is_empty


async def test_account_terms_and_alerts_targets(demo: Store) -> None:
    terms = await demo.rates.account_terms(DEMO_ACCOUNT)
    assert terms.voip_rate_per_min == Decimal("0.0040")
    assert terms.country == "HK"
    with pytest.raises(NotFound):
        await demo.rates.account_terms("nobody")

    assert await demo.rates.alerts_targets() == []  # the demo account has no alerts channel
    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0ALERTS")
    [target] = await demo.rates.alerts_targets()
    assert (target.account_id, target.team_id, target.channel) == (DEMO_ACCOUNT, "T0DEMO", "C0ALERTS")


async def test_home_state_is_per_user(store: Store) -> None:
    assert await store.rates.home_state("T1", "U1") == RatesHomeState()
    await store.rates.remember_home_state("T1", "U1", RatesHomeState(iso_code="GB", page=4))
    await store.rates.remember_home_state("T1", "U1", RatesHomeState(iso_code="HK", page=3))
    assert await store.rates.home_state("T1", "U1") == RatesHomeState(iso_code="HK", page=3)
    assert await store.rates.home_state("T1", "U2") == RatesHomeState()


async def test_demo_loads_the_sample_table_once(demo: Store) -> None:
    table = await demo.rates.table()
    assert table is not None
    assert table.sample
    assert table.label == SAMPLE_LABEL
    assert list(table.rows) == sample_rows()
    await load_demo(demo, now=DEMO_NOW.replace(year=2027))
    assert await demo.rates.current_version() == table.version  # idempotent, even on another day


async def test_demo_never_replaces_an_imported_table(demo: Store) -> None:
    await demo.rates.import_table([row("GB")], effective_date=DAY, label="real rates")
    assert not await load_sample_rates(demo, now=DEMO_NOW)
    await load_demo(demo, now=DEMO_NOW)
    info = await demo.rates.current_info()
    assert info is not None
    assert (info.label, info.sample) == ("real rates", False)
