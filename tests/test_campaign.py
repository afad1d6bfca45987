"""`/rates campaign` end to end: the modal, a submission checked before the ack and priced after it, the
answer where the command was typed, a CSV file fetched from Slack with the bot token, Share, the Rate Table
tab's button, and the bounds, each refused naming its field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.campaign.recipients import MAX_FILE_BYTES, MAX_RECIPIENTS
from bot.devtools.fake_slack import FILE_DOWNLOAD_METHOD, FakeSlack, RecordedCall
from bot.devtools.signing import block_actions_payload
from bot.rates import RateRow
from handlers.campaign.form import CampaignMetadata
from handlers.campaign.ids import Action, Callback
from handlers.campaign.ids import Block as CampaignBlock
from handlers.campaign.views import CampaignSummary
from handlers.home import HomeTab
from handlers.messages import money
from store import Store
from tests.support.apiclient import IngestApi
from tests.support.blocks import buttons
from tests.support.slackdriver import ADMIN, STAFF, TEAM, Reply, SlackDriver, all_text, submission_of

pytestmark = pytest.mark.usefixtures("demo")

GB = RateRow(
    dial_code="44",
    iso_code="GB",
    destination="United Kingdom",
    landline_per_min=Decimal("0.0249"),
    mobile_per_min=Decimal("0.0547"),
    sms_per_message=Decimal("0.0415"),
)
HK = GB.model_copy(
    update={
        "dial_code": "852",
        "iso_code": "HK",
        "destination": "Hong Kong",
        "sms_per_message": Decimal("0.0733"),
    }
)
US = GB.model_copy(
    update={
        "dial_code": "1",
        "iso_code": "US",
        "destination": "United States",
        "sms_per_message": Decimal("0.0299"),
    }
)
TWO_SEGMENTS = "a" * 161  # GSM-7: 153 + 8
PERIOD_START = datetime(2026, 11, 2, tzinfo=UTC)  # the sample account's billing period
PERIOD_END = datetime(2026, 12, 2, tzinfo=UTC)

PASTED = "\n".join(
    [
        "+44 7400 123456",  # 1: GB mobile
        "+44 20 7946 0018",  # 2: GB landline
        "",  # 3
        "447400123457",  # 4: GB mobile, without its +
        "9123 4567",  # 5: HK mobile, national (the account's country)
        "+1 212 555 0123",  # 6: US, mobile or landline
        "+44 7400 123456",  # 7: line 1 again
        "hello",  # 8: invalid
        "+44 12",  # 9: invalid
        "+1 800 555 0123",  # 10: toll-free
        "+44 7911 123456",  # 11: Guernsey, which this table has no rate for
    ]
)
# GB: 3 recipients × 2 segments × 0.0415; HK: 1 × 2 × 0.0733; US: 1 × 2 × 0.0299.
EXPECTED_TOTAL = Decimal("0.2490") + Decimal("0.1466") + Decimal("0.0598")


@pytest.fixture
async def table(store: Store) -> None:
    """In force for the whole billing period (from 1 November), so the period's traffic is priced by it."""
    await store.rates.import_table([GB, HK, US], effective_date=date(2026, 11, 1), label="campaign test")


# -- helpers -----------------------------------------------------------------------------------------------


async def open_by_command(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    text: str = "campaign",
    *,
    command: str = "/rates",
    user: str = ADMIN,
) -> tuple[dict[str, Any], Reply]:
    reply = await slack.command(text, command=command, user=user)
    assert reply.status == 200
    opened = await fake_slack.wait_for("views.open")
    view: dict[str, Any] = opened.params["view"]
    return view, reply


def submission(
    view: dict[str, Any],
    *,
    message: str | None = TWO_SEGMENTS,
    pasted: str | None = None,
    files: list[dict[str, Any]] | None = None,
    user: str = ADMIN,
    private_metadata: str | None = None,
) -> dict[str, Any]:
    state: dict[str, Any] = {
        CampaignBlock.CAMPAIGN_FILE: {Action.CAMPAIGN_FILE: {"type": "file_input", "files": files or []}},
        CampaignBlock.CAMPAIGN_NUMBERS: {Action.CAMPAIGN_NUMBERS: pasted},
        CampaignBlock.CAMPAIGN_MESSAGE: {Action.CAMPAIGN_MESSAGE: message},
    }
    if private_metadata is not None:
        view = view | {"private_metadata": private_metadata}
    return submission_of(view, state, user=user)


async def submit(slack: SlackDriver, payload: dict[str, Any]) -> dict[str, Any]:
    """Send a submission; the ack's JSON body (empty: accepted, the modal closes)."""
    response = await slack.interact(payload)
    assert response.status == 200
    text = await response.text()
    return json.loads(text) if text else {}


async def answer_to(fake_slack: FakeSlack, reply: Reply) -> dict[str, Any]:
    """The answer posted where the command was typed (the command's response_url)."""
    call = await fake_slack.wait_for("response_url", where=lambda c: c.url == reply.response_url)
    return call.params


def dm_to(user: str) -> Any:
    return lambda call: call.params.get("channel") == user


def share_button(message: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in buttons(message) if b["action_id"] == Action.CAMPAIGN_SHARE)


def summary_shared_by(message: dict[str, Any]) -> CampaignSummary:
    summary = CampaignSummary.decode(share_button(message)["value"])
    assert summary is not None
    return summary


# -- the journey -------------------------------------------------------------------------------------------


async def test_rates_campaign_opens_the_modal(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    view, reply = await open_by_command(slack, fake_slack, user=STAFF)  # pricing only reads: anyone may
    assert view["callback_id"] == Callback.CAMPAIGN
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs[CampaignBlock.CAMPAIGN_FILE] == {
        "type": "file_input",
        "action_id": Action.CAMPAIGN_FILE,
        "filetypes": ["csv", "txt"],
        "max_files": 1,
    }
    assert inputs[CampaignBlock.CAMPAIGN_NUMBERS]["multiline"] is True
    assert inputs[CampaignBlock.CAMPAIGN_MESSAGE]["max_length"] == 1600
    assert "account's country (HK)" in all_text({"blocks": view["blocks"]})
    metadata = CampaignMetadata.decode(view["private_metadata"])
    assert metadata == CampaignMetadata(account_id="demo", response_url=reply.response_url)
    assert not fake_slack.calls_to("response_url"), "opening the modal is the whole answer to the command"


async def test_plan_rates_campaign_opens_it_too(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    view, _ = await open_by_command(slack, fake_slack, "rates Campaign", command="/plan")
    assert view["callback_id"] == Callback.CAMPAIGN


@pytest.mark.usefixtures("table")
async def test_pasted_numbers_are_priced_by_destination_and_line_type(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    store: Store,
    http: TestClient,  # type: ignore[type-arg]
) -> None:
    sms = {"hour": "2026-11-20T09:00:00Z", "destination": "+44", "kind": "sms", "messages": 300}
    posted = await IngestApi(http).call("POST", "/accounts/demo/traffic", json_body={"traffic": [sms]})
    assert posted.status == 200, posted.body
    spent = await store.traffic.period_cost("demo", PERIOD_START, PERIOD_END)
    assert spent == Decimal("12.45")  # 300 × 0.0415
    view, reply = await open_by_command(slack, fake_slack, user=STAFF)
    assert await submit(slack, submission(view, pasted=PASTED, user=STAFF)) == {}

    answer = await answer_to(fake_slack, reply)
    assert answer["response_type"] == "ephemeral"
    text = all_text(answer)
    assert f"*SMS campaign: {money(EXPECTED_TOTAL)}* — 5 recipients × 2 segments = 10 messages" in text
    assert "10 lines read · 5 priced · 2 not priced · 2 invalid · 1 duplicate (priced once)" in text
    assert "161 characters, GSM-7 → *2 segments* per recipient (160 fit in one SMS, 153 per segment" in text
    assert "*United Kingdom* · 3 (2 mobile, 1 landline) × 2 × $0.0415 = *USD 0.25*" in text
    assert "*Hong Kong* · 1 mobile × 2 × $0.0733 = *USD 0.15*" in text
    assert "*United States* · 1 mobile or landline × 2 × $0.0299 = *USD 0.06*" in text
    assert text.index("United Kingdom") < text.index("Hong Kong") < text.index("United States")  # by cost
    assert "1 number is a landline, which may not receive SMS" in text
    assert "*Not priced* (2): 1 toll-free, 1 with no rate in the table" in text
    assert "*2 invalid numbers* (not priced): line 8: `hello`, line 9: `+44 12`." in text
    assert f"{money(spent)} of traffic so far" in text
    assert (
        f"This campaign would add {money(EXPECTED_TOTAL)} (+4%), to {money(spent + EXPECTED_TOTAL)}" in text
    )
    assert "rate table version" in text

    summary = summary_shared_by(answer)
    assert summary.total == EXPECTED_TOTAL  # exact, not rounded for display
    assert {line.iso: line.cost(summary.segments) for line in summary.destinations} == {
        "GB": Decimal("0.2490"),
        "HK": Decimal("0.1466"),
        "US": Decimal("0.0598"),
    }
    assert summary.spent == spent


@pytest.mark.usefixtures("table")
async def test_a_csv_file_is_fetched_with_the_bot_token_and_priced(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    content = b"name,phone,city\nMei,+852 9123 4567,HK\nBob,,London\nAl,+44 7400 123456,Leeds\n"
    file = fake_slack.add_file("customers.csv", content, user=ADMIN)
    view, reply = await open_by_command(slack, fake_slack)
    assert await submit(slack, submission(view, files=[file])) == {}

    text = all_text(await answer_to(fake_slack, reply))
    assert f"*SMS campaign: {money(Decimal('0.0733') * 2 + Decimal('0.0415') * 2)}*" in text
    assert "3 lines read · 2 priced · 1 invalid" in text
    assert "line 3: `(empty)`" in text  # Bob's row, counted as the file's third line
    info = await fake_slack.wait_for("files.info")
    assert info.params["file"] == file["id"]
    download = await fake_slack.wait_for(FILE_DOWNLOAD_METHOD)
    assert download.token == "xoxb-test"
    assert download.params["file_id"] == file["id"]


@pytest.mark.usefixtures("table")
async def test_share_posts_the_answer_in_the_channel(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    view, reply = await open_by_command(slack, fake_slack)
    await submit(slack, submission(view, pasted=PASTED))
    answer = await answer_to(fake_slack, reply)

    response_url = fake_slack.new_response_url()
    click = block_actions_payload(
        team_id=TEAM,
        user_id=STAFF,
        action_id=Action.CAMPAIGN_SHARE,
        value=share_button(answer)["value"],
        response_url=response_url,
        container={"type": "message", "message_ts": "1.1", "channel_id": "C0GENERAL", "is_ephemeral": True},
    )
    assert (await slack.interact(click)).status == 200
    shared = (await fake_slack.wait_for("response_url", where=lambda c: c.url == response_url)).params
    assert shared["response_type"] == "in_channel"
    text = all_text(shared)
    assert f"Shared by <@{STAFF}> · `/rates campaign`" in text
    assert f"*SMS campaign: {money(EXPECTED_TOTAL)}*" in text
    assert "line 8: `hello`" in text
    assert not buttons(shared), "the shared copy has no Share button"


async def test_the_rate_table_tab_button_opens_it_and_the_answer_comes_by_dm(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.click_tab(HomeTab.RATES)).status == 200
    tab = (await fake_slack.wait_for("views.publish")).params["view"]
    assert Action.CAMPAIGN_OPEN in [b["action_id"] for b in buttons(tab)]

    assert (await slack.click_on_home(Action.CAMPAIGN_OPEN)).status == 200
    view = (await fake_slack.wait_for("views.open")).params["view"]
    assert CampaignMetadata.decode(view["private_metadata"]) == CampaignMetadata(account_id="demo")
    await submit(slack, submission(view, pasted="+44 7400 123456\n+852 9123 4567", message="Hi 😀"))

    dm = (await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN))).params
    text = all_text(dm)
    assert "2 recipients × 1 segment = 2 messages" in text
    assert "UCS-2 because of `😀`" in text
    assert not buttons(dm), "Share from the DM would only post into the DM"


@pytest.mark.usefixtures("table")
async def test_an_expired_command_answers_by_dm(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    view, _ = await open_by_command(slack, fake_slack)
    gone = CampaignMetadata(account_id="demo", response_url=fake_slack.base_url + "response/404").encode()
    await submit(slack, submission(view, pasted="+44 7400 123456", private_metadata=gone))
    dm = (await fake_slack.wait_for("chat.postMessage", where=dm_to(ADMIN))).params
    assert f"*SMS campaign: {money(Decimal('0.0830'))}*" in all_text(dm)


# -- bounds: checked before the ack, on the field ----------------------------------------------------------


@pytest.mark.parametrize(
    ("filled", "block", "error"),
    [
        ({"pasted": "+44 7400 123456", "message": None}, CampaignBlock.CAMPAIGN_MESSAGE, "Enter the message"),
        (
            {"pasted": "+44 7400 123456", "message": "a" * 1601},
            CampaignBlock.CAMPAIGN_MESSAGE,
            "Keep the message to 1,600 characters (it has 1,601)",
        ),
        ({}, CampaignBlock.CAMPAIGN_FILE, "Upload a CSV file of phone numbers, or paste the numbers below"),
        (
            {"pasted": "phone\n"},
            CampaignBlock.CAMPAIGN_NUMBERS,
            "There are no phone numbers in it, only a header",
        ),
        (
            {"pasted": "+44 7400 123456\n" * 200},
            CampaignBlock.CAMPAIGN_NUMBERS,
            "Paste at most 3,000 characters",
        ),
    ],
)
async def test_the_form_is_checked_before_the_ack(
    slack: SlackDriver, fake_slack: FakeSlack, filled: dict[str, Any], block: str, error: str
) -> None:
    view, _ = await open_by_command(slack, fake_slack)
    ack = await submit(slack, submission(view, **filled))
    assert ack["response_action"] == "errors"
    assert error in ack["errors"][block], ack
    assert not fake_slack.calls_to("response_url")


async def test_a_file_and_pasted_numbers_together_are_refused(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    file = fake_slack.add_file("list.csv", b"+44 7400 123456\n")
    view, _ = await open_by_command(slack, fake_slack)
    ack = await submit(slack, submission(view, pasted="+44 7400 123456", files=[file]))
    assert ack["errors"] == {
        CampaignBlock.CAMPAIGN_NUMBERS: "Upload a file or paste numbers, not both: clear one of them."
    }


@pytest.mark.parametrize(
    ("name", "filetype", "size", "error"),
    [
        ("list.xlsx", "xlsx", 100, "list.xlsx is not a CSV or text file"),
        ("huge.csv", "csv", MAX_FILE_BYTES + 1, "huge.csv is 5.0 MB; the file can be at most 5 MB"),
    ],
)
async def test_a_file_of_the_wrong_type_or_size_is_refused_on_its_field(
    slack: SlackDriver, fake_slack: FakeSlack, name: str, filetype: str, size: int, error: str
) -> None:
    file = {**fake_slack.add_file(name, b"x", filetype=filetype), "size": size}
    view, _ = await open_by_command(slack, fake_slack)
    ack = await submit(slack, submission(view, files=[file]))
    assert error in ack["errors"][CampaignBlock.CAMPAIGN_FILE]
    assert not fake_slack.calls_to(FILE_DOWNLOAD_METHOD)


# -- bounds: found after the ack, told naming the field ----------------------------------------------------


async def told(fake_slack: FakeSlack, user: str = ADMIN) -> str:
    """What the user was told by DM (a problem found after the modal closed)."""
    call: RecordedCall = await fake_slack.wait_for("chat.postMessage", where=dm_to(user))
    return all_text(call.params)


async def test_more_than_100000_recipients_are_refused_naming_the_file(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    file = fake_slack.add_file("big.csv", b"phone\n" + b"+44 7400 123456\n" * (MAX_RECIPIENTS + 1))
    view, reply = await open_by_command(slack, fake_slack)
    assert await submit(slack, submission(view, files=[file])) == {}
    text = await told(fake_slack)
    assert "Recipients file: it has 100,001 recipients; I price at most 100,000 at a time" in text
    assert not [c for c in fake_slack.calls_to("response_url") if c.url == reply.response_url]


async def test_a_file_that_is_not_text_is_refused_naming_the_file(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    file = fake_slack.add_file("numbers.csv", b"PK\x03\x04\x14\x00\x06\x00 a spreadsheet")
    view, _ = await open_by_command(slack, fake_slack)
    await submit(slack, submission(view, files=[file]))
    assert "Recipients file: it is not a CSV or text file" in await told(fake_slack)


async def test_a_file_slack_will_not_serve_is_refused_naming_the_file(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    file = fake_slack.add_file("numbers.csv", b"+44 7400 123456\n")
    fake_slack.fail(FILE_DOWNLOAD_METHOD, status=500)
    view, _ = await open_by_command(slack, fake_slack)
    await submit(slack, submission(view, files=[file]))
    assert "Recipients file: Slack answered 500 when I fetched it" in await told(fake_slack)


async def test_a_sign_in_page_instead_of_the_file_is_refused_naming_the_file(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    file = fake_slack.add_file("numbers.csv", b"<html>Sign in</html>", mimetype="text/html")
    view, _ = await open_by_command(slack, fake_slack)
    await submit(slack, submission(view, files=[file]))
    assert "Recipients file: Slack sent its sign-in page instead of the file" in await told(fake_slack)


async def test_a_file_slack_does_not_know_is_refused_naming_the_file(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    file = {**fake_slack.add_file("numbers.csv", b"+44 7400 123456\n"), "id": "F0GONE"}
    view, _ = await open_by_command(slack, fake_slack)
    await submit(slack, submission(view, files=[file]))
    assert "Recipients file: Slack would not let me open it (file_not_found)" in await told(fake_slack)


async def test_a_form_for_another_account_is_refused(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    view, _ = await open_by_command(slack, fake_slack)
    forged = CampaignMetadata(account_id="other").encode()
    ack = await submit(slack, submission(view, pasted="+44 7400 123456", private_metadata=forged))
    assert ack["response_action"] == "update"
    assert "This form has expired" in all_text(ack["view"])
