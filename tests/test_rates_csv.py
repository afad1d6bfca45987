"""Rate table CSV import/export, sample data and version diffs."""

from __future__ import annotations

from decimal import Decimal

import phonenumbers
import pycountry
import pytest
from pydantic import ValidationError

from bot.rates import (
    HEADER_LINE,
    NON_COUNTRY_REGIONS,
    SAMPLE_LABEL,
    RateFileError,
    RateRow,
    check_rows,
    diff_tables,
    parse_csv,
    sample_rows,
    synthetic_rows,
    to_csv,
)

GOOD = HEADER_LINE + "\n44,GB,United Kingdom,0.0100,0.0250,0.0400\n852,HK,Hong Kong,0.01,0.02,0.03\n"


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(RateFileError) as caught:
        parse_csv(text)
    return caught.value.problems


def _row(
    iso: str, landline: str = "0.01", mobile: str = "0.02", sms: str = "0.03", name: str = ""
) -> RateRow:
    return RateRow(
        dial_code="1",
        iso_code=iso,
        destination=name or iso,
        landline_per_min=Decimal(landline),
        mobile_per_min=Decimal(mobile),
        sms_per_message=Decimal(sms),
    )


# -- import -----------------------------------------------------------------------------------------------


def test_parse_keeps_rates_exactly_as_written() -> None:
    rows = parse_csv(GOOD)
    assert [row.iso_code for row in rows] == ["GB", "HK"]
    assert str(rows[0].landline_per_min) == "0.0100"
    assert str(rows[1].landline_per_min) == "0.01"


def test_sample_round_trip_is_byte_identical() -> None:
    text = to_csv(sample_rows())
    assert text.startswith(HEADER_LINE + "\n")
    assert "\r" not in text
    assert parse_csv(text) == sample_rows()
    assert to_csv(parse_csv(text)) == text


def test_round_trip_of_quoted_names_and_trailing_zeros() -> None:
    text = HEADER_LINE + '\n82,KR,"Korea, Republic of",0.0100,1.5000,0\n'
    assert to_csv(parse_csv(text)) == text


def test_lenient_input_is_written_back_canonically() -> None:
    messy = "\ufeff" + GOOD.replace("\n", "\r\n").replace("44,GB,", "44, gb ,") + "\r\n\r\n"
    assert to_csv(parse_csv(messy)) == GOOD


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("+44,GB,United Kingdom,0.01,0.02,0.03", "dial_code '+44'"),
        ("4x,GB,United Kingdom,0.01,0.02,0.03", "dial_code '4x'"),
        ("12345,GB,United Kingdom,0.01,0.02,0.03", "1–4 digits"),
        (",GB,United Kingdom,0.01,0.02,0.03", "dial_code ''"),
        ("44,ZZ,Nowhere,0.01,0.02,0.03", "iso_code 'ZZ'"),
        ("44,GBR,United Kingdom,0.01,0.02,0.03", "iso_code 'GBR'"),
        ("44,GB,,0.01,0.02,0.03", "destination is empty"),
        ("44,GB,United Kingdom,-0.01,0.02,0.03", "landline_per_min '-0.01' is negative"),
        ("44,GB,United Kingdom,0.01,0.00001,0.03", "mobile_per_min '0.00001' has more than 4 decimal places"),
        ("44,GB,United Kingdom,0.01,0.02,abc", "sms_per_message 'abc' is not a decimal number"),
        ("44,GB,United Kingdom,1e-2,0.02,0.03", "landline_per_min '1e-2' is not a decimal"),
        ("44,GB,United Kingdom,NaN,0.02,0.03", "landline_per_min 'NaN' is not a decimal"),
        ("44,GB,United Kingdom,0.01,0.02", "expected 6 columns, found 5"),
        ("44,GB,United Kingdom,1000,0.02,0.03", "landline_per_min '1000' is too high"),
        ("44,GB,United Kingdom,0.01,1" + "0" * 39 + ",0.03", "is too high"),
        ("44,GB,United\x00Kingdom,0.01,0.02,0.03", "control character"),
        ('44,GB,"' + "x" * 200_000 + '",0.01,0.02,0.03', "a cell is longer than 131,072 characters"),
    ],
)
def test_bad_rows_are_rejected_with_line_number(line: str, reason: str) -> None:
    problems = _problems(f"{HEADER_LINE}\n852,HK,Hong Kong,0.01,0.02,0.03\n{line}\n")
    assert len(problems) == 1
    number, message = problems[0]
    assert number == 3
    assert reason in message


def test_every_problem_is_reported_and_nothing_is_imported() -> None:
    text = "\n".join(
        [
            HEADER_LINE,
            "44,GB,United Kingdom,0.01,0.02,0.03",  # 2 fine
            "+44,ZZ,Bad,-1,0.02,0.03",  # 3 three problems
            "852,HK,Hong Kong,0.01,0.02,0.03",  # 4 fine
            "44,GB,Britain again,0.01,0.02,0.03",  # 5 duplicate of line 2
            "",  # 6 blank: skipped
            "1,US,United States,0.01,0.02,0.123456",  # 7 too many places
        ]
    )
    problems = _problems(text)
    assert [number for number, _ in problems] == [3, 3, 3, 5, 7]
    assert "duplicate destination GB (first on line 2)" in problems[3][1]


def test_quoted_multiline_field_keeps_line_numbers_right() -> None:
    text = f'{HEADER_LINE}\n44,GB,"United\nKingdom",0.01,0.02,0.03\n852,XX,Hong Kong,0.01,0.02,0.03\n'
    problems = _problems(text)
    assert [number for number, _ in problems] == [2, 4]
    assert "line break" in problems[0][1]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        (HEADER_LINE + "\n", "no rates"),
        ("dial,iso,name,landline,mobile,sms\n44,GB,UK,0.01,0.02,0.03\n", "header must be exactly"),
        (HEADER_LINE.upper() + "\n44,GB,UK,0.01,0.02,0.03\n", "header must be exactly"),
    ],
)
def test_bad_files_are_rejected_on_line_one(text: str, reason: str) -> None:
    problems = _problems(text)
    assert problems[0][0] == 1
    assert reason in problems[0][1]


def test_non_country_regions_are_accepted() -> None:
    rows = parse_csv(HEADER_LINE + "\n383,XK,Kosovo,0.01,0.02,0.03\n247,AC,Ascension Island,0.5,0.5,0.1\n")
    assert {row.iso_code for row in rows} == {"XK", "AC"}


def test_error_message_summarises() -> None:
    with pytest.raises(RateFileError, match="line 2"):
        parse_csv(HEADER_LINE + "\n44,ZZ,UK,0.01,0.02,0.03\n")


def test_check_rows_for_rows_from_other_sources() -> None:
    assert check_rows([_row("GB"), _row("HK")]) == []
    assert check_rows([_row("GB"), _row("QQ"), _row("GB")]) == [
        (2, "iso_code 'QQ' is not a known ISO 3166-1 alpha-2 code"),
        (3, "duplicate destination GB (first on line 1)"),
    ]


@pytest.mark.parametrize("value", ["-0.01", "-0", "0.00001", "NaN", "Infinity", "1E+30", "1" * 40, "1000"])
def test_rate_row_refuses_bad_money(value: str) -> None:
    with pytest.raises(ValidationError):
        _row("GB", landline=value)


# -- sample data ------------------------------------------------------------------------------------------


def test_sample_covers_every_diallable_region() -> None:
    codes = {row.iso_code for row in sample_rows()}
    countries = {country.alpha_2 for country in pycountry.countries}
    expected = set(phonenumbers.SUPPORTED_REGIONS) & (countries | set(NON_COUNTRY_REGIONS))
    assert codes == expected
    assert {"XK", "AC", "TA", "GB", "US", "HK"} <= codes
    assert len(codes) == len(sample_rows())


def test_sample_is_valid_plausible_and_deterministic() -> None:
    rows = sample_rows()
    assert check_rows(rows) == []
    for row in rows:
        assert row.dial_code == str(phonenumbers.country_code_for_region(row.iso_code))
        assert row.mobile_per_min >= row.landline_per_min > 0
        assert Decimal("0.0001") <= row.sms_per_message < Decimal("1")
        assert row.landline_per_min.as_tuple().exponent == -4
    uk = next(row for row in rows if row.iso_code == "GB")
    # Pinned: derived from a hash of the code, so it must never change between runs or machines.
    assert (str(uk.landline_per_min), str(uk.mobile_per_min), str(uk.sms_per_message)) == (
        "0.0249",
        "0.0547",
        "0.0414",
    )
    assert "SAMPLE" in SAMPLE_LABEL


def test_synthetic_rows() -> None:
    rows = synthetic_rows(50_000)
    assert len(rows) == 50_000
    assert rows[: len(sample_rows())] == sample_rows()
    assert len({row.destination for row in rows}) == 50_000
    assert synthetic_rows(10) == sample_rows()[:10]
    assert synthetic_rows(1000)[-1] == rows[999]


# -- versions ---------------------------------------------------------------------------------------------


def test_diff_tables() -> None:
    old = [_row("GB", "0.01", "0.02", "0.03"), _row("HK"), _row("FR")]
    new = [_row("GB", "0.0100", "0.03", "0.02"), _row("HK"), _row("DE")]
    changes = diff_tables(old, new)
    assert [row.iso_code for row in changes.added] == ["DE"]
    assert [row.iso_code for row in changes.removed] == ["FR"]
    assert [(c.iso_code, c.kind, c.old, c.new) for c in changes.increased] == [
        ("GB", "mobile", Decimal("0.02"), Decimal("0.03"))
    ]
    assert [(c.iso_code, c.kind, c.delta) for c in changes.decreased] == [("GB", "sms", Decimal("-0.01"))]
    assert not changes.is_empty
    assert diff_tables(old, old).is_empty
