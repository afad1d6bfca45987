"""Rate lookup and estimates: the tricky queries users type, resolved without scanning the table."""

from __future__ import annotations

from decimal import Decimal

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.rates import (
    MAX_QUERY_LENGTH,
    Ambiguous,
    CallDuration,
    DestinationMatch,
    NoMatch,
    PhoneMatch,
    RateIndex,
    RateRow,
    SmsCount,
    UnpricedNumber,
    estimate,
    format_usd,
    parse_rate_query,
    sample_rows,
    split_unread_amount,
    synthetic_rows,
)


@pytest.fixture(scope="module")
def index() -> RateIndex:
    return RateIndex.build(sample_rows())


@pytest.fixture(scope="module")
def big_index() -> RateIndex:
    return RateIndex.build(synthetic_rows(50_000))


# -- names, codes, dial codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "iso", "matched_by"),
    [
        ("hongkong", "HK", "name"),
        ("Hong Kong SAR", "HK", "name"),
        ("UK", "GB", "name"),
        ("U.K.", "GB", "name"),
        ("United States", "US", "name"),
        ("Viet Nam", "VN", "name"),
        ("vietnam", "VN", "name"),
        ("South Korea", "KR", "name"),
        ("Korea", "KR", "name"),
        ("  russia  ", "RU", "name"),
        ("Ivory Coast", "CI", "name"),
        ("Côte d'Ivoire", "CI", "name"),
        ("cote divoire", "CI", "name"),
        ("St. Lucia", "LC", "name"),
        ("Burma", "MM", "name"),
        ("Vatican", "VA", "name"),
        ("Czech Republic", "CZ", "name"),
        ("Kosovo", "XK", "name"),
        ("Macau", "MO", "name"),
        ("germny", "DE", "fuzzy"),
        ("Phillipines", "PH", "fuzzy"),
        ("swizerland", "CH", "fuzzy"),
        ("kazakstan", "KZ", "fuzzy"),
        ("gb", "GB", "iso"),
        ("GBR", "GB", "iso"),
        ("usa", "US", "iso"),
        ("HKG", "HK", "iso"),
        ("+852", "HK", "dial_code"),
        ("852", "HK", "dial_code"),
        ("+1876", "JM", "dial_code"),
        ("+44 7624", "IM", "dial_code"),
    ],
)
def test_destination_queries(index: RateIndex, query: str, iso: str, matched_by: str) -> None:
    result = index.lookup(query)
    assert isinstance(result, DestinationMatch), result
    assert (result.row.iso_code, result.matched_by) == (iso, matched_by)


@pytest.mark.parametrize(
    ("query", "main", "others"),
    [
        ("+44", "GB", {"GG", "IM", "JE"}),
        ("44", "GB", {"GG", "IM", "JE"}),
        ("0044", "GB", {"GG", "IM", "JE"}),
        ("+7", "RU", {"KZ"}),
        ("+1", "US", {"CA", "JM", "PR", "BS"}),
    ],
)
def test_shared_dial_code_gives_main_region_and_the_others(
    index: RateIndex, query: str, main: str, others: set[str]
) -> None:
    result = index.lookup(query)
    assert isinstance(result, DestinationMatch)
    assert result.row.iso_code == main
    assert result.matched_by == "dial_code"
    assert others <= {row.iso_code for row in result.others}
    assert main not in {row.iso_code for row in result.others}


def test_unique_dial_code_has_no_others(index: RateIndex) -> None:
    result = index.lookup("+852")
    assert isinstance(result, DestinationMatch)
    assert result.others == ()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("virgin islands", {"VG", "VI"}),
        ("united", {"AE", "GB", "US"}),
        ("guiana", {"GF", "GY"}),
    ],
)
def test_ambiguous_names_give_up_to_five_suggestions(
    index: RateIndex, query: str, expected: set[str]
) -> None:
    result = index.lookup(query)
    assert isinstance(result, Ambiguous), result
    assert 1 <= len(result.suggestions) <= 5
    assert expected <= {row.iso_code for row in result.suggestions}


def test_weak_single_candidate_is_offered_not_priced(index: RateIndex) -> None:
    result = index.lookup("nederland")
    assert isinstance(result, Ambiguous)
    assert result.suggestions[0].iso_code == "NL"


def test_nothing_matching_gives_the_closest_names(index: RateIndex) -> None:
    result = index.lookup("banana")
    assert isinstance(result, NoMatch)
    assert 1 <= len(result.closest) <= 3


# -- phone numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "iso", "line_type"),
    [
        ("+44 7400 123456", "GB", "mobile"),
        ("+44 7911 123456", "GG", "mobile"),  # 07911 is a Guernsey mobile range in the numbering plan
        ("+44 20 7946 0018", "GB", "landline"),
        ("+852 9123 4567", "HK", "mobile"),
        ("+852 2123 4567", "HK", "landline"),
        ("+1 212 555 0123", "US", "either"),  # NANP: the plan cannot tell mobile from landline
        ("+1 201 555 0123", "US", "either"),
        ("+1 416 555 0123", "CA", "either"),
        ("+1 876 926 0123", "JM", "landline"),
        ("+1 876 523 0123", "JM", "either"),
        ("+1 876 210 1234", "JM", "mobile"),
        ("+7 912 345 6789", "RU", "mobile"),
        ("+7 495 123 4567", "RU", "landline"),
        ("+7 771 000 9998", "KZ", "mobile"),
        ("+7 701 123 4567", "KZ", "mobile"),
        ("+44 7624 123456", "IM", "mobile"),
        ("+44 7797 712345", "JE", "mobile"),
        ("+44 1534 456789", "JE", "landline"),
        # formats
        ("00852 9123 4567", "HK", "mobile"),
        ("00852-9123-4567", "HK", "mobile"),
        ("(+44) 20-7946-0018", "GB", "landline"),
        ("+44 (0)20 7946 0018", "GB", "landline"),
        ("+1 (212) 555-0123", "US", "either"),
        ("+1.212.555.0123", "US", "either"),
        ("+442079460018", "GB", "landline"),
        ("442079460018", "GB", "landline"),
        ("tel:+44-20-7946-0018", "GB", "landline"),
        ("+44 20 7946 0018 ext. 123", "GB", "landline"),
        ("＋４４ ２０ ７９４６ ００１８", "GB", "landline"),  # full-width digits from some keyboards
    ],
)
def test_phone_numbers(index: RateIndex, query: str, iso: str, line_type: str) -> None:
    result = index.lookup(query)
    assert isinstance(result, PhoneMatch), result
    assert (result.row.iso_code, result.line_type) == (iso, line_type)
    assert result.e164.startswith("+")
    assert result.formatted.startswith("+")


def test_national_format_needs_a_default_region(index: RateIndex) -> None:
    without = index.lookup("020 7946 0018")
    assert isinstance(without, NoMatch)
    assert without.hint
    with_region = index.lookup("020 7946 0018", default_region="GB")
    assert isinstance(with_region, PhoneMatch)
    assert with_region.e164 == "+442079460018"


_PRICED = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_every_regions_example_numbers_are_priced_for_the_right_region(index: RateIndex, region: str) -> None:
    for number_type in _PRICED:
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is None:
            continue
        result = index.lookup(phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL))
        assert isinstance(result, PhoneMatch), (region, result)
        # Where plans overlap (AX/FI, VA/IT…) phonenumbers names the main region; we follow it.
        assert result.row.iso_code == phonenumbers.region_code_for_number(example)


_UNPRICED_KINDS = {
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
}


def _examples(number_type: int, count: int = 5) -> list[str]:
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is not None and phonenumbers.number_type(example) == number_type:
            found.append(phonenumbers.format_number(example, PhoneNumberFormat.E164))
    return found[:count]


@pytest.mark.parametrize(
    ("number", "kind"),
    [(number, kind) for number_type, kind in _UNPRICED_KINDS.items() for number in _examples(number_type)],
)
def test_special_numbers_are_explained_not_priced(index: RateIndex, number: str, kind: str) -> None:
    result = index.lookup(number)
    assert isinstance(result, UnpricedNumber), result
    assert result.kind == kind
    assert result.explanation.startswith(result.formatted)


@pytest.mark.parametrize(
    ("query", "kind", "iso"),
    [
        ("+1 800 555 0123", "toll_free", "US"),
        ("+44 909 879 0879", "premium", "GB"),
        ("+44 7700 900123", "unknown", "GB"),  # Ofcom drama range: not a real number
        ("+800 1234 5678", "non_geographic", None),
    ],
)
def test_named_special_numbers(index: RateIndex, query: str, kind: str, iso: str | None) -> None:
    result = index.lookup(query)
    assert isinstance(result, UnpricedNumber), result
    assert result.kind == kind
    assert (result.row.iso_code if result.row else None) == iso


def test_number_in_a_region_missing_from_the_table_has_no_rate() -> None:
    rows = [row for row in sample_rows() if row.iso_code != "JM"]
    result = RateIndex.build(rows).lookup("+1 876 210 1234")
    assert isinstance(result, UnpricedNumber)
    assert result.kind == "no_rate"
    assert result.row is None
    assert "Jamaica" in result.explanation


def test_table_keyed_by_long_dial_prefix() -> None:
    jamaica = RateRow(
        dial_code="1876",
        iso_code="JM",
        destination="Jamaica",
        landline_per_min=Decimal("0.1"),
        mobile_per_min=Decimal("0.2"),
        sms_per_message=Decimal("0.05"),
    )
    index = RateIndex.build([jamaica])
    dial = index.lookup("+1 876")
    assert isinstance(dial, DestinationMatch)
    assert dial.row == jamaica
    phone = index.lookup("+1 876 210 1234")
    assert isinstance(phone, PhoneMatch)
    assert phone.row == jamaica


# -- garbage ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "😀🎉",
        "🇬🇧",
        "asdfghjkl",
        "x" * 2000,
        "1" * 2000,
        "+" * 50,
        "+999",
        "0",
        "<script>alert(1)</script>",
        "\x00\x01\x02",
        "ab",
        "Ω",
        "1h",
    ],
)
def test_garbage_gives_no_match_and_never_raises(index: RateIndex, query: str) -> None:
    result = index.lookup(query)
    assert isinstance(result, NoMatch), result


# How fast these are is measured by bench.rates, not asserted here.


def test_long_input_is_read_only_up_to_the_length_limit(big_index: RateIndex) -> None:
    result = big_index.lookup("q" * 2000)
    assert isinstance(result, NoMatch)
    assert len(result.query) == MAX_QUERY_LENGTH


@pytest.mark.parametrize(
    "query", ["GB", "GBR", "+44", "0044", "+1", "+44 20 7946 0018", "+1 212 555 0123", "00852 9123 4567"]
)
def test_code_and_number_lookups_resolve_on_50k_rows(big_index: RateIndex, query: str) -> None:
    assert isinstance(big_index.lookup(query), DestinationMatch | PhoneMatch)


def test_fuzzy_lookup_on_50k_rows_finds_the_region(big_index: RateIndex) -> None:
    result = big_index.lookup("germny")
    assert isinstance(result, DestinationMatch)
    assert result.row.destination == "Germany"


def test_duplicate_iso_codes_keep_the_first_row_for_codes(big_index: RateIndex) -> None:
    result = big_index.lookup("DE")
    assert isinstance(result, DestinationMatch)
    assert result.row.destination == "Germany"
    zone = big_index.lookup("Germany zone 000081")
    assert isinstance(zone, DestinationMatch)
    assert zone.row.destination == "Germany zone 000081"


# -- type-ahead and paging --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("kong", ["HK"]),
        ("+44", ["GG", "IM", "JE", "GB"]),
        ("united", ["AE", "GB", "US"]),
        ("ger", ["DE"]),
        ("DE", ["CD", "DK", "DE"]),  # Democratic Republic of the Congo, Denmark, Germany
    ],
)
def test_complete_is_alphabetical_prefix_matching(index: RateIndex, prefix: str, expected: list[str]) -> None:
    assert [row.iso_code for row in index.complete(prefix)] == expected


def test_complete_limit_empty_prefix_and_typo(index: RateIndex) -> None:
    assert len(index.complete("", limit=100)) == 100
    assert index.complete("")[0].destination == "Afghanistan"
    assert len(index.complete("s", limit=3)) == 3
    assert index.complete("germn")[0].iso_code == "DE"
    assert index.complete("😀") == []
    assert index.complete("--") == []


@pytest.mark.parametrize("prefix", ["z", "s", "un", "4", "a"])
def test_complete_on_a_large_table_gives_the_alphabetical_first_matches(prefix: str) -> None:
    index = RateIndex.build(synthetic_rows(3_000))
    position = {row: number for number, row in enumerate(index.rows)}
    everything = index.complete(prefix, limit=len(index))
    assert len(everything) > 25
    assert [position[row] for row in everything] == sorted(position[row] for row in everything)
    assert index.complete(prefix, limit=25) == everything[:25]


def test_pages_are_alphabetical_and_clamped(index: RateIndex) -> None:
    first = index.page(1, 20)
    assert len(first.rows) == 20
    assert first.total_rows == len(index)
    assert first.total_pages == -(-len(index) // 20)
    names = [row.destination.casefold() for row in index.page(2, 20).rows]
    assert names == sorted(names)
    last = index.page(10_000, 20)
    assert last.number == last.total_pages
    assert index.page(-3, 20).number == 1
    assert RateIndex.build([]).page(1, 20).total_pages == 1


def test_page_of_finds_a_destinations_page(index: RateIndex) -> None:
    for iso in ("AF", "GB", "HK", "ZW"):
        page = index.page(index.page_of(iso, 20), 20)
        assert iso in {row.iso_code for row in page.rows}
    assert index.page_of("gb", 20) == index.page_of("GB", 20)
    assert index.page_of("QQ", 20) == 1


# -- estimates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "query", "quantity"),
    [
        ("uk 12 min", "uk", CallDuration(720)),
        ("uk 12m", "uk", CallDuration(720)),
        ("uk 12 minutes", "uk", CallDuration(720)),
        ("Hong Kong 1h 5m", "Hong Kong", CallDuration(3900)),
        ("jamaica 90s", "jamaica", CallDuration(90)),
        ("+44 20 7946 0018 12m 1s", "+44 20 7946 0018", CallDuration(721)),
        ("germany 2 hrs 3 mins 4 secs", "germany", CallDuration(7384)),
        ("uk for 1.5 min", "uk", CallDuration(90)),
        ("uk 300 sms", "uk", SmsCount(300)),
        ("uk 5 texts", "uk", SmsCount(5)),
        ("uk 12 MIN.", "uk", CallDuration(720)),
        ("+44 20 7946 0018", "+44 20 7946 0018", None),
        ("uk 12", "uk 12", None),
        ("12 min", "", CallDuration(720)),
        ("uk 1,000 sms", "uk", SmsCount(1000)),
        ("uk 1,000,000 min", "uk", CallDuration(60_000_000)),
        ("uk 10000000 min", "uk 10000000 min", None),
        ("uk 2.5 sms", "uk 2.5 sms", None),
    ],
)
def test_parse_rate_query(text: str, query: str, quantity: CallDuration | SmsCount | None) -> None:
    assert parse_rate_query(text) == (query, quantity)


@pytest.mark.parametrize(
    ("query", "split"),
    [
        ("uk 10000000 min", ("uk", "10000000 min")),
        ("uk for 2.5 sms", ("uk", "2.5 sms")),
        ("uk 12,5 min.", ("uk", "12,5 min.")),
        ("+44 20 7946 0018", ("+44 20 7946 0018", None)),
        ("uk 12", ("uk 12", None)),
    ],
)
def test_an_amount_no_estimate_reads_is_split_off(query: str, split: tuple[str, str | None]) -> None:
    assert split_unread_amount(query) == split


@pytest.mark.parametrize(("seconds", "minutes"), [(0, 0), (1, 1), (60, 1), (61, 2), (90, 2), (721, 13)])
def test_started_minutes(seconds: int, minutes: int) -> None:
    assert CallDuration(seconds).started_minutes == minutes


_ROW = RateRow(
    dial_code="44",
    iso_code="GB",
    destination="United Kingdom",
    landline_per_min=Decimal("0.0123"),
    mobile_per_min=Decimal("0.0456"),
    sms_per_message=Decimal("0.0100"),
)


def test_call_estimate_is_exact_per_started_minute() -> None:
    _, quantity = parse_rate_query("uk 12m 1s")
    assert quantity is not None
    result = estimate(_ROW, quantity, "landline")
    [line] = result.lines
    assert (line.kind, line.units, line.unit_rate) == ("landline", 13, Decimal("0.0123"))
    assert line.cost == Decimal("0.1599")
    assert isinstance(line.cost, Decimal)
    assert format_usd(line.cost) == "$0.1599"


def test_either_line_type_prices_both_and_voip_is_added() -> None:
    result = estimate(_ROW, CallDuration(90), "either", voip_per_min=Decimal("0.00125"))
    assert [(line.kind, line.cost) for line in result.lines] == [
        ("landline", Decimal("0.0246")),
        ("mobile", Decimal("0.0912")),
        ("voip", Decimal("0.00250")),
    ]
    assert format_usd(result.lines[2].cost) == "$0.0025"


def test_sms_estimate() -> None:
    [line] = estimate(_ROW, SmsCount(300), "mobile").lines
    assert (line.kind, line.units, line.cost) == ("sms", 300, Decimal("3.0000"))
    assert format_usd(Decimal("1234.56785")) == "$1,234.5679"


def test_describe_quantities() -> None:
    assert CallDuration(721).describe() == "12 min 1 s (13 started minutes)"
    assert CallDuration(60).describe() == "1 min (1 started minute)"
    assert SmsCount(300).describe() == "300 SMS"
