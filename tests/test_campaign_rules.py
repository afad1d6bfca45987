"""Campaign pre-flight rules without Slack: segment counting, reading the recipients, pricing them, and the
answer drawn from the result (within Slack's limits, and small enough for Share to carry)."""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal
from typing import get_args

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.campaign.quote import MAX_INVALID_KEPT, quote_campaign
from bot.campaign.recipients import (
    FILE_FIELD,
    MAX_RECIPIENTS,
    PASTED_FIELD,
    Recipient,
    RecipientsProblem,
    read_recipients,
    text_of,
)
from bot.campaign.results import CampaignQuote, DestinationQuote, PeriodSpend
from bot.campaign.segments import count_segments
from bot.devtools.blockkit import validate_message
from bot.rates import PhoneMatch, RateIndex, RateRow, UnpricedKind, UnpricedNumber, sample_rows
from handlers.campaign.views import CampaignSummary, campaign_message, summary_of
from store.domain.bounds import MAX_RATE
from store.domain.rates import RateTableInfo

INDEX = RateIndex.build(sample_rows())
SAMPLE = {row.iso_code: row for row in sample_rows()}
TABLE = RateTableInfo(version=3, effective_date=date(2026, 12, 1), label="December")
SPEND = PeriodSpend(since=date(2026, 11, 2), renewal=date(2026, 12, 2), spent=Decimal("120.50"))
BUTTON_VALUE_LIMIT = 2000


# -- segments ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),  # 153 + 8
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("Ça coûte 5 £, déjà vu?", "UCS-2", 22, 1),  # "û" is not GSM-7: the whole text is UCS-2
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¤¡ÄÖÑÜ§¿äöñüà", "GSM-7", 43, 1),
    ],
)
def test_gsm7_and_ucs2_basics(text: str, encoding: str, units: int, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, segments)


def test_gsm7_extension_characters_count_two_septets() -> None:
    assert count_segments("€" * 80).units == 160
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 81).segments == 2
    assert count_segments("a" * 158 + "{}").units == 162  # two characters, four septets
    assert count_segments("a" * 156 + "^[").segments == 1
    assert count_segments("a" * 157 + "^[").segments == 2
    for char in "^{}\\[~]|€\f":
        assert count_segments(char).encoding == "GSM-7"
        assert count_segments(char).units == 2


def test_an_escape_sequence_is_never_split_across_segments() -> None:
    # 306 septets would fit two segments of 153, but "€" would straddle the boundary after septet 152:
    # it moves whole to the second segment, which then overflows into a third.
    text = "a" * 152 + "€" + "a" * 152
    counted = count_segments(text)
    assert counted.units == 306
    assert counted.segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2  # ends exactly at the boundary


def test_ucs2_counts_utf16_code_units() -> None:
    assert count_segments("я" * 70).segments == 1
    assert count_segments("я" * 71).segments == 2
    assert count_segments("я" * 134).segments == 2
    assert count_segments("я" * 135).segments == 3
    emoji = count_segments("😀" * 35)
    assert (emoji.encoding, emoji.characters, emoji.units, emoji.segments) == ("UCS-2", 35, 70, 1)
    assert count_segments("😀" * 36).segments == 2
    assert count_segments("Hi 😀").not_gsm == ("😀",)


def test_a_surrogate_pair_is_never_split_across_segments() -> None:
    # 134 code units would fit two segments of 67, but the emoji would straddle the first boundary.
    counted = count_segments("я" * 66 + "😀" + "я" * 66)
    assert counted.units == 134
    assert counted.segments == 3
    assert count_segments("я" * 65 + "😀" + "я" * 67).segments == 2


def test_the_characters_that_force_ucs2_are_named() -> None:
    counted = count_segments("Hello “friend” — it’s on sale")
    assert counted.encoding == "UCS-2"
    assert counted.not_gsm == ("“", "”", "—", "’")
    assert count_segments("plain ascii {ok}").not_gsm == ()


def test_per_segment_capacity() -> None:
    assert count_segments("a").per_segment == 160
    assert count_segments("a" * 200).per_segment == 153
    assert count_segments("я").per_segment == 70
    assert count_segments("я" * 100).per_segment == 67


# -- reading the recipients --------------------------------------------------------------------------------


def texts(found: list[Recipient]) -> list[tuple[int, str]]:
    return [(r.line, r.text) for r in found]


def test_one_number_per_line_keeps_line_numbers_and_skips_a_header() -> None:
    found = read_recipients("Phone numbers\n+44 7400 123456\n\n  +852 9123 4567  \nhello\n", PASTED_FIELD)
    assert texts(found) == [(2, "+44 7400 123456"), (4, "+852 9123 4567"), (5, "hello")]


def test_csv_column_chosen_by_its_header() -> None:
    text = (
        '\nname,Mobile Phone,city\nMei,+852 9123 4567,HK\nBob,,London\nJo\n"two\nlines",+44 7400 123456,x\n'
    )
    found = read_recipients(text, FILE_FIELD)
    # Bob has no number and Jo no such column: both are lines to point at, not silently dropped.
    assert texts(found) == [(3, "+852 9123 4567"), (4, ""), (5, ""), (6, "+44 7400 123456")]


def test_csv_column_chosen_by_content_without_a_header() -> None:
    found = read_recipients("Mei;+852 9123 4567;HK\nBob;+44 20 7946 0018;UK\n", FILE_FIELD)
    assert texts(found) == [(1, "+852 9123 4567"), (2, "+44 20 7946 0018")]
    tabbed = read_recipients("id\tphone\n7\t+1 212 555 0123\n", FILE_FIELD)
    assert texts(tabbed) == [(2, "+1 212 555 0123")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Pasted numbers: there are no phone numbers in it."),
        ("  \n\n", "Pasted numbers: there are no phone numbers in it."),
        ("phone\n", "Pasted numbers: there are no phone numbers in it, only a header."),
    ],
)
def test_an_empty_list_is_refused_naming_the_field(text: str, problem: str) -> None:
    with pytest.raises(RecipientsProblem) as refused:
        read_recipients(text, PASTED_FIELD)
    assert str(refused.value) == problem


def test_at_most_100000_recipients() -> None:
    assert (
        len(read_recipients("phone\n" + "+44 7400 123456\n" * MAX_RECIPIENTS, FILE_FIELD)) == MAX_RECIPIENTS
    )
    with pytest.raises(RecipientsProblem) as refused:
        read_recipients("phone\n" + "+44 7400 123456\n" * (MAX_RECIPIENTS + 1), FILE_FIELD)
    assert str(refused.value).startswith(
        "Recipients file: it has 100,001 recipients; I price at most 100,000"
    )


def test_file_bytes_are_read_as_text_whatever_the_encoding() -> None:
    assert text_of("phone\n+44 7400 123456\n".encode("utf-8-sig"), FILE_FIELD) == "phone\n+44 7400 123456\n"
    assert text_of(codecs.BOM_UTF16_LE + "Zoë,+44\n".encode("utf-16-le"), FILE_FIELD) == "Zoë,+44\n"
    assert text_of("Zoë,+44\n".encode("cp1252"), FILE_FIELD) == "Zoë,+44\n"
    with pytest.raises(RecipientsProblem, match=r"^Recipients file: it is not a CSV or text file"):
        text_of(b"PK\x03\x04\x14\x00\x06\x00", FILE_FIELD)  # a spreadsheet (a zip)


# -- pricing -----------------------------------------------------------------------------------------------


def quote(*lines: str, message: str = "hi") -> CampaignQuote:
    recipients = [Recipient(number, text) for number, text in enumerate(lines, start=1)]
    return quote_campaign(recipients, INDEX, count_segments(message), "HK")


def test_recipients_are_grouped_by_destination_and_line_type_and_priced_exactly() -> None:
    priced = quote_campaign(
        [
            Recipient(1, "+44 7400 123456"),
            Recipient(2, "447400123457"),  # international without its +
            Recipient(3, "+44 20 7946 0018"),
            Recipient(4, "9123 4567"),  # national: the account's country (HK)
            Recipient(5, "+1 212 555 0123"),  # the US plan cannot tell mobiles from landlines
            Recipient(6, "+44 (0)7400 123456"),  # the first number again
            Recipient(7, "hello"),
            Recipient(8, "+1 800 555 0123"),
        ],
        INDEX,
        count_segments("a" * 161),
        "HK",
    )
    by_iso = {d.row.iso_code: d for d in priced.destinations}
    assert set(by_iso) == {"GB", "HK", "US"}
    gb, hk, us = by_iso["GB"], by_iso["HK"], by_iso["US"]
    assert (gb.mobile, gb.landline, gb.either, gb.messages) == (2, 1, 0, 6)
    assert (hk.mobile, hk.messages) == (1, 2)
    assert (us.either, us.messages) == (1, 2)
    assert gb.cost == SAMPLE["GB"].sms_per_message * 6
    assert (
        priced.total
        == SAMPLE["GB"].sms_per_message * 6
        + SAMPLE["HK"].sms_per_message * 2
        + SAMPLE["US"].sms_per_message * 2
    )
    assert isinstance(priced.total, Decimal)
    assert (priced.recipients, priced.priced, priced.duplicates, priced.landlines) == (8, 5, 1, 1)
    assert priced.unpriced == (("toll_free", 1),)
    assert [(r.line, r.text) for r in priced.invalid] == [(7, "hello")]
    assert [d.cost for d in priced.destinations] == sorted(
        (d.cost for d in priced.destinations), reverse=True
    )


def test_only_the_first_invalid_lines_are_kept_but_all_are_counted() -> None:
    priced = quote_campaign(
        [Recipient(line, f"bad {line}") for line in range(1, 26)], INDEX, count_segments("hi"), None
    )
    assert priced.invalid_count == 25
    assert [r.line for r in priced.invalid] == list(range(1, MAX_INVALID_KEPT + 1))
    assert priced.total == Decimal(0)


def test_numbers_without_a_country_code_need_the_accounts_country() -> None:
    assert quote_campaign([Recipient(1, "9123 4567")], INDEX, count_segments("hi"), None).invalid_count == 1


def written_forms() -> list[str]:
    """Every region's example number of every type, in the forms people write them."""
    forms: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (
            PhoneNumberType.MOBILE,
            PhoneNumberType.FIXED_LINE,
            PhoneNumberType.TOLL_FREE,
            PhoneNumberType.PREMIUM_RATE,
            PhoneNumberType.VOIP,
            PhoneNumberType.UAN,
        ):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            forms += [e164, phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), e164[1:]]
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None:
            forms.append(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return [*forms, "+44 (0)20 7946 0018", "+7 8 912 345 6789", "+39 06 1234 5678", "2123 4567", "+44 12"]


def as_rates_prices(text: str) -> object:
    result = INDEX.lookup(text, default_region="HK")
    if isinstance(result, PhoneMatch):
        return (result.row.iso_code, result.line_type)
    if isinstance(result, UnpricedNumber) and result.kind != "unknown":
        return result.kind
    return "invalid"


def as_campaign_prices(text: str) -> object:
    priced = quote_campaign([Recipient(1, text)], INDEX, count_segments("hi"), "HK")
    if priced.destinations:
        [destination] = priced.destinations
        [line_type] = [kind for kind in ("mobile", "landline", "either") if destination.count(kind)]
        return (destination.row.iso_code, line_type)
    return priced.unpriced[0][0] if priced.unpriced else "invalid"


def test_every_number_is_priced_as_rates_prices_it() -> None:
    """The fast reading (no phonenumbers.parse for E.164) agrees with `/rates` on every region's numbers."""
    forms = written_forms()
    assert len(forms) > 2000
    disagreeing = [(text, as_rates_prices(text), as_campaign_prices(text)) for text in forms]
    assert [found for found in disagreeing if found[1] != found[2]] == []


def test_a_table_keyed_by_a_longer_dial_prefix_prices_as_rates_does() -> None:
    """A region without a row of its own (Jamaica here, priced under "1876") goes through RateIndex.lookup."""
    jamaica = RateRow(
        dial_code="1876",
        iso_code="XJ",
        destination="Jamaica (all)",
        landline_per_min=Decimal("0.1"),
        mobile_per_min=Decimal("0.2"),
        sms_per_message=Decimal("0.0555"),
    )
    index = RateIndex.build([jamaica, SAMPLE["US"]])
    priced = quote_campaign([Recipient(1, "+1 876 210 1234")], index, count_segments("hi"), None)
    [destination] = priced.destinations
    assert destination.row == jamaica
    assert destination.cost == Decimal("0.0555")


# -- the answer --------------------------------------------------------------------------------------------


def worst_case_summary() -> CampaignSummary:
    """Every part of the answer at its largest: what Share must carry within 2,000 characters."""
    message = count_segments("“”—’😀" * 320)  # 1,600 characters, the most the form takes
    destinations = tuple(
        DestinationQuote(
            row=RateRow(
                dial_code=str(2000 + n),
                iso_code=f"Q{chr(65 + n)}",
                destination=f"The Very Long Name of Destination {n} and All Its Outlying Islands",
                landline_per_min=MAX_RATE,
                mobile_per_min=MAX_RATE,
                sms_per_message=MAX_RATE,
            ),
            mobile=2_222,
            landline=2_222,
            either=2_222,
            messages=6_666 * message.segments,
            cost=MAX_RATE * 6_666 * message.segments,
        )
        for n in range(15)  # 99,990 recipients: a list holds at most 100,000
    )
    priced = CampaignQuote(
        message=message,
        recipients=MAX_RECIPIENTS,
        destinations=destinations,
        unpriced=tuple((kind, 99_999) for kind in get_args(UnpricedKind)),
        invalid=tuple(Recipient(99_990 + n, "+" + "9" * 99) for n in range(MAX_INVALID_KEPT)),
        invalid_count=MAX_RECIPIENTS,
        duplicates=MAX_RECIPIENTS,
    )
    spend = PeriodSpend(
        since=date(2026, 11, 2), renewal=date(2026, 12, 2), spent=Decimal("99999999.12345678")
    )
    return summary_of(priced, spend, TABLE.model_copy(update={"sample": True}))


def test_share_can_carry_the_largest_answer() -> None:
    summary = worst_case_summary()
    assert len(summary.encode()) <= BUTTON_VALUE_LIMIT
    assert CampaignSummary.decode(summary.encode()) == summary
    message = campaign_message(summary)
    assert validate_message(message.as_kwargs(), where="campaign") == []
    assert "…and 5 more destinations" in "\n".join(str(b.to_dict()) for b in message.blocks)


def test_the_answer_is_valid_block_kit_and_share_can_carry_it() -> None:
    priced = quote(
        "+44 7400 123456",
        "+44 20 7946 0018",
        "+1 212 555 0123",
        "+1 800 555 0123",
        "hello",
        message="Sale! 😀 " * 20,
    )
    summary = summary_of(priced, SPEND, TABLE)
    message = campaign_message(summary)
    assert validate_message(message.as_kwargs(), where="campaign") == []
    assert CampaignSummary.decode(summary.encode()) == summary
