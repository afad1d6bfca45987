"""`/rates` and `/plan rates` end to end: signed commands in, replies and buttons through the fake Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.signing import block_actions_payload
from bot.rates import RateIndex, RateRow, format_usd, sample_rows
from handlers.rates.ids import LOOKUP_BUTTON
from handlers.rates.ids import Action as RatesAction
from store import Store
from tests.support.blocks import buttons
from tests.support.slackdriver import ADMIN, STAFF, TEAM, SlackDriver, all_text

SAMPLE = {row.iso_code: row for row in sample_rows()}


def button(params: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(b for b in buttons(params) if b["action_id"] == action_id)


async def rates(slack: SlackDriver, text: str, **kwargs: Any) -> dict[str, Any]:
    return await slack.run(text, command="/rates", **kwargs)


async def click(
    slack: SlackDriver, fake_slack: FakeSlack, pressed: dict[str, Any], user: str = ADMIN
) -> dict[str, Any]:
    """Press a button of an ephemeral reply; return what the app sent to that click's response_url."""
    response_url = fake_slack.new_response_url()
    payload = block_actions_payload(
        team_id=TEAM,
        user_id=user,
        action_id=pressed["action_id"],
        value=pressed["value"],
        response_url=response_url,
        container={"type": "message", "message_ts": "1.1", "channel_id": "C0GENERAL", "is_ephemeral": True},
    )
    assert (await slack.interact(payload)).status == 200
    return (await fake_slack.wait_for("response_url", where=lambda c: c.url == response_url)).params


# -- the tricky-query table ------------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("demo")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # names, with typos and the forms people type
        ("hongkong", ["Hong Kong", "+852"]),
        ("Hong Kong SAR", ["Hong Kong"]),
        ("UK", ["United Kingdom", "+44"]),
        ("United States", ["United States", "+1"]),
        ("Viet Nam", ["Vietnam", "+84"]),
        ("germny", ["Germany", "Showing Germany for “germny”"]),
        ("kazakstan", ["Kazakhstan"]),
        # ISO alpha-2 and alpha-3
        ("gb", ["United Kingdom"]),
        ("HKG", ["Hong Kong"]),
        # dial codes, and the codes several regions share
        ("+44", ["United Kingdom", "also the dial code of Guernsey, Isle of Man, Jersey"]),
        ("0044", ["United Kingdom", "Jersey"]),
        ("852", ["Hong Kong"]),
        ("+7", ["Russia", "Kazakhstan"]),
        # phone numbers in every common format
        ("+44 7400 123456", ["United Kingdom", "*mobile* number"]),
        ("+44 (0)20 7946 0018", ["United Kingdom", "*landline* number"]),
        ("+44 7911 123456", ["Guernsey", "*mobile* number"]),
        ("+44 7624 123456", ["Isle of Man", "*mobile* number"]),
        ("00852 9123 4567", ["Hong Kong", "*mobile* number"]),
        ("+852-2123-4567", ["Hong Kong", "*landline* number"]),
        ("+1 (212) 555-0123", ["United States", "*could be either*", "either may apply"]),
        ("+1.416.555.0123", ["Canada", "*could be either*"]),
        ("+1 876 210 1234", ["Jamaica", "*mobile* number"]),
        ("+1 876 926 0123", ["Jamaica", "*landline* number"]),
        ("+7 912 345 6789", ["Russia", "*mobile* number"]),
        ("+7 495 123 4567", ["Russia", "*landline* number"]),
        ("+7 701 123 4567", ["Kazakhstan", "*mobile* number"]),
        ("2123 4567", ["Hong Kong", "*landline* number"]),  # national: the account's country (HK)
    ],
)
async def test_destinations_and_numbers_are_resolved(
    slack: SlackDriver, query: str, expected: list[str]
) -> None:
    reply = await rates(slack, query)
    text = all_text(reply)
    for fragment in expected:
        assert fragment in text, (query, fragment, text)
    assert reply["response_type"] == "ephemeral"
    assert button(reply, RatesAction.RATES_SHARE)
    assert "Landline" in text
    assert "Mobile" in text
    assert "SMS" in text
    assert "$0.0040 /min" in text  # the account's fixed VoIP rate
    assert "billed per minute" in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("+1 800 555 0123", "toll-free number in United States"),
        ("+44 909 879 0879", "premium-rate number"),
        ("+800 1234 5678", "international non-geographic number"),
        ("+44 7700 900123", "does not match any number type"),
    ],
)
async def test_special_numbers_are_explained_not_priced(
    slack: SlackDriver, query: str, expected: str
) -> None:
    reply = await rates(slack, query)
    text = all_text(reply)
    assert expected in text
    assert "/min" not in text, "no per-minute price is offered for it"


async def test_a_toll_free_number_offers_the_countrys_regular_rates(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await rates(slack, "+1 800 555 0123")
    [regular] = [b for b in buttons(reply) if LOOKUP_BUTTON.pattern.match(b["action_id"])]
    assert "United States" in regular["text"]["text"]
    assert "United States" in all_text(await click(slack, fake_slack, regular))


@pytest.mark.parametrize(
    "query",
    ["asdfghjkl", "😀🎉", "🇬🇧🇬🇧🇬🇧", "x" * 2000, "1" * 2000, "+999", "\u200b\u200b"],
    ids=["letters", "emoji", "flags", "2000-chars", "2000-digits", "no-such-code", "zero-width"],
)
async def test_garbage_gets_a_clear_no(slack: SlackDriver, query: str) -> None:
    reply = await rates(slack, query)
    text = all_text(reply)
    assert "No rate for" in text or "/rates Hong Kong" in text
    assert "/min" not in text
    assert len(text) < 3000
    assert not [b for b in buttons(reply) if b["action_id"] == RatesAction.RATES_SHARE]


async def test_user_text_is_escaped_never_a_mention(slack: SlackDriver) -> None:
    text = all_text(await rates(slack, "<!channel> <@U0BOSS> *bold*"))
    assert "&lt;!channel&gt;" in text
    assert "<!channel>" not in text
    assert "<@U0BOSS>" not in text


async def test_nothing_matching_names_the_closest_destinations(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await rates(slack, "banana")
    assert "No rate for “banana”" in all_text(reply)
    choices = [b for b in buttons(reply) if LOOKUP_BUTTON.pattern.match(b["action_id"])]
    assert 1 <= len(choices) <= 3
    closest = await click(slack, fake_slack, choices[0])
    assert choices[0]["text"]["text"].split(" ", 1)[1] in all_text(closest)


async def test_a_close_typo_is_answered_and_says_so(slack: SlackDriver) -> None:
    text = all_text(await rates(slack, "Swedenland"))
    assert "Showing Sweden for “Swedenland”" in text


async def test_an_ambiguous_name_offers_buttons_that_look_up_the_choice(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await rates(slack, "virgin islands 10 min")
    assert "Which one did you mean?" in all_text(reply)
    choices = [b for b in buttons(reply) if LOOKUP_BUTTON.pattern.match(b["action_id"])]
    assert 2 <= len(choices) <= 5
    assert len({b["action_id"] for b in choices}) == len(choices)
    us = next(b for b in choices if "U.S. Virgin Islands" in b["text"]["text"])

    answered = await click(slack, fake_slack, us)
    assert answered["replace_original"] is True
    text = all_text(answered)
    assert "U.S. Virgin Islands" in text
    vi = SAMPLE["VI"]
    assert f"10 × {format_usd(vi.landline_per_min)} = *{format_usd(vi.landline_per_min * 10)}*" in text


async def test_shared_dial_code_buttons_go_to_the_other_regions(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await rates(slack, "+44")
    jersey = next(b for b in buttons(reply) if "Jersey" in b["text"]["text"])
    text = all_text(await click(slack, fake_slack, jersey))
    assert "Jersey" in text
    assert format_usd(SAMPLE["JE"].mobile_per_min) in text


# -- estimates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "iso", "minutes", "kinds"),
    [
        ("UK 12 min", "GB", 12, ["landline", "mobile"]),
        ("hong kong 12m", "HK", 12, ["landline", "mobile"]),
        ("germany 1h 5m", "DE", 65, ["landline", "mobile"]),
        ("+44 20 7946 0018 12m 1s", "GB", 13, ["landline"]),  # every started minute counts
        ("+852 9123 4567 90s", "HK", 2, ["mobile"]),
        ("+1 212 555 0123 3 min", "US", 3, ["landline", "mobile"]),  # could be either: both
    ],
)
async def test_call_estimates_are_exact_per_started_minute(
    slack: SlackDriver, query: str, iso: str, minutes: int, kinds: list[str]
) -> None:
    text = all_text(await rates(slack, query))
    row = SAMPLE[iso]
    assert f"({minutes} started minute" in text
    for kind, label in (("landline", "Landline"), ("mobile", "Mobile")):
        rate: Decimal = row.rate(kind)  # type: ignore[arg-type]
        line = f"{label}: {minutes} × {format_usd(rate)} = *{format_usd(rate * minutes)}*"
        assert (line in text) == (kind in kinds), (line, text)


async def test_sms_estimate(slack: SlackDriver) -> None:
    text = all_text(await rates(slack, "Japan 300 sms"))
    sms = SAMPLE["JP"].sms_per_message
    assert f"SMS: 300 × {format_usd(sms)} = *{format_usd(sms * 300)}*" in text
    assert "Estimate for 300 SMS" in text


async def test_thousands_separators_are_read_in_an_amount(slack: SlackDriver) -> None:
    text = all_text(await rates(slack, "Japan 1,000 sms"))
    assert "Estimate for 1000 SMS" in text


@pytest.mark.parametrize(
    ("query", "destination", "amount"),
    [
        ("Germany 10000000 min", "Germany", "10000000 min"),
        ("UK 9999999.9999 sms", "United Kingdom", "9999999.9999 sms"),
        ("Japan 2.5 sms", "Japan", "2.5 sms"),
    ],
)
async def test_an_amount_no_estimate_reads_is_named_and_the_rates_shown(
    slack: SlackDriver, query: str, destination: str, amount: str
) -> None:
    """Looked up whole, "UK 9999999.9999 sms" matched the United States; now the amount is set aside."""
    text = all_text(await rates(slack, query))
    assert destination in text
    assert f"No estimate for “{amount}”: I read minutes, hours or seconds up to 9,999,999" in text
    assert "Estimate for" not in text


async def test_estimate_amounts_are_exact_decimals(slack: SlackDriver, store: Store) -> None:
    odd = RateRow(
        dial_code="44",
        iso_code="GB",
        destination="United Kingdom",
        landline_per_min=Decimal("0.0123"),
        mobile_per_min=Decimal("0.0001"),
        sms_per_message=Decimal("0.0333"),
    )
    await store.rates.import_table([odd], effective_date=date(2026, 12, 1), label="exact")
    text = all_text(await rates(slack, "uk 12m 1s"))
    assert (
        "Landline: 13 × $0.0123 = *$0.1599*" in text
    )  # 13 × 0.0123 exactly; a float would say 0.15990000000000001
    assert "Mobile: 13 × $0.0001 = *$0.0013*" in text
    sms = all_text(await rates(slack, "uk 3 sms"))
    assert "SMS: 3 × $0.0333 = *$0.0999*" in sms


# -- Share, help, /plan rates ------------------------------------------------------------------------------


async def test_share_posts_the_answer_visibly_naming_who_shared_it(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await rates(slack, "+44 20 7946 0018 5 min", user=STAFF)
    shared = await click(slack, fake_slack, button(reply, RatesAction.RATES_SHARE), user=STAFF)
    assert shared["response_type"] == "in_channel"
    text = all_text(shared)
    assert f"Shared by <@{STAFF}>" in text
    assert "*landline* number" in text
    assert "5 started minutes" in text
    assert not buttons(shared), "the shared copy has no Share button"


async def test_empty_query_gets_usage(slack: SlackDriver) -> None:
    text = all_text(await rates(slack, ""))
    assert "/rates Hong Kong" in text
    assert "300 sms" in text
    assert "/rates UK 12 min" in all_text(await rates(slack, "12 min"))


async def test_plan_rates_is_the_same_lookup(slack: SlackDriver) -> None:
    text = all_text(await slack.run("rates +852 9123 4567"))
    assert "Hong Kong" in text
    assert "*mobile* number" in text
    assert "/plan rates Hong Kong" in all_text(await slack.run("rates"))
    assert "/plan rates" in all_text(await slack.run("help"))


async def test_unlinked_workspace_is_told_how_to_link(slack: SlackDriver) -> None:
    assert "isn't linked" in all_text(await rates(slack, "uk", team="T0NOTLINKED"))


# -- the index: built once per version, a new import seen at once ------------------------------------------


async def test_the_index_is_built_once_per_version_and_imports_are_seen(
    slack: SlackDriver, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    real_build: Callable[[Iterable[RateRow]], RateIndex] = RateIndex.build

    def counting_build(rows: Iterable[RateRow]) -> RateIndex:
        builds.append(1)
        return real_build(rows)

    monkeypatch.setattr(RateIndex, "build", counting_build)
    for query in ("uk", "+852 9123 4567", "germny", "+1"):
        await rates(slack, query)
    assert len(builds) == 1

    # Another process (the CLI, the ingest API) imports a new version: the next request sees it.
    cheaper = SAMPLE["GB"].model_copy(update={"landline_per_min": Decimal("0.0001")})
    await store.rates.import_table([cheaper], effective_date=date(2026, 12, 1), label="new")
    text = all_text(await rates(slack, "uk"))
    assert "$0.0001 /min" in text
    assert "version 2" in text
    assert len(builds) == 2


async def test_a_button_from_an_older_version_is_explained(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    stale = {"action_id": RatesAction.RATES_SHARE, "value": "uk"}  # not the JSON this version writes
    assert "That button is out of date" in all_text(await click(slack, fake_slack, stale))
