"""Rate Table view builders: pure functions, checked against Slack's limits without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.devtools.blockkit import validate_blocks, validate_message
from bot.rates import (
    CallDuration,
    RateIndex,
    RateRow,
    SmsCount,
    parse_rate_query,
    sample_rows,
    synthetic_rows,
)
from handlers.home import MAX_HOME_BLOCKS, HomeTab, home_view
from handlers.messages import escape
from handlers.rates.announce import largest_increases, rate_changes_message
from handlers.rates.home_tab import PAGE_SIZE, PageValue, RatesTab, destination_options, rates_tab_blocks
from handlers.rates.views import LookupValue, RateAnswer, flag, quantity_text, rate_message
from store.domain.rates import RateChanges, RateImport, RateTableInfo, diff_tables

INDEX = RateIndex.build(sample_rows())
TABLE = RateTableInfo(
    version=3,
    effective_date=date(2026, 12, 1),
    label="December",
    imported_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
)
VOIP = Decimal("0.0040")


def answer(text: str) -> dict[str, Any]:
    query, quantity = parse_rate_query(text)
    message = rate_message(RateAnswer(text, quantity, INDEX.lookup(query), TABLE, VOIP))
    params = message.as_response()
    assert validate_message(params, where=text[:20]) == []
    return params


def texts(blocks: list[dict[str, Any]]) -> str:
    return str(blocks)


@pytest.mark.parametrize(
    "text",
    [
        "uk",
        "uk 12 min",
        "+1",  # 24 other regions share +1
        "+44 20 7946 0018 300 sms",
        "+1 800 555 0123",
        "virgin islands",
        "banana",
        "q" * 2000,
        "😀" * 500,
        "<!here>",
    ],
)
def test_every_answer_is_valid_block_kit_within_limits(text: str) -> None:
    params = answer(text)
    assert len(params["blocks"]) <= 50
    assert len(params["text"]) <= 300
    for block in params["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            assert all(len(e.get("value", "")) <= 2000 for e in block["elements"])


def test_a_dial_code_shared_by_many_regions_names_them_and_offers_five() -> None:
    params = answer("+1")
    text = texts(params["blocks"])
    assert "United States" in text
    assert "and 14 more" in text  # 24 others: ten named
    choices = [b for b in params["blocks"] if b.get("block_id") == "rates.choices"]
    assert len(choices[0]["elements"]) == 5


def test_a_landline_warns_about_sms() -> None:
    assert "may not be able to receive SMS" in texts(answer("+44 20 7946 0018 3 sms")["blocks"])
    assert "may not be able to receive SMS" not in texts(answer("+44 7400 123456 3 sms")["blocks"])


def test_escape_and_flags() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert flag("GB") == "🇬🇧"
    assert flag("gb") == "🇬🇧"
    assert flag("G1") == ""
    assert flag("GBR") == ""


@pytest.mark.parametrize("quantity", [CallDuration(720), CallDuration(3900), CallDuration(1), SmsCount(300)])
def test_quantities_survive_a_button_round_trip(quantity: CallDuration | SmsCount) -> None:
    assert parse_rate_query(f"GB {quantity_text(quantity)}") == ("GB", quantity)
    assert quantity_text(None) == ""


def test_button_values_are_parsed_not_trusted() -> None:
    assert LookupValue.decode('{"q": "uk"}') == LookupValue(q="uk")
    for junk in (None, "", "uk", '{"q": 1}', '{"q": "uk", "x": 1}', '{"q": "' + "x" * 500 + '"}'):
        assert LookupValue.decode(junk) is None
    assert PageValue.decode('{"page": 2}') == PageValue(page=2)
    for junk in (None, "2", '{"page": 0}', '{"page": "two"}'):
        assert PageValue.decode(junk) is None


def _tab(index: RateIndex, page: int, chosen: str | None = None) -> list[Block]:
    row = index.get(chosen) if chosen else None
    return rates_tab_blocks(RatesTab(TABLE, index.page(page, PAGE_SIZE), row, VOIP))


@pytest.mark.parametrize("page", [1, 2, 7, 13, 10_000])
def test_the_home_tab_fits_and_is_valid_on_every_page(page: int) -> None:
    blocks = _tab(INDEX, page, chosen="GB")
    view = home_view(HomeTab.RATES, blocks).to_dict()  # raises if more than 100 blocks
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    assert validate_blocks(view["blocks"], where="home", max_blocks=MAX_HOME_BLOCKS) == []


def test_a_50000_row_table_pages_within_limits() -> None:
    big = RateIndex.build(synthetic_rows(50_000))
    blocks = [b.to_dict() for b in _tab(big, 1_234)]
    assert len(blocks) <= MAX_HOME_BLOCKS - 3
    assert "page 1234 of 2500" in str(blocks)


def test_an_empty_table_still_renders() -> None:
    blocks = [b.to_dict() for b in _tab(RateIndex.build([]), 1)]
    assert "The rate table is empty." in str(blocks)
    assert not [b for b in blocks if b.get("block_id") == "rates.pager"]


def test_options_are_capped_and_short() -> None:
    options = destination_options(list(INDEX.rows))
    assert len(options) == 100
    long = RateRow(
        dial_code="1",
        iso_code="US",
        destination="X" * 100,
        landline_per_min=Decimal(1),
        mobile_per_min=Decimal(1),
        sms_per_message=Decimal(1),
    )
    [option] = destination_options([long])
    assert len(str(option["text"]["text"])) <= 75  # type: ignore[index]


def _row(iso: str, landline: str, mobile: str = "0.1") -> RateRow:
    return RateRow(
        dial_code="1",
        iso_code=iso,
        destination=f"Place {iso}",
        landline_per_min=Decimal(landline),
        mobile_per_min=Decimal(mobile),
        sms_per_message=Decimal("0.01"),
    )


def test_change_announcement_leads_with_the_largest_increases() -> None:
    old = [_row("GB", "0.01"), _row("HK", "0.01"), _row("FR", "0.50"), _row("DE", "0.02")]
    new = [_row("GB", "0.02"), _row("HK", "0.30"), _row("FR", "0.40"), _row("JP", "0.02")]
    imported = RateImport(
        table=TABLE, previous=None, changes=diff_tables(old, new), created=True, row_count=len(new)
    )
    assert [c.iso_code for c in largest_increases(imported)] == ["HK", "GB"]
    message = rate_changes_message(imported)
    params = message.as_kwargs()
    assert validate_message(params, where="announcement") == []
    text = str(params["blocks"])
    assert "1 destination added, 1 removed, 2 rates up, 1 down" in text
    assert text.index("Place HK") < text.index("Place GB")
    assert "+2900%" in text  # 0.01 → 0.30
    assert "Added: Place JP." in text
    assert "Removed: Place DE." in text


def test_a_huge_change_stays_within_limits() -> None:
    old = synthetic_rows(2_000)
    new = [row.model_copy(update={"mobile_per_min": row.mobile_per_min + 1}) for row in old[:1_000]]
    changes = RateChanges(
        added=tuple(new[:400]),
        removed=tuple(old[1_000:]),
        increased=diff_tables(old[:1_000], new).increased,
    )
    message = rate_changes_message(
        RateImport(table=TABLE, previous=None, changes=changes, created=True, row_count=1_000)
    )
    assert validate_message(message.as_kwargs(), where="huge") == []
    assert "and 990 more" in str(message.as_kwargs()["blocks"])
