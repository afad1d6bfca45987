"""Company Information: the details (Home tab and `/plan company`), the edit modal, history and notices."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.company import CompanyForm, country_name, display_value, search_country_options
from bot.company.validation import formatted_number
from handlers.company.form import FIELD_BLOCKS, CompanyEditMetadata
from handlers.company.ids import Action, Callback
from handlers.company.ids import Block as BlockId
from handlers.messages import Message, escape, slack_datetime, truncate
from store.domain.company import (
    COMPANY_FIELDS,
    FIELD_LABELS,
    MAX_LENGTHS,
    REQUIRED_FIELDS,
    CompanyChange,
    CompanyDetails,
    CompanyField,
    CompanyInfo,
    CompanyRevision,
    diff_company,
)

TITLE: Final = "Company Information"
MAX_OPTIONS: Final = 100  # Slack's limit for an external select's options
MAX_OPTION_TEXT: Final = 75
SLACK_USER_ID: Final = re.compile(r"[UW][A-Z0-9]{2,}")
MAX_SHOWN_VALUE: Final = 120  # per value in history and conflict lists, so a section stays under 3000

_HINTS: Final[dict[CompanyField, str]] = {
    "country": "Type to search. Numbers without a country code are read as numbers in this country.",
    "website": "For example example.com — https:// is added when you leave it out.",
    "contact_number": "Include the country code, e.g. +852 2345 6789.",
}
_PLACEHOLDERS: Final[dict[CompanyField, str]] = {
    "country": "Choose a country",
    "address": "Street, building, city",
    "website": "https://example.com",
    "contact_person": "Full name",
    "contact_number": "+852 2345 6789",
    "email": "name@example.com",
}


def _shown(field: CompanyField, value: str | None, limit: int | None = None) -> str:
    shown = display_value(field, value)
    return escape(truncate(shown, limit) if limit else shown)


# --- the details ---------------------------------------------------------------------------------------


def _location(info: CompanyInfo) -> str:
    lines = [_shown("country", info.country)]
    if info.address:
        lines.append(escape(info.address))
    return "\n".join(lines)


def _facts(info: CompanyInfo) -> list[str]:
    return [
        f"*{FIELD_LABELS['country']}*\n{_location(info)}",
        f"*{FIELD_LABELS['website']}*\n{_shown('website', info.website)}",
        f"*{FIELD_LABELS['contact_person']}*\n{_shown('contact_person', info.contact_person)}",
        f"*{FIELD_LABELS['contact_number']}*\n{_shown('contact_number', info.contact_number)}",
        f"*{FIELD_LABELS['email']}*\n{_shown('email', info.email)}",
    ]


def last_changed(info: CompanyInfo) -> str:
    """'Last changed … by @someone' (a change from the billing platform has no Slack user)."""
    if info.updated_at is None:
        return "Not changed since the account was set up."
    who = f" by {_who(info.updated_by)}" if info.updated_by else " from the service account's records"
    return f"Last changed {slack_datetime(info.updated_at)}{who}."


def company_blocks(info: CompanyInfo | None, *, can_edit: bool) -> list[Block]:
    """The Company Information page: the details, when and by whom they last changed, and (for
    administrators) Edit and Change history."""
    blocks: list[Block] = [HeaderBlock(text=TITLE)]
    if info is None:
        blocks.append(
            SectionBlock(
                block_id=BlockId.COMPANY_DETAILS,
                text=MarkdownTextObject(text="No company information has been given yet."),
            )
        )
    else:
        blocks += [
            SectionBlock(
                block_id=BlockId.COMPANY_DETAILS, fields=[MarkdownTextObject(text=f) for f in _facts(info)]
            ),
            ContextBlock(
                block_id=BlockId.COMPANY_UPDATED, elements=[MarkdownTextObject(text=last_changed(info))]
            ),
        ]
    if can_edit:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.COMPANY_ACTIONS,
                elements=[
                    ButtonElement(text="Edit", action_id=Action.COMPANY_EDIT, style="primary"),
                    ButtonElement(text="Change history", action_id=Action.COMPANY_HISTORY),
                ],
            )
        )
    else:
        note = "Only administrators can change this information."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return blocks


def company_text(info: CompanyInfo | None) -> str:
    """Fallback text for notifications and screen readers."""
    if info is None:
        return "Company Information: none given yet."
    parts = [
        display_value("country", info.country),
        info.contact_person,
        formatted_number(info.contact_number),
        info.email,
    ]
    return "Company Information: " + " · ".join(parts)


def company_message(info: CompanyInfo | None, *, can_edit: bool) -> Message:
    return Message(text=company_text(info), blocks=company_blocks(info, can_edit=can_edit))


# --- history -------------------------------------------------------------------------------------------


def _change_line(change: CompanyChange) -> str:
    before = _shown(change.field, change.before, MAX_SHOWN_VALUE)
    after = _shown(change.field, change.after, MAX_SHOWN_VALUE)
    return f"• *{FIELD_LABELS[change.field]}*: {before} → {after}"


def _who(actor: str) -> str:
    """A Slack user as a mention; any other actor (an import, the billing platform) as plain text."""
    return f"<@{actor}>" if SLACK_USER_ID.fullmatch(actor) else escape(actor)


def history_blocks(revisions: Sequence[CompanyRevision]) -> list[Block]:
    if not revisions:
        return [
            SectionBlock(text=MarkdownTextObject(text="No changes have been made from Slack yet.")),
        ]
    blocks: list[Block] = []
    for revision in revisions:
        lines = [f"*{slack_datetime(revision.at)}* · {_who(revision.actor)}"]
        lines += [_change_line(change) for change in revision.changes]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 3000))))
    return blocks


def history_message(revisions: Sequence[CompanyRevision]) -> Message:
    note = f"The last {len(revisions)} change(s), newest first." if revisions else "Every change is recorded."
    blocks = [
        HeaderBlock(text="Company Information · changes"),
        *history_blocks(revisions),
        ContextBlock(elements=[MarkdownTextObject(text=note)]),
    ]
    return Message(text=f"Company Information: {len(revisions)} recent change(s)", blocks=blocks)


def history_modal(revisions: Sequence[CompanyRevision]) -> View:
    return View(type="modal", title="Change history", close="Close", blocks=history_message(revisions).blocks)


# --- the edit modal ------------------------------------------------------------------------------------


def country_option(code: str) -> Option:
    return Option(value=code, text=truncate(country_name(code), MAX_OPTION_TEXT))


def country_options_for(query: str) -> list[Option]:
    """The external select's options for what the user has typed so far."""
    return [
        Option(value=code, text=truncate(name, MAX_OPTION_TEXT))
        for code, name in search_country_options(query, limit=MAX_OPTIONS)
    ]


def _label(field: CompanyField) -> str:
    return f"{FIELD_LABELS[field]} *" if field in REQUIRED_FIELDS else FIELD_LABELS[field]


def _country_element(code: str | None) -> ExternalDataSelectElement:
    known = code if code and country_name(code) != code else None
    return ExternalDataSelectElement(
        action_id=Action.COMPANY_COUNTRY,
        placeholder=_PLACEHOLDERS["country"],
        initial_option=country_option(known) if known else None,
        min_query_length=0,
    )


def _text_element(field: CompanyField, value: str | None) -> PlainTextInputElement:
    return PlainTextInputElement(
        action_id=Action.COMPANY_TEXT,
        placeholder=_PLACEHOLDERS[field],
        initial_value=value or None,
        max_length=MAX_LENGTHS[field],
        multiline=field == "address",
    )


def _input(field: CompanyField, form: CompanyForm) -> InputBlock:
    value: str | None = getattr(form, field)
    element = _country_element(value) if field == "country" else _text_element(field, value)
    return InputBlock(
        block_id=FIELD_BLOCKS[field],
        label=_label(field),
        element=element,
        hint=_HINTS.get(field),
        optional=field not in REQUIRED_FIELDS,
    )


def edit_modal(form: CompanyForm, metadata: CompanyEditMetadata, *, notice: Block | None = None) -> View:
    """The edit form with `form`'s values; `notice` (e.g. a conflict) goes above the fields."""
    required = ContextBlock(
        block_id=BlockId.COMPANY_REQUIRED_NOTE,
        elements=[MarkdownTextObject(text="Fields marked * are required.")],
    )
    blocks: list[Block] = [*([notice] if notice else []), required]
    blocks += [_input(field, form) for field in COMPANY_FIELDS]
    return View(
        type="modal",
        callback_id=Callback.COMPANY_EDIT,
        title=TITLE,
        submit="Save",
        close="Cancel",
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


def conflict_notice(current: CompanyInfo | None, yours: CompanyDetails) -> SectionBlock:
    """Why the save was refused, and where what is saved now differs from what the user typed."""
    lines = [":warning: *Someone else saved Company Information while you were editing.*"]
    if current is not None and current.updated_at is not None:
        who = _who(current.updated_by) if current.updated_by else "The billing platform"
        lines.append(f"{who} saved it {slack_datetime(current.updated_at)}.")
    lines.append("Nothing of yours has been saved yet; what you typed is still below.")
    differences = diff_company(current, yours)
    if differences:
        lines.append("Saved now, where it differs from yours:")
        lines += [
            f"• *{FIELD_LABELS[change.field]}*: {_shown(change.field, change.before, MAX_SHOWN_VALUE)}"
            f" (yours: {_shown(change.field, change.after, MAX_SHOWN_VALUE)})"
            for change in differences
        ]
    lines.append("Press *Save* to replace it with yours, or *Cancel* to keep theirs.")
    return SectionBlock(
        block_id=BlockId.COMPANY_CONFLICT, text=MarkdownTextObject(text=truncate("\n".join(lines), 3000))
    )


def conflict_modal(
    typed: CompanyForm, current: CompanyInfo | None, yours: CompanyDetails, metadata: CompanyEditMetadata
) -> View:
    """The form again, with the user's own values, now based on the current version."""
    return edit_modal(typed, metadata, notice=conflict_notice(current, yours))


# --- the notice in the alerts channel ------------------------------------------------------------------


def _fields_phrase(changes: Sequence[CompanyChange]) -> str:
    """Labels as a phrase: "Contact person and email address", "Location, address and email address"."""
    labels = [FIELD_LABELS[change.field] for change in changes]
    labels = labels[:1] + [label[0].lower() + label[1:] for label in labels[1:]]
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def change_notice(changes: Sequence[CompanyChange], editor: str) -> Message:
    """'Contact person changed by @name', for the account's alerts channel. `editor` is mrkdwn."""
    summary = f"{_fields_phrase(changes)} changed by {editor}"
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=f":memo: *Company Information*: {summary}.")),
        ContextBlock(elements=[MarkdownTextObject(text="See `/plan company` for the details.")]),
    ]
    return Message(text=f"Company Information: {summary}", blocks=blocks, response_type="in_channel")
