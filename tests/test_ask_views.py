"""The answers to questions in plain words, built from domain objects: the edges the sample account does not
reach end to end (an allowance used up or missing, no forecast, a renewal date passed, many administrators),
each one valid Block Kit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.devtools.blockkit import validate_message
from handlers.ask.views import (
    MAX_ADMINS_SHOWN,
    admins_message,
    allowances_message,
    examples_message,
    forecasts_message,
    plan_summary_message,
    renewal_message,
    which_destination_message,
)
from handlers.messages import Message
from store.domain.alerts import Forecast
from store.domain.plan import Allowance, Meter, PlanSnapshot
from tests.support.plans import demo_plan

RENEWAL = demo_plan().subscription.next_payment_date


def text_of(message: Message) -> str:
    kwargs = message.as_kwargs()
    assert validate_message(kwargs, where="answer") == []
    return "\n".join(
        str(element.get("text", ""))
        for block in kwargs["blocks"]
        for element in [block.get("text") or {}, *block.get("elements", []), *block.get("fields", [])]
    )


def with_allowances(*allowances: Allowance) -> PlanSnapshot:
    return demo_plan().model_copy(update={"allowances": allowances})


def forecast(days_before_renewal: int) -> Forecast:
    at = datetime.combine(RENEWAL, datetime.min.time(), tzinfo=UTC) - timedelta(days=days_before_renewal)
    return Forecast(runs_out_at=at, readings=18, days=Decimal(17))


def test_what_is_left_of_each_allowance_when_none_is_named() -> None:
    text = text_of(allowances_message(demo_plan(), ()))
    assert "*1,040 min* of voice call minutes left" in text
    assert "*1,360 min* of video call minutes left" in text
    assert "*62.5 GB* of storage left" in text
    assert f"|{RENEWAL.isoformat()}>" in text


def test_an_allowance_used_up_or_missing() -> None:
    plan = with_allowances(Allowance(meter=Meter.VOICE_MINUTES, available=Decimal(100), used=Decimal(130)))
    text = text_of(allowances_message(plan, (Meter.VOICE_MINUTES, Meter.STORAGE_GB)))
    assert "Voice call minutes: *used up*, 30 min over the allowance." in text
    assert "Your plan has no storage allowance." in text


@pytest.mark.parametrize(
    ("forecasts", "expected"),
    [
        ({Meter.VOICE_MINUTES: forecast(5)}, ":warning: *Yes*: at this pace voice call minutes will run out"),
        (
            {Meter.VOICE_MINUTES: forecast(-3), Meter.STORAGE_GB: forecast(-9)},
            ":white_check_mark: *No*: at this pace voice call minutes and storage will last until renewal",
        ),
        ({}, "I can't tell yet"),
    ],
)
def test_will_we_run_out(forecasts: dict[Meter, Forecast], expected: str) -> None:
    plan = with_allowances(*(a for a in demo_plan().allowances if a.meter != Meter.VIDEO_MINUTES))
    text = text_of(forecasts_message(plan, forecasts, ()))
    assert expected in text
    assert "video" not in text.lower(), "an allowance the plan does not have is left out"


def test_a_forecast_asked_of_an_allowance_the_plan_does_not_have() -> None:
    plan = with_allowances()
    assert "Your plan has no such allowance." in text_of(forecasts_message(plan, {}, (Meter.STORAGE_GB,)))


@pytest.mark.parametrize(
    ("days", "expected"),
    [(0, "(today)"), (1, "(tomorrow)"), (12, "(in 12 days)"), (-1, "has passed")],
)
def test_when_we_renew(days: int, expected: str) -> None:
    assert expected in text_of(renewal_message(demo_plan(), RENEWAL - timedelta(days=days)))


def test_the_administrators() -> None:
    assert "<@U1>, <@U2>" in text_of(admins_message(["U1", "U2"]))
    named = text_of(admins_message(["U1", "U2"], {"U1": "Mei <Ling>"}))
    assert "*Mei &lt;Ling&gt;*, <@U2>" in named, "a name is escaped; without one, the mention"
    assert "No administrators are named" in text_of(admins_message([]))
    many = [f"U{i}" for i in range(MAX_ADMINS_SHOWN + 3)]
    assert "and 3 more" in text_of(admins_message(many))


def test_the_other_answers_are_valid_block_kit() -> None:
    for message in (
        plan_summary_message(demo_plan()),
        which_destination_message(),
        examples_message(),
        examples_message(""),
        examples_message("<!channel> " + "x" * 500),
    ):
        text_of(message)
    assert "&lt;!channel&gt;" in text_of(examples_message("<!channel> hi")), (
        "what was asked is said back safely"
    )
