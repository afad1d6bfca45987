"""The plan summary builder is a pure function: check its content and Slack's limits without I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest
from slack_sdk.models.blocks import Block

from bot.plan.usage import percent_used, quantity, usage_bar, whole_percent
from handlers.messages import money, slack_date
from handlers.plan.views import plan_message
from store.domain.plan import Meter
from tests.support.plans import demo_plan


def test_plan_message_is_valid_block_kit() -> None:
    message = plan_message(demo_plan(), is_admin=True)
    blocks = message.as_kwargs()["blocks"]
    assert len(blocks) <= 50
    for block in Block.parse_all(blocks):
        block.validate_json()
    assert "BUSINESS" in message.text


@pytest.mark.parametrize(
    ("used", "available", "bar", "shown"),
    [
        (0, 100, "▱▱▱▱▱▱▱▱▱▱", 0),
        (3960, 5000, "▰▰▰▰▰▰▰▱▱▱", 79),
        (Decimal("99.9"), 100, "▰▰▰▰▰▰▰▰▰▱", 100),
        (120, 100, "▰▰▰▰▰▰▰▰▰▰", 120),
        (5, 0, "▰▰▰▰▰▰▰▰▰▰", 100),
    ],
)
def test_usage_bars(used: Decimal, available: int, bar: str, shown: int) -> None:
    percent = percent_used(used, available)
    assert usage_bar(percent) == bar
    assert percent is not None
    assert whole_percent(percent) == shown


def test_money_and_quantities_are_exact() -> None:
    assert money(Decimal("1299"), "USD") == "USD 1,299.00"
    assert money(Decimal("0.005"), "HKD") == "HKD 0.01"
    assert quantity(Decimal("37.50")) == "37.5"
    assert quantity(12345) == "12,345"


def test_dates_keep_their_day_for_every_reader() -> None:
    from datetime import date

    assert slack_date(date(2026, 12, 8)) == "<!date^1796731200^{date_long_pretty}|2026-12-08>"


def test_meters_have_labels() -> None:
    assert [m.label for m in Meter] == ["Voice call minutes", "Video call minutes", "Storage"]
