"""Company Information: form validation, normalisation, diffing and display (pure unit tests)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.company import (
    CompanyForm,
    FieldErrors,
    ValidatedCompany,
    country_name,
    country_options,
    diff_company,
    display_value,
    formatted_number,
    search_country_options,
    validate_company_form,
)
from store.domain.company import (
    MAX_ADDRESS_LEN,
    MAX_CONTACT_NUMBER_LEN,
    MAX_CONTACT_PERSON_LEN,
    MAX_EMAIL_LEN,
    MAX_WEBSITE_LEN,
    CompanyChange,
    CompanyInfo,
)

VALID: dict[str, str] = {
    "country": "HK",
    "address": "1 Queen's Road Central, Hong Kong",
    "website": "https://example.com",
    "contact_person": "Ada Lovelace",
    "contact_number": "+852 2345 6789",
    "email": "ada@example.com",
}


def form(**overrides: str | None) -> CompanyForm:
    """The valid form with some fields replaced (None = not submitted)."""
    return CompanyForm.model_validate({**VALID, **overrides})


def ok(result: ValidatedCompany | FieldErrors) -> ValidatedCompany:
    assert isinstance(result, ValidatedCompany), result
    return result


def errors(result: ValidatedCompany | FieldErrors) -> FieldErrors:
    assert isinstance(result, FieldErrors), result
    return result


def test_valid_full_form_is_normalised() -> None:
    company = ok(validate_company_form(form(country=" hk ", email="Ada@Example.COM"), default_region=None))
    assert company.model_dump() == {
        **VALID,
        "contact_number": "+85223456789",
        "email": "Ada@example.com",
    }


def test_optional_fields_may_be_blank() -> None:
    company = ok(validate_company_form(form(address="  ", website=None), default_region=None))
    assert company.address == ""
    assert company.website is None


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("country", "Location is required — choose a country"),
        ("contact_person", "Contact person is required"),
        ("contact_number", "Contact number is required"),
        ("email", "Email address is required"),
    ],
)
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_required_field_missing(field: str, message: str, blank: str | None) -> None:
    result = errors(validate_company_form(form(**{field: blank}), default_region="HK"))
    assert result == {field: message}


@pytest.mark.parametrize("email", ["a@", "no-at", "a@b", "a b@example.com", "a@@example.com", "a@b.test"])
def test_bad_emails(email: str) -> None:
    result = errors(validate_company_form(form(email=email), default_region=None))
    assert result == {"email": "Enter a valid email address, like name@example.com"}


@pytest.mark.parametrize(
    ("country", "default_region", "number", "e164"),
    [
        ("HK", None, "2345 6789", "+85223456789"),
        ("HK", None, "+852 2345-6789", "+85223456789"),
        ("HK", "US", "2345 6789", "+85223456789"),  # the submitted country wins over the default
        ("GB", None, "020 7946 0018", "+442079460018"),
        ("GB", None, "+1 (650) 253-0000", "+16502530000"),  # any country, not just the location's
        ("US", None, "(650) 253-0000", "+16502530000"),
        ("GB", None, "00852 2345 6789", "+85223456789"),  # international prefix of the location
    ],
)
def test_phone_numbers_are_stored_in_e164(
    country: str, default_region: str | None, number: str, e164: str
) -> None:
    company = ok(
        validate_company_form(form(country=country, contact_number=number), default_region=default_region)
    )
    assert company.contact_number == e164


def test_phone_without_plus_falls_back_to_default_region() -> None:
    result = errors(
        validate_company_form(form(country="ZZ", contact_number="2345 6789"), default_region="HK")
    )
    assert set(result) == {"country"}  # the number was read in HK, so only the country is wrong


def _not_valid_for(country: str, code: int) -> str:
    hint = f"include the country code, e.g. +{code} …"
    return f"That doesn't look like a valid phone number for {country} — {hint}"


@pytest.mark.parametrize(
    ("country", "number", "message"),
    [
        (
            "HK",
            "1234",
            _not_valid_for("Hong Kong", 852),
        ),
        (
            "HK",
            "call me maybe",
            _not_valid_for("Hong Kong", 852),
        ),
        (
            "TW",
            "+886 12",
            _not_valid_for("Taiwan", 886),
        ),
        (
            "CA",
            "+1 555",
            "That doesn't look like a valid phone number for Canada — include the country code, e.g. +1 …",
        ),
        ("HK", "+999 1234 5678", "Enter a valid phone number including the country code, e.g. +1 …"),
        ("HK", "+1 650 253 0000 ext. 12", "Enter the number without an extension"),
    ],
)
def test_bad_phone_numbers(country: str, number: str, message: str) -> None:
    result = errors(validate_company_form(form(country=country, contact_number=number), default_region=None))
    assert result == {"contact_number": message}


def test_phone_without_plus_and_no_region_asks_for_country_code() -> None:
    result = errors(
        validate_company_form(form(country=None, contact_number="2345 6789"), default_region=None)
    )
    assert result["contact_number"] == "Enter a valid phone number including the country code, e.g. +1 …"


@pytest.mark.parametrize(
    ("website", "stored"),
    [
        ("example.com", "https://example.com"),
        ("http://x.org", "http://x.org"),
        ("HTTPS://Example.com/about?lang=en#team", "https://Example.com/about?lang=en#team"),
        ("www.example.co.uk:8443/path", "https://www.example.co.uk:8443/path"),
        ("https://bücher.de", "https://bücher.de"),
        ("https://例え.テスト/", "https://例え.テスト/"),
    ],
)
def test_good_websites(website: str, stored: str) -> None:
    assert ok(validate_company_form(form(website=website), default_region=None)).website == stored


@pytest.mark.parametrize(
    "website",
    [
        "ftp://x.org",
        "not a url",
        "javascript:alert(1)",
        "mailto:ada@example.com",
        "https://localhost",
        "https://",
        "https://user:pw@example.com",
        "https://example.com:99999",
        "https://-bad-.com",
        "https://exa_mple.com",
        "https://example..com",
    ],
)
def test_bad_websites(website: str) -> None:
    result = errors(validate_company_form(form(website=website), default_region=None))
    assert result == {"website": "Enter a website starting with http:// or https://"}


@pytest.mark.parametrize("country", ["XX", "ZZ", "HKG", "Hong Kong", "1"])
def test_unknown_country(country: str) -> None:
    result = errors(validate_company_form(form(country=country), default_region=None))
    assert result == {"country": "Choose a country from the list"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_person", "José Müller-Łukasiewicz"),
        ("contact_person", "陳大文"),
        ("address", "香港中環皇后大道中1號"),
        ("address", "Straße 5\nZürich"),
        ("address", "Café\u0301 combining accent, kept as typed"),
    ],
)
def test_unicode_round_trips_untouched(field: str, value: str) -> None:
    company = ok(validate_company_form(form(**{field: f"  {value}\t"}), default_region=None))
    assert getattr(company, field) == value


@pytest.mark.parametrize(
    ("field", "value"),
    [("contact_person", "Ada\x00Lovelace"), ("address", "Road\x1b[31m"), ("contact_person", "Ada\nLovelace")],
)
def test_control_characters_rejected(field: str, value: str) -> None:
    result = errors(validate_company_form(form(**{field: value}), default_region=None))
    assert result == {field: "Remove the hidden control characters"}


def _email_of_length(length: int) -> str:
    """A syntactically valid address of exactly ``length`` characters: 64-char local part, dotted domain."""
    domain_len = length - len("@") - 64
    full_labels = domain_len // 64  # 63-character labels, each followed by a dot
    labels = ["d" * 63] * full_labels
    labels.append("com".rjust(domain_len - full_labels * 64, "c"))
    return "l" * 64 + "@" + ".".join(labels)


def _at_length(field: str, length: int) -> str:
    builders: dict[str, Any] = {
        "address": lambda n: "香" * n,
        "contact_person": lambda n: "Ł" * n,
        "website": lambda n: "https://example.com/" + "a" * (n - len("https://example.com/")),
        "email": _email_of_length,
        "contact_number": lambda n: "+852 2345 6789" + " " * (n - len("+852 2345 6789")),
    }
    value: str = builders[field](length)
    assert len(value) == length
    return value


LIMITS = [
    ("address", MAX_ADDRESS_LEN),
    ("contact_person", MAX_CONTACT_PERSON_LEN),
    ("website", MAX_WEBSITE_LEN),
    ("email", MAX_EMAIL_LEN),
]


@pytest.mark.parametrize(("field", "limit"), LIMITS)
def test_maximum_length_accepted(field: str, limit: int) -> None:
    company = ok(validate_company_form(form(**{field: _at_length(field, limit)}), default_region=None))
    assert len(getattr(company, field)) == limit


@pytest.mark.parametrize(("field", "limit"), LIMITS)
def test_over_maximum_length_rejected(field: str, limit: int) -> None:
    result = errors(validate_company_form(form(**{field: _at_length(field, limit + 1)}), default_region=None))
    assert result == {field: f"Keep it to {limit} characters or fewer (now {limit + 1})"}


def test_contact_number_length_limit() -> None:
    padded = "+852 2345 6789".ljust(MAX_CONTACT_NUMBER_LEN - 1, "-") + "0"
    ok_result = validate_company_form(form(contact_number=padded[:-1]), default_region=None)
    assert ok(ok_result).contact_number == "+85223456789"
    result = errors(validate_company_form(form(contact_number=padded + "0"), default_region=None))
    assert result == {
        "contact_number": f"Keep it to {MAX_CONTACT_NUMBER_LEN} characters or fewer (now {len(padded) + 1})"
    }


def test_website_length_counts_the_added_scheme() -> None:
    bare = "example.com/" + "a" * (MAX_WEBSITE_LEN - len("https://example.com/"))
    assert len(ok(validate_company_form(form(website=bare), default_region=None)).website or "") == 200
    result = errors(validate_company_form(form(website=bare + "a"), default_region=None))
    assert set(result) == {"website"}


def test_several_bad_fields_give_several_errors() -> None:
    result = errors(
        validate_company_form(
            form(
                country="XX", website="ftp://x.org", contact_person="", contact_number="garbage", email="a@"
            ),
            default_region=None,
        )
    )
    assert result == {
        "country": "Choose a country from the list",
        "website": "Enter a website starting with http:// or https://",
        "contact_person": "Contact person is required",
        "contact_number": "Enter a valid phone number including the country code, e.g. +1 …",
        "email": "Enter a valid email address, like name@example.com",
    }


def _info(**overrides: Any) -> CompanyInfo:
    return CompanyInfo.model_validate({**VALID, "contact_number": "+85223456789", "version": 3, **overrides})


def test_diff_lists_only_changed_fields() -> None:
    before = _info()
    after = ok(
        validate_company_form(form(contact_person="Grace Hopper", website="example.org"), default_region=None)
    )
    assert diff_company(before, after) == [
        CompanyChange(field="website", before="https://example.com", after="https://example.org"),
        CompanyChange(field="contact_person", before="Ada Lovelace", after="Grace Hopper"),
    ]


def test_diff_of_identical_details_is_empty() -> None:
    before = _info(updated_by="U123")
    after = ok(validate_company_form(form(), default_region=None))
    assert diff_company(before, after) == []


def test_diff_treats_blank_and_missing_alike() -> None:
    assert diff_company(_info(address="", website=None), _info(address="", website=None)) == []
    assert diff_company(_info(address=""), _info(address="Somewhere")) == [
        CompanyChange(field="address", before=None, after="Somewhere")
    ]


def test_diff_from_nothing_lists_every_set_field() -> None:
    after = ok(validate_company_form(form(address=""), default_region=None))
    changes = diff_company(None, after)
    assert [change.field for change in changes] == [
        "country",
        "website",
        "contact_person",
        "contact_number",
        "email",
    ]
    assert all(change.before is None for change in changes)


def test_country_options_are_sorted_by_common_name() -> None:
    options = country_options()
    codes = dict(options)
    assert len(options) == 249
    assert codes["TW"] == "Taiwan"
    assert codes["BO"] == "Bolivia"
    assert codes["HK"] == "Hong Kong"
    names = [name for _, name in options]
    assert names.index("Åland Islands") < names.index("Albania")
    assert names.index("Zimbabwe") == len(names) - 1


def test_search_country_options() -> None:
    assert search_country_options("hk")[0] == ("HK", "Hong Kong")
    assert ("CI", "Côte d'Ivoire") in search_country_options("cote")
    assert len(search_country_options("")) == 100


def test_display_helpers() -> None:
    assert formatted_number("+85223456789") == "+852 2345 6789"
    assert formatted_number("not a number") == "not a number"
    assert country_name("tw") == "Taiwan"
    assert country_name("XX") == "XX"
    assert display_value("country", "HK") == "Hong Kong"
    assert display_value("contact_number", "+16502530000") == "+1 650-253-0000"
    assert display_value("website", None) == "—"
    assert display_value("email", "ada@example.com") == "ada@example.com"
