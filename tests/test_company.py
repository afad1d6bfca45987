"""Company Information end to end: view, edit modal, validation, conflicts, audit, notices."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.demo import DEMO_ACCOUNT, demo_document
from bot.devtools.blockkit import validate_view
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import block_actions_payload, block_suggestion_payload
from handlers.company.form import FIELD_BLOCKS
from handlers.company.ids import Action as CompanyAction
from handlers.company.ids import Block as CompanyBlock
from handlers.company.ids import Callback as CompanyCallback
from handlers.home import HomeTab
from store import Store
from store.domain.company import (
    COMPANY_FIELDS,
    MAX_ADDRESS_LEN,
    MAX_CONTACT_NUMBER_LEN,
    MAX_CONTACT_PERSON_LEN,
    MAX_EMAIL_LEN,
    MAX_WEBSITE_LEN,
    CompanyField,
    CompanyInfo,
)
from store.errors import StoreUnavailable
from tests.support.alerting import set_alerts_channel
from tests.support.blocks import action_ids
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import ADMIN, STAFF, TEAM, SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")

SECOND_ADMIN = "U0SECONDADMIN"
Values = dict[CompanyField, str | None]


# --- driving the modal -----------------------------------------------------------------------------------


def edit_click(user: str = ADMIN, *, response_url: str | None = None) -> dict[str, Any]:
    """The Edit button, on the Home tab (or on a `/plan company` reply when `response_url` is given)."""
    view = None if response_url else {"type": "home", "id": "V0HOME"}
    return block_actions_payload(
        team_id=TEAM,
        user_id=user,
        action_id=CompanyAction.COMPANY_EDIT,
        block_id=CompanyBlock.COMPANY_ACTIONS,
        view=view,
        response_url=response_url,
        trigger_id=f"trigger.{user}",
    )


async def open_editor(slack: SlackDriver, fake_slack: FakeSlack, user: str = ADMIN) -> dict[str, Any]:
    """Click Edit and return the modal Slack was asked to open."""

    def mine(call: RecordedCall) -> bool:
        return bool(call.params["trigger_id"] == f"trigger.{user}")

    earlier = len([call for call in fake_slack.calls_to("views.open") if mine(call)])
    assert (await slack.interact(edit_click(user))).status == 200
    opened = await fake_slack.wait_for("views.open", where=mine, count=earlier + 1)
    view: dict[str, Any] = opened.params["view"]
    return view


def input_blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}


def prefilled(view: dict[str, Any]) -> Values:
    """What the modal shows in each field before the user types anything."""
    blocks = input_blocks(view)
    values: Values = {}
    for field in COMPANY_FIELDS:
        element = blocks[FIELD_BLOCKS[field]]["element"]
        option = element.get("initial_option")
        values[field] = option["value"] if option else element.get("initial_value")
    return values


def state_of(values: Values) -> dict[str, Any]:
    """Slack's `view.state.values` for a form holding `values`."""
    state: dict[str, Any] = {}
    for field, value in values.items():
        if field == "country":
            selected = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
            state[FIELD_BLOCKS[field]] = {
                CompanyAction.COMPANY_COUNTRY: {"type": "external_select", "selected_option": selected}
            }
        else:
            state[FIELD_BLOCKS[field]] = {
                CompanyAction.COMPANY_TEXT: {"type": "plain_text_input", "value": value}
            }
    return state


async def submit(
    slack: SlackDriver, view: dict[str, Any], user: str = ADMIN, /, **typed: str | None
) -> dict[str, Any]:
    """Submit `view` with its pre-filled values changed by `typed`; return the ack's JSON ({} = closed)."""
    assert set(typed) <= set(COMPANY_FIELDS), typed
    values: Values = {field: typed.get(field, shown) for field, shown in prefilled(view).items()}
    response = await slack.submit(view, state_of(values), user=user)
    assert response.status == 200
    body = await response.text()
    answer: dict[str, Any] = json.loads(body) if body else {}
    if answer.get("response_action") == "update":
        assert validate_view(answer["view"], where="ack") == []
    return answer


async def company(store: Store) -> CompanyInfo:
    info = await store.company.get(DEMO_ACCOUNT)
    assert info is not None
    return info


async def audit_entries(store: Store) -> int:
    return len(await store.company.history(DEMO_ACCOUNT, limit=100))


# --- viewing ---------------------------------------------------------------------------------------------

DEMO_DETAILS = [
    "Hong Kong",
    "18/F, 8 Harbour Road, Wan Chai, Hong Kong",
    "https://harbourlights.example",
    "Mei Ling Chan",
    "+852 2345 6789",  # formatted internationally, stored as E.164
    "it-admin@harbourlights.example",
]


async def test_the_home_tab_shows_the_details_and_administrators_get_edit(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.click_tab(HomeTab.COMPANY)
    view = (await fake_slack.wait_for("views.publish")).params["view"]
    text = all_text({"view": view["blocks"]})
    for detail in DEMO_DETAILS:
        assert detail in text
    assert "Last changed" in text
    assert action_ids(view["blocks"])[-2:] == [CompanyAction.COMPANY_EDIT, CompanyAction.COMPANY_HISTORY]


async def test_staff_see_the_details_without_edit(slack: SlackDriver) -> None:
    reply = await slack.run("company", user=STAFF)
    text = all_text(reply)
    for detail in DEMO_DETAILS:
        assert detail in text
    assert CompanyAction.COMPANY_EDIT not in action_ids(reply["blocks"])
    assert "Only administrators can change" in text


async def test_plan_company_gives_administrators_edit(slack: SlackDriver) -> None:
    reply = await slack.run("company")
    assert reply["response_type"] == "ephemeral"
    assert "Mei Ling Chan" in all_text(reply)
    assert CompanyAction.COMPANY_EDIT in action_ids(reply["blocks"])


async def test_the_edit_modal_is_prefilled_with_required_fields_marked(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    view = await open_editor(slack, fake_slack)

    assert view["callback_id"] == CompanyCallback.COMPANY_EDIT
    assert json.loads(view["private_metadata"]) == {
        "account_id": DEMO_ACCOUNT,
        "version": (await company(demo)).version,
    }
    assert prefilled(view) == {
        "country": "HK",
        "address": "18/F, 8 Harbour Road, Wan Chai, Hong Kong",
        "website": "https://harbourlights.example",
        "contact_person": "Mei Ling Chan",
        "contact_number": "+852 2345 6789",
        "email": "it-admin@harbourlights.example",
    }
    blocks = input_blocks(view)
    labels = {field: blocks[FIELD_BLOCKS[field]]["label"]["text"] for field in COMPANY_FIELDS}
    assert labels == {
        "country": "Location *",
        "address": "Address",
        "website": "Company website",
        "contact_person": "Contact person *",
        "contact_number": "Contact number *",
        "email": "Email address *",
    }
    country = blocks[CompanyBlock.COMPANY_COUNTRY]["element"]
    assert country["type"] == "external_select"
    assert country["initial_option"]["text"]["text"] == "Hong Kong"
    max_lengths = {
        field: blocks[FIELD_BLOCKS[field]]["element"].get("max_length") for field in COMPANY_FIELDS
    }
    assert max_lengths == {
        "country": None,
        "address": MAX_ADDRESS_LEN,
        "website": MAX_WEBSITE_LEN,
        "contact_person": MAX_CONTACT_PERSON_LEN,
        "contact_number": MAX_CONTACT_NUMBER_LEN,
        "email": MAX_EMAIL_LEN,
    }


async def test_plan_company_edit_opens_the_modal(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    reply = await slack.command("company edit")
    assert reply.status == 200
    opened = await fake_slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == CompanyCallback.COMPANY_EDIT


async def test_the_country_select_searches_as_you_type(slack: SlackDriver) -> None:
    async def options(query: str) -> list[dict[str, Any]]:
        payload = block_suggestion_payload(
            team_id=TEAM,
            user_id=ADMIN,
            action_id=CompanyAction.COMPANY_COUNTRY,
            block_id=CompanyBlock.COMPANY_COUNTRY,
            value=query,
        )
        response = await slack.interact(payload)
        assert response.status == 200
        found: list[dict[str, Any]] = (await response.json())["options"]
        return found

    hong_kong = await options("hong")
    assert hong_kong[0] == {"text": {"type": "plain_text", "text": "Hong Kong", "emoji": True}, "value": "HK"}
    assert (await options("tw"))[0]["value"] == "TW"
    everything = await options("")
    assert len(everything) == 100  # Slack's limit; typing narrows it
    assert all(len(option["text"]["text"]) <= 75 for option in everything)
    assert await options("no such place") == []


async def test_staff_clicking_edit_on_the_home_tab_are_told_in_a_notice(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.interact(edit_click(STAFF))
    told = await fake_slack.wait_for("views.open")
    assert "Only administrators can edit Company Information" in all_text(told.params)
    assert told.params["view"].get("submit") is None  # an explanation, not the edit form


async def test_staff_cannot_open_the_modal(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    response_url = fake_slack.new_response_url()
    await slack.interact(edit_click(STAFF, response_url=response_url))
    told = await fake_slack.wait_for("response_url", where=lambda c: c.url == response_url)
    assert "Only administrators can edit Company Information" in all_text(told.params)
    assert f"<@{ADMIN}>" in all_text(told.params)
    assert fake_slack.calls_to("views.open") == []


# --- saving ----------------------------------------------------------------------------------------------


async def test_a_valid_edit_is_saved_audited_shown_and_refreshes_the_home(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    before = await company(demo)
    view = await open_editor(slack, fake_slack)

    answer = await submit(
        slack,
        view,
        country="TW",
        contact_person="Ada Lovelace",
        contact_number="02 2345 6789",  # no +: read in the chosen country
        website="ada.example.com",
        email="Ada@Example.COM",
    )

    assert answer == {}  # the modal closes
    saved = await company(demo)
    assert saved.model_dump(exclude={"updated_at"}) == {
        "country": "TW",
        "address": "18/F, 8 Harbour Road, Wan Chai, Hong Kong",
        "website": "https://ada.example.com",
        "contact_person": "Ada Lovelace",
        "contact_number": "+886223456789",
        "email": "Ada@example.com",
        "updated_by": ADMIN,
        "version": before.version + 1,
    }
    home = await fake_slack.wait_for("views.publish", where=lambda c: c.params["user_id"] == ADMIN)
    assert "Ada Lovelace" in all_text(home.params)

    text = all_text(await slack.run("company", user=STAFF))
    assert "Ada Lovelace" in text
    assert "Taiwan" in text
    assert "+886 2 2345 6789" in text
    assert f"by <@{ADMIN}>" in text

    history = all_text(await slack.run("company history"))
    assert "Mei Ling Chan → Ada Lovelace" in history
    assert "Hong Kong → Taiwan" in history
    assert "+852 2345 6789 → +886 2 2345 6789" in history
    assert "Address" not in history  # unchanged fields are not listed
    [revision] = await demo.company.history(DEMO_ACCOUNT)
    assert revision.actor == ADMIN
    assert {change.field for change in revision.changes} == {
        "country",
        "website",
        "contact_person",
        "contact_number",
        "email",
    }


async def test_saving_unchanged_information_records_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    before = await company(demo)
    view = await open_editor(slack, fake_slack)
    assert await submit(slack, view) == {}
    assert await company(demo) == before
    assert await audit_entries(demo) == 0


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("contact_person", "   ", "Contact person is required"),
        ("contact_number", None, "Contact number is required"),
        ("email", "", "Email address is required"),
        ("country", None, "Location is required — choose a country"),
        ("email", "ada@@example", "Enter a valid email address, like name@example.com"),
        ("contact_number", "12", "That doesn't look like a valid phone number for Hong Kong"),
        ("website", "ftp://example.com", "Enter a website starting with http:// or https://"),
        ("website", "not a website", "Enter a website starting with http:// or https://"),
    ],
)
async def test_an_invalid_field_errors_on_its_own_block_and_nothing_is_saved(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    demo: Store,
    field: CompanyField,
    typed: str | None,
    message: str,
) -> None:
    before = await company(demo)
    view = await open_editor(slack, fake_slack)

    # Another field changes too: it must not be saved either.
    answer = await submit(slack, view, **{"address": "1 New Road", field: typed})

    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [FIELD_BLOCKS[field]]
    assert answer["errors"][FIELD_BLOCKS[field]].startswith(message)
    assert await company(demo) == before
    assert await audit_entries(demo) == 0


async def test_every_failing_field_gets_its_own_message(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    before = await company(demo)
    view = await open_editor(slack, fake_slack)
    answer = await submit(
        slack, view, contact_person="", email="nope", contact_number="call me", website="ftp://x.org"
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {
        CompanyBlock.COMPANY_CONTACT_PERSON,
        CompanyBlock.COMPANY_EMAIL,
        CompanyBlock.COMPANY_CONTACT_NUMBER,
        CompanyBlock.COMPANY_WEBSITE,
    }
    assert await company(demo) == before


async def test_unicode_and_maximum_lengths_round_trip(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    local = "l" * 64
    domain = ".".join(["d" * 63, "e" * 63, "f" * (MAX_EMAIL_LEN - 64 - 1 - 2 * 64 - 4)]) + ".com"
    typed = {
        "address": ("香港中環皇后大道中1號 " * 20)[:MAX_ADDRESS_LEN],
        "contact_person": ("José Łukasiewicz 陳大文 " * 10)[:MAX_CONTACT_PERSON_LEN],
        "website": "https://例え.example.com/" + "p" * (MAX_WEBSITE_LEN - len("https://例え.example.com/")),
        "email": f"{local}@{domain}",
        "contact_number": "+852 2345 6789".ljust(MAX_CONTACT_NUMBER_LEN - 1, " ") + " ",
    }
    assert [len(value) for value in typed.values()] == [
        MAX_ADDRESS_LEN,
        MAX_CONTACT_PERSON_LEN,
        MAX_WEBSITE_LEN,
        MAX_EMAIL_LEN,
        MAX_CONTACT_NUMBER_LEN,
    ]
    view = await open_editor(slack, fake_slack)

    assert await submit(slack, view, **typed) == {}

    saved = await company(demo)
    assert saved.address == typed["address"].strip()
    assert saved.contact_person == typed["contact_person"].strip()
    assert saved.website == typed["website"]
    assert saved.email == typed["email"]
    assert saved.contact_number == "+85223456789"
    text = all_text(await slack.run("company"))
    assert saved.contact_person in text
    assert saved.address in text


async def test_user_text_cannot_ping_the_channel(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    view = await open_editor(slack, fake_slack)
    assert await submit(slack, view, address="<!channel> & <https://evil.example|click>") == {}
    text = all_text(await slack.run("company"))
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "<!channel>" not in text


# --- conflicts -------------------------------------------------------------------------------------------


async def test_the_second_of_two_conflicting_edits_is_refused_and_keeps_what_was_typed(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    await demo.admins.add(DEMO_ACCOUNT, SECOND_ADMIN)
    first = await open_editor(slack, fake_slack, ADMIN)
    second = await open_editor(slack, fake_slack, SECOND_ADMIN)

    assert await submit(slack, second, SECOND_ADMIN, contact_person="Grace Hopper") == {}
    answer = await submit(slack, first, ADMIN, contact_person="Ada Lovelace", email="ada@example.com")

    assert answer["response_action"] == "update"
    refused = answer["view"]
    notice = all_text({"view": refused["blocks"]})
    assert "Someone else saved Company Information while you were editing" in notice
    assert f"<@{SECOND_ADMIN}> saved it" in notice
    assert "Grace Hopper (yours: Ada Lovelace)" in notice
    stored = await company(demo)
    assert stored.contact_person == "Grace Hopper"  # nothing was overwritten
    assert stored.email == "it-admin@harbourlights.example"
    assert await audit_entries(demo) == 1
    # Nothing typed is lost: the form comes back with the user's own values.
    assert prefilled(refused)["contact_person"] == "Ada Lovelace"
    assert prefilled(refused)["email"] == "ada@example.com"

    # Saving again, knowingly, replaces it.
    assert await submit(slack, refused, ADMIN) == {}
    stored = await company(demo)
    assert stored.contact_person == "Ada Lovelace"
    assert stored.email == "ada@example.com"
    assert await audit_entries(demo) == 2


async def test_a_change_from_the_billing_platform_also_conflicts(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    view = await open_editor(slack, fake_slack)
    document = demo_document(DEMO_NOW)
    assert document.company is not None
    pushed = document.model_copy(
        update={"company": document.company.model_copy(update={"email": "billing@example.com"})}
    )
    await demo.accounts.upsert(DEMO_ACCOUNT, pushed)

    answer = await submit(slack, view, contact_person="Ada Lovelace")

    assert answer["response_action"] == "update"
    assert (await company(demo)).email == "billing@example.com"


async def test_a_store_outage_at_submit_keeps_the_modal_open(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = await open_editor(slack, fake_slack)

    async def unavailable(*_: Any, **__: Any) -> None:
        raise StoreUnavailable("connection refused")

    monkeypatch.setattr(demo.company, "save", unavailable)
    answer = await submit(slack, view, contact_person="Ada Lovelace")

    assert answer["response_action"] == "errors"
    assert (
        "can't reach its data store right now, so nothing was saved"
        in answer["errors"][CompanyBlock.COMPANY_COUNTRY]
    )


# --- who may save ----------------------------------------------------------------------------------------


async def test_a_forged_submission_from_staff_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    before = await company(demo)
    view = await open_editor(slack, fake_slack, ADMIN)  # metadata exactly as an admin's modal has it

    answer = await submit(slack, view, STAFF, contact_person="Mallory")

    assert answer["response_action"] == "update"
    assert "Only administrators can edit Company Information" in all_text({"view": answer["view"]["blocks"]})
    assert await company(demo) == before
    assert await audit_entries(demo) == 0
    assert fake_slack.calls_to("views.publish") == []


@pytest.mark.parametrize(
    "metadata",
    ['{"account_id": "other", "version": 1}', "not json", ""],
    ids=["another-account", "garbage", "missing"],
)
async def test_a_submission_whose_metadata_is_not_this_workspaces_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store, metadata: str
) -> None:
    other = demo_document(DEMO_NOW).model_copy(update={"company_name": "Other Co"})
    await demo.accounts.upsert("other", other)
    before = {account: await demo.company.get(account) for account in (DEMO_ACCOUNT, "other")}
    view = await open_editor(slack, fake_slack)

    answer = await submit(slack, {**view, "private_metadata": metadata}, contact_person="Mallory")

    assert answer["response_action"] == "update"
    assert "This form has expired" in all_text({"view": answer["view"]["blocks"]})
    assert {account: await demo.company.get(account) for account in before} == before


async def test_staff_cannot_see_the_history(slack: SlackDriver) -> None:
    text = all_text(await slack.run("company history", user=STAFF))
    assert "Only administrators can see the change history" in text


async def test_the_history_button_opens_the_history(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.click_on_home(CompanyAction.COMPANY_HISTORY)
    opened = await fake_slack.wait_for("views.open")
    assert "No changes have been made from Slack yet" in all_text(opened.params)


async def test_unknown_company_subcommands_get_help(slack: SlackDriver) -> None:
    assert "I don't know `/plan company frobnicate`" in all_text(await slack.run("company frobnicate"))


# --- the alerts channel ----------------------------------------------------------------------------------


async def test_a_save_is_announced_in_the_alerts_channel(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0ALERTS")
    fake_slack.users[ADMIN] = {"profile": {"display_name": "mei", "real_name": "Mei Ling Chan"}}
    view = await open_editor(slack, fake_slack)

    await submit(slack, view, contact_person="Ada Lovelace", email="ada@example.com")

    notice = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C0ALERTS")
    assert "Contact person and email address changed by @mei" in all_text(notice.params)


async def test_without_an_alerts_channel_nothing_is_posted(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    view = await open_editor(slack, fake_slack)
    await submit(slack, view, contact_person="No Channel Yet")
    await fake_slack.wait_for("views.publish", where=lambda c: c.params["user_id"] == ADMIN)

    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0ALERTS")
    view = await open_editor(slack, fake_slack)
    await submit(slack, view, contact_person="With Channel")
    await fake_slack.wait_for("chat.postMessage")

    [notice] = fake_slack.calls_to("chat.postMessage")  # only the second save was announced
    assert notice.params["channel"] == "C0ALERTS"
    assert "Contact person changed by" in all_text(notice.params)


async def test_a_notice_that_cannot_be_posted_is_explained_to_the_editor(
    slack: SlackDriver, fake_slack: FakeSlack, demo: Store
) -> None:
    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0ALERTS")
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    view = await open_editor(slack, fake_slack)

    assert await submit(slack, view, contact_person="Ada Lovelace") == {}

    dm = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
    text = all_text(dm.params)
    assert "Company Information was saved, but I couldn't post the notice to <#C0ALERTS>" in text
    assert "not_in_channel" in text
    assert (await company(demo)).contact_person == "Ada Lovelace"
