"""Company Information view builders (pure): valid Block Kit within Slack's limits, escaping, parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.company import CompanyForm
from bot.devtools.blockkit import validate_blocks, validate_message, validate_view
from handlers.company.form import FIELD_BLOCKS, CompanyEditMetadata, form_from_info, form_from_state
from handlers.company.ids import Action as CompanyAction
from handlers.company.ids import Block as CompanyBlock
from handlers.company.views import (
    change_notice,
    company_blocks,
    company_message,
    conflict_modal,
    country_options_for,
    edit_modal,
    history_message,
    history_modal,
)
from handlers.payloads import ViewState
from store.domain.company import (
    COMPANY_FIELDS,
    MAX_LENGTHS,
    CompanyChange,
    CompanyField,
    CompanyInfo,
    CompanyRevision,
)

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
INFO = CompanyInfo(
    country="HK",
    address="18/F, 8 Harbour Road",
    website="https://example.com",
    contact_person="Mei Ling Chan",
    contact_number="+85223456789",
    email="mei@example.com",
    updated_at=AT,
    updated_by="U0ADMIN",
    version=3,
)
METADATA = CompanyEditMetadata(account_id="demo", version=3)


def at_limit(field: CompanyField) -> str:
    return "<" * MAX_LENGTHS[field]  # escaping makes it longer still: the worst case


LONGEST = CompanyInfo(
    country="GS",  # South Georgia and the South Sandwich Islands
    address=at_limit("address"),
    website=at_limit("website"),
    contact_person=at_limit("contact_person"),
    contact_number=at_limit("contact_number"),
    email=at_limit("email"),
    updated_at=AT,
    updated_by="U0ADMIN",
    version=1,
)


def message_problems(blocks: list[Any], text: str = "fallback") -> list[str]:
    return validate_message({"text": text, "blocks": [b.to_dict() for b in blocks]}, where="test")


@pytest.mark.parametrize("info", [INFO, LONGEST, None], ids=["demo", "longest", "none"])
@pytest.mark.parametrize("can_edit", [True, False])
def test_the_details_are_valid_block_kit(info: CompanyInfo | None, can_edit: bool) -> None:
    message = company_message(info, can_edit=can_edit)
    assert validate_message({"text": message.text, **message.as_kwargs()}, where="test") == []
    actions = [
        b for b in company_blocks(info, can_edit=can_edit) if b.block_id == CompanyBlock.COMPANY_ACTIONS
    ]
    assert bool(actions) == can_edit


def test_the_details_show_names_and_formatted_numbers() -> None:
    [section] = [
        b.to_dict()
        for b in company_blocks(INFO, can_edit=False)
        if b.block_id == CompanyBlock.COMPANY_DETAILS
    ]
    text = "\n".join(field["text"] for field in section["fields"])
    assert "Hong Kong\n18/F, 8 Harbour Road" in text
    assert "+852 2345 6789" in text
    updated = [
        b.to_dict()
        for b in company_blocks(INFO, can_edit=False)
        if b.block_id == CompanyBlock.COMPANY_UPDATED
    ]
    assert "by <@U0ADMIN>" in str(updated)


def test_a_change_from_outside_slack_is_not_a_mention() -> None:
    info = INFO.model_copy(update={"updated_by": "billing platform"})
    assert "<@" not in str([b.to_dict() for b in company_blocks(info, can_edit=False)])


@pytest.mark.parametrize("form", [form_from_info(INFO), form_from_info(LONGEST), CompanyForm()])
def test_the_edit_modal_is_valid_and_prefilled(form: CompanyForm) -> None:
    view = edit_modal(form, METADATA).to_dict()
    assert validate_view(view, where="test") == []
    assert CompanyEditMetadata.decode(view["private_metadata"]) == METADATA


def test_the_form_reads_back_what_the_modal_shows() -> None:
    view = edit_modal(form_from_info(INFO), METADATA).to_dict()
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        if element["type"] == "external_select":
            state[block["block_id"]] = {
                element["action_id"]: {
                    "type": "external_select",
                    "selected_option": element["initial_option"],
                }
            }
        else:
            state[block["block_id"]] = {
                element["action_id"]: {"type": "plain_text_input", "value": element.get("initial_value")}
            }
    assert form_from_state(ViewState(state)) == form_from_info(INFO)


def test_missing_or_empty_inputs_read_as_none() -> None:
    state: dict[str, dict[str, Any]] = {
        CompanyBlock.COMPANY_COUNTRY: {
            CompanyAction.COMPANY_COUNTRY: {"type": "external_select", "selected_option": None}
        },
        CompanyBlock.COMPANY_EMAIL: {CompanyAction.COMPANY_TEXT: {"type": "plain_text_input", "value": None}},
        "someone.elses.block": {"x": {"type": "plain_text_input", "value": "ignored"}},
    }
    assert form_from_state(ViewState(state)) == CompanyForm()


@pytest.mark.parametrize(
    "raw", [None, "", "{}", '{"account_id": "demo"}', '{"account_id": "demo", "version": 1, "x": 1}']
)
def test_metadata_that_is_not_ours_decodes_as_none(raw: str | None) -> None:
    assert CompanyEditMetadata.decode(raw) is None


def test_the_conflict_modal_shows_the_differences_and_keeps_the_form() -> None:
    typed = CompanyForm(**{**form_from_info(INFO).model_dump(), "contact_person": "Ada"})
    yours = INFO.model_copy(update={"contact_person": "Ada"})
    current = INFO.model_copy(
        update={"contact_person": "Grace <!here>", "updated_by": "U0OTHER", "version": 4}
    )
    view = conflict_modal(typed, current, yours, METADATA.model_copy(update={"version": 4})).to_dict()
    assert validate_view(view, where="test") == []
    notice = view["blocks"][0]
    assert notice["block_id"] == CompanyBlock.COMPANY_CONFLICT
    assert "<@U0OTHER> saved it" in notice["text"]["text"]
    assert "*Contact person*: Grace &lt;!here&gt; (yours: Ada)" in notice["text"]["text"]
    assert '"version":4' in view["private_metadata"]


def test_the_conflict_notice_fits_with_every_field_at_its_longest() -> None:
    view = conflict_modal(form_from_info(LONGEST), INFO, LONGEST, METADATA).to_dict()
    assert validate_view(view, where="test") == []


def test_history_is_valid_with_the_longest_values() -> None:
    changes = tuple(
        CompanyChange(field=field, before=getattr(LONGEST, field), after=getattr(INFO, field))
        for field in COMPANY_FIELDS
    )
    revisions = [CompanyRevision(actor="U0ADMIN", at=AT, changes=changes)] * 10
    message = history_message(revisions)
    assert validate_message({"text": message.text, **message.as_kwargs()}, where="test") == []
    assert validate_view(history_modal(revisions).to_dict(), where="test") == []
    assert validate_view(history_modal([]).to_dict(), where="test") == []


@pytest.mark.parametrize(
    ("fields", "phrase"),
    [
        (["contact_person"], "Contact person changed by @mei"),
        (["contact_person", "email"], "Contact person and email address changed by @mei"),
        (["country", "address", "email"], "Location, address and email address changed by @mei"),
    ],
)
def test_the_channel_notice_names_what_changed(fields: list[CompanyField], phrase: str) -> None:
    changes = [CompanyChange(field=field, before="a", after="b") for field in fields]
    notice = change_notice(changes, "@mei")
    assert phrase in notice.text
    assert validate_blocks([b.to_dict() for b in notice.blocks], where="test", max_blocks=50) == []


def test_country_options_fit_slacks_limits() -> None:
    options = [option.to_dict() for option in country_options_for("")]
    assert len(options) == 100
    assert all(len(option["text"]["text"]) <= 75 for option in options)
    assert country_options_for("south georgia")[0].value == "GS"


def test_every_field_has_an_input_block() -> None:
    assert set(FIELD_BLOCKS) == set(COMPANY_FIELDS)
    assert len(set(FIELD_BLOCKS.values())) == len(COMPANY_FIELDS)
