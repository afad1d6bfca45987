"""Company Information: the account's contact details, as the store holds them.

Pure domain objects (no Slack, no database). Validation of what a user types lives in
``bot.company.validation``; these models only describe already-accepted data, so loading an old row
never fails because a rule was tightened later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal, get_args

from pydantic import BaseModel, ConfigDict

# Maximum lengths in characters. Shared by validation, the Slack inputs (max_length) and the DB columns,
# so a value the modal accepts always fits the column.
MAX_ADDRESS_LEN: Final = 200
MAX_WEBSITE_LEN: Final = 200
MAX_CONTACT_PERSON_LEN: Final = 100
MAX_CONTACT_NUMBER_LEN: Final = 32
MAX_EMAIL_LEN: Final = 254

CompanyField = Literal["country", "address", "website", "contact_person", "contact_number", "email"]

#: Editable fields, in the order the modal and the Home tab show them.
COMPANY_FIELDS: Final[tuple[CompanyField, ...]] = get_args(CompanyField)

#: Fields a save cannot leave empty (the seed marks them with *).
REQUIRED_FIELDS: Final[frozenset[CompanyField]] = frozenset(
    {"country", "contact_person", "contact_number", "email"}
)

#: Human labels, worded as in the seed's Company Information page.
FIELD_LABELS: Final[dict[CompanyField, str]] = {
    "country": "Location",
    "address": "Address",
    "website": "Company website",
    "contact_person": "Contact person",
    "contact_number": "Contact number",
    "email": "Email address",
}

MAX_LENGTHS: Final[dict[CompanyField, int]] = {
    "country": 2,
    "address": MAX_ADDRESS_LEN,
    "website": MAX_WEBSITE_LEN,
    "contact_person": MAX_CONTACT_PERSON_LEN,
    "contact_number": MAX_CONTACT_NUMBER_LEN,
    "email": MAX_EMAIL_LEN,
}


class CompanyDetails(BaseModel):
    """The editable part of Company Information.

    ``country`` is an ISO 3166-1 alpha-2 code, ``contact_number`` is E.164 and ``website`` an absolute
    http(s) URL. ``country`` may be ``None`` only for data that predates validation.
    """

    model_config = ConfigDict(frozen=True)

    country: str | None = None
    address: str = ""
    website: str | None = None
    contact_person: str
    contact_number: str
    email: str


class CompanyInfo(CompanyDetails):
    """Company Information as stored, with who last changed it and an optimistic-locking version."""

    updated_at: datetime | None = None
    updated_by: str | None = None
    version: int = 0


class CompanyChange(BaseModel):
    """One field's change, for the audit trail; empty values are ``None`` so "" and unset compare equal."""

    model_config = ConfigDict(frozen=True)

    field: CompanyField
    before: str | None
    after: str | None


def _value(details: CompanyDetails | None, field: CompanyField) -> str | None:
    """A field's value with empty strings folded to ``None``, so a blank address is not a change."""
    if details is None:
        return None
    value: str | None = getattr(details, field)
    return value or None


def diff_company(before: CompanyDetails | None, after: CompanyDetails) -> list[CompanyChange]:
    """The fields that differ, in display order; ``before=None`` is the first save (every set field)."""
    changes: list[CompanyChange] = []
    for field in COMPANY_FIELDS:
        old, new = _value(before, field), _value(after, field)
        if old != new:
            changes.append(CompanyChange(field=field, before=old, after=new))
    return changes


class CompanySave(BaseModel):
    """The outcome of a save: the information as now stored and what the save changed (maybe nothing)."""

    model_config = ConfigDict(frozen=True)

    info: CompanyInfo
    changes: tuple[CompanyChange, ...]


class CompanyRevision(BaseModel):
    """One save in the audit trail: who changed which fields, when."""

    model_config = ConfigDict(frozen=True)

    actor: str
    at: datetime
    changes: tuple[CompanyChange, ...]
