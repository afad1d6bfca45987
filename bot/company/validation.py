"""Validation and display rules for Company Information (pure: no Slack, no I/O, no DNS).

Every failing field gets its own message so the modal can show them all inline at once, rather than
making the user fix one field per submit.

phonenumbers, pycountry and email_validator are imported where they are used: a serving process loads
them (about 1.5 MB) with the first Company Information it shows or checks, not at start.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from store.domain.bounds import LINE_BREAKS
from store.domain.company import (
    COMPANY_FIELDS,
    FIELD_LABELS,
    MAX_LENGTHS,
    REQUIRED_FIELDS,
    CompanyDetails,
    CompanyField,
)

if TYPE_CHECKING:
    import phonenumbers

EMAIL_MESSAGE: Final = "Enter a valid email address, like name@example.com"
WEBSITE_MESSAGE: Final = "Enter a website starting with http:// or https://"
COUNTRY_MESSAGE: Final = "Choose a country from the list"
CONTROL_MESSAGE: Final = "Remove the hidden control characters"
EXTENSION_MESSAGE: Final = "Enter the number without an extension"
_ALLOWED_SCHEMES: Final = frozenset({"http", "https"})


class CompanyForm(BaseModel):
    """The raw strings a user submitted; anything may be missing, blank or wrong."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    country: str | None = None
    address: str | None = None
    website: str | None = None
    contact_person: str | None = None
    contact_number: str | None = None
    email: str | None = None


class ValidatedCompany(CompanyDetails):
    """Company details that passed ``validate_company_form``: a country is always present."""

    country: str


class FieldErrors(dict[CompanyField, str]):
    """Failing field → short user-facing message; a distinct type so callers can ``isinstance`` it."""


class _InvalidFieldError(ValueError):
    """A field's value was rejected; the message is shown to the user as is."""


# --- countries -----------------------------------------------------------------------------------------


def _known_country(code: str | None) -> str | None:
    """The upper-cased alpha-2 code if pycountry knows it, else ``None``."""
    import pycountry

    if not code or len(code.strip()) != 2:
        return None
    upper = code.strip().upper()
    return upper if pycountry.countries.get(alpha_2=upper) is not None else None


def country_name(code: str) -> str:
    """A country's everyday name ("Taiwan", not "Taiwan, Province of China"); unknown codes as given."""
    import pycountry

    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return str(getattr(country, "common_name", country.name))


def _sort_key(name: str) -> str:
    """Accent- and case-blind key, so "Åland Islands" sorts with the A's and "Côte d'Ivoire" with the C's."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def country_options() -> list[tuple[str, str]]:
    """Every ISO 3166 country as ``(alpha-2 code, name)``, sorted by name, for a select menu.

    There are ~250 countries, over Slack's 100-option limit for a static select: use an external select
    fed by ``search_country_options``, or option groups.
    """
    import pycountry

    options = [(str(c.alpha_2), country_name(str(c.alpha_2))) for c in pycountry.countries]
    return sorted(options, key=lambda option: _sort_key(option[1]))


def search_country_options(query: str, limit: int = 100) -> list[tuple[str, str]]:
    """Options whose name contains ``query`` (accent/case-blind) or whose code equals it, codes first."""
    needle = _sort_key(query.strip())
    options = country_options()
    exact = [option for option in options if option[0].casefold() == needle]
    matches = [option for option in options if needle in _sort_key(option[1]) and option not in exact]
    return (exact + matches)[:limit]


# --- phone numbers -------------------------------------------------------------------------------------


def formatted_number(e164: str) -> str:
    """An E.164 number in international format ("+852 2345 6789"); unparsable values are shown as stored."""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _region_for(number: phonenumbers.PhoneNumber, region: str | None) -> str | None:
    """The country to name in an error: the submitted one if the number's code is its code (+1 in
    Canada stays Canada), else the main region of that code, else ``None`` (non-geographic/unknown)."""
    import phonenumbers

    if number.country_code is None:
        return region
    if region and phonenumbers.country_code_for_region(region) == number.country_code:
        return region
    return _known_country(phonenumbers.region_code_for_country_code(number.country_code))


def _invalid_number_message(region: str | None, country_code: int | None = None) -> str:
    """Tell the user which country the number was read in, and how to give another."""
    import phonenumbers

    if region is None:
        return "Enter a valid phone number including the country code, e.g. +1 …"
    code = country_code or phonenumbers.country_code_for_region(region)
    return (
        f"That doesn't look like a valid phone number for {country_name(region)}"
        f" — include the country code, e.g. +{code} …"
    )


def _phone(value: str, region: str | None) -> str:
    """Parse in ``region`` unless the number starts with + (or an international prefix); return E.164."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        # An unknown country code was typed after +: naming the location's country would mislead.
        known = None if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE else region
        raise _InvalidFieldError(_invalid_number_message(known)) from exc
    if not phonenumbers.is_valid_number(number):
        raise _InvalidFieldError(_invalid_number_message(_region_for(number, region), number.country_code))
    if number.extension:  # E.164 cannot hold it, and dropping it silently would lose data
        raise _InvalidFieldError(EXTENSION_MESSAGE)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# --- email and website ---------------------------------------------------------------------------------


def _email(value: str) -> str:
    """Syntax only (no DNS: the bot must answer Slack within 3 s); returns the normalised address."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise _InvalidFieldError(EMAIL_MESSAGE) from exc


def _valid_host(host: str) -> bool:
    """A dotted DNS name (IDN allowed) whose labels are well formed once converted to ASCII."""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    return len(labels) >= 2 and all(_valid_label(label) for label in labels)


def _valid_label(label: str) -> bool:
    """1–63 letters, digits or hyphens, not starting or ending with a hyphen."""
    return (
        0 < len(label) <= 63
        and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in label)
        and not label.startswith("-")
        and not label.endswith("-")
    )


def _website(value: str) -> str:
    """An absolute http(s) URL; a bare "example.com" gets ``https://``. The host may be Unicode (IDN)."""
    if any(ch.isspace() for ch in value):
        raise _InvalidFieldError(WEBSITE_MESSAGE)
    url = value if "://" in value else f"https://{value}"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise _InvalidFieldError(WEBSITE_MESSAGE) from exc
    if parts.scheme.lower() not in _ALLOWED_SCHEMES or "@" in parts.netloc:  # no credentials in a URL
        raise _InvalidFieldError(WEBSITE_MESSAGE)
    if not parts.hostname or not _valid_host(parts.hostname):
        raise _InvalidFieldError(WEBSITE_MESSAGE)
    normalised = parts.scheme.lower() + url[len(parts.scheme) :]
    _check_length("website", normalised)
    return normalised


# --- the form ------------------------------------------------------------------------------------------


def _check_length(field: CompanyField, value: str) -> None:
    """Reject over-long values with the limit and the current count, so the user knows how much to cut."""
    limit = MAX_LENGTHS[field]
    if len(value) > limit:
        raise _InvalidFieldError(f"Keep it to {limit} characters or fewer (now {len(value)})")


def _check_text(field: CompanyField, value: str) -> str:
    """Free text: kept exactly as typed (Unicode untouched) but without control characters.

    PostgreSQL text cannot hold NUL, and other control characters only ever arrive by accident.
    """
    _check_length(field, value)
    allowed = LINE_BREAKS if field == "address" else frozenset()
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise _InvalidFieldError(CONTROL_MESSAGE)
    return value


def _country(value: str) -> str:
    """A known ISO 3166-1 alpha-2 code, upper-cased."""
    code = _known_country(value)
    if code is None:
        raise _InvalidFieldError(COUNTRY_MESSAGE)
    return code


def _clean(form: CompanyForm) -> dict[CompanyField, str | None]:
    """Strip surrounding whitespace; blank means not given."""
    cleaned: dict[CompanyField, str | None] = {}
    for field in COMPANY_FIELDS:
        raw: str | None = getattr(form, field)
        cleaned[field] = raw.strip() if raw and raw.strip() else None
    return cleaned


def _validators(region: str | None) -> dict[CompanyField, Callable[[str], str]]:
    """One checker per field; the phone checker reads numbers without + in ``region``."""

    def phone(value: str) -> str:
        _check_length("contact_number", value)
        return _phone(value, region)

    def email(value: str) -> str:
        _check_length("email", value)
        return _email(value)

    return {
        "country": _country,
        "address": lambda value: _check_text("address", value),
        "website": _website,
        "contact_person": lambda value: _check_text("contact_person", value),
        "contact_number": phone,
        "email": email,
    }


def validate_company_form(form: CompanyForm, *, default_region: str | None) -> ValidatedCompany | FieldErrors:
    """Check every field and collect every error; on success return normalised, storable details.

    A contact number without + is read in the submitted country, or in ``default_region`` (e.g. the
    account's stored country) when the submitted one is missing or unknown.
    """
    values = _clean(form)
    region = _known_country(values["country"]) or _known_country(default_region)
    checkers = _validators(region)
    accepted: dict[CompanyField, str | None] = {}
    errors = FieldErrors()
    for field in COMPANY_FIELDS:
        value = values[field]
        if value is None:
            if field in REQUIRED_FIELDS:
                errors[field] = _required_message(field)
            accepted[field] = None
            continue
        try:
            accepted[field] = checkers[field](value)
        except _InvalidFieldError as exc:
            errors[field] = str(exc)
    if errors:
        return errors
    return ValidatedCompany.model_validate({**accepted, "address": accepted["address"] or ""})


def _required_message(field: CompanyField) -> str:
    """The "X is required" message; the country is picked from a list, not typed, so say so."""
    if field == "country":
        return "Location is required — choose a country"
    return f"{FIELD_LABELS[field]} is required"


# --- display -------------------------------------------------------------------------------------------


def display_value(field: CompanyField, value: str | None) -> str:
    """How a stored value reads in Slack (Home tab, audit history): names, not codes; "—" when empty."""
    if not value:
        return "—"
    if field == "country":
        return country_name(value)
    if field == "contact_number":
        return formatted_number(value)
    return value
