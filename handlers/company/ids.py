"""The company capability's action, block and callback ids."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    COMPANY_EDIT = "company.edit"
    COMPANY_HISTORY = "company.history"
    COMPANY_COUNTRY = "company.country"  # the external select; its options listener too
    COMPANY_TEXT = "company.text"  # every text input of the edit modal (the block says which field)


class Block(StrEnum):
    COMPANY_DETAILS = "company.details"
    COMPANY_UPDATED = "company.updated"
    COMPANY_ACTIONS = "company.actions"
    COMPANY_CONFLICT = "company.conflict"
    COMPANY_REQUIRED_NOTE = "company.required"
    COMPANY_COUNTRY = "company.field.country"
    COMPANY_ADDRESS = "company.field.address"
    COMPANY_WEBSITE = "company.field.website"
    COMPANY_CONTACT_PERSON = "company.field.contact_person"
    COMPANY_CONTACT_NUMBER = "company.field.contact_number"
    COMPANY_EMAIL = "company.field.email"


class Callback(StrEnum):
    COMPANY_EDIT = "company.edit"
