"""The Company Information edit form: what the modal remembers, the form from what is stored or what
was typed, and the acks that keep the modal open with errors on its fields."""

from __future__ import annotations

from typing import Final

from bot.company import CompanyForm, FieldErrors
from bot.company.validation import formatted_number
from handlers.company.ids import Action
from handlers.company.ids import Block as BlockId
from handlers.interaction import ViewAck, field_errors
from handlers.payloads import ModalMetadata, ViewState
from store.domain.company import COMPANY_FIELDS, CompanyField, CompanyInfo

#: The input block of each field in the edit modal (the keys of `response_action: errors`).
FIELD_BLOCKS: Final[dict[CompanyField, BlockId]] = {
    "country": BlockId.COMPANY_COUNTRY,
    "address": BlockId.COMPANY_ADDRESS,
    "website": BlockId.COMPANY_WEBSITE,
    "contact_person": BlockId.COMPANY_CONTACT_PERSON,
    "contact_number": BlockId.COMPANY_CONTACT_NUMBER,
    "email": BlockId.COMPANY_EMAIL,
}


class CompanyEditMetadata(ModalMetadata):
    """What the modal remembers: the account and the version it was opened at (checked, never trusted)."""

    version: int


def form_from_info(info: CompanyInfo | None) -> CompanyForm:
    """The edit form pre-filled from what is stored (the number as people write it)."""
    if info is None:
        return CompanyForm()
    return CompanyForm(
        country=info.country,
        address=info.address,
        website=info.website,
        contact_person=info.contact_person,
        contact_number=formatted_number(info.contact_number),
        email=info.email,
    )


def form_from_state(state: ViewState) -> CompanyForm:
    """The submitted form; a missing field is None."""
    typed = {
        field: state.text(block_id, Action.COMPANY_COUNTRY if field == "country" else Action.COMPANY_TEXT)
        for field, block_id in FIELD_BLOCKS.items()
    }
    return CompanyForm.model_validate(typed)


def error_response(errors: FieldErrors) -> ViewAck:
    """The view_submission ack that shows each message on its field's block."""
    return field_errors({FIELD_BLOCKS[field]: message for field, message in errors.items()})


def unavailable_response() -> ViewAck:
    """The store is down: say so on the first field, keeping the modal (and what was typed) open."""
    message = "My Plan can't reach its data store right now, so nothing was saved. Please press Save again in a minute."
    return field_errors({FIELD_BLOCKS[COMPANY_FIELDS[0]]: message})
