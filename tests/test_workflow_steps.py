"""Workflow Builder steps end to end: a signed `function_executed` event in, the step completed
(functions.completeSuccess with its outputs) or failed (functions.completeError with the message) at the
fake Slack, with the short-lived token Slack gave the step."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import function_executed_event
from handlers.workflow.ids import Callback
from store import Store
from store.domain.upgrades import Delivery, UpgradeKind, UpgradeStatus
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import ADMIN, STAFF, TEAM, SlackDriver, all_text
from tests.support.upgrade import upgrade_state

MANIFEST: dict[str, Any] = json.loads((Path(__file__).parents[1] / "manifest.json").read_text())
STEP_TOKEN = "xwfp-test-function-token"
SALES = "C0SALES"
SECOND_ADMIN = "U0SECONDADMIN"


def requester(user: str) -> dict[str, str]:
    """A `slack#/types/user_context` input as Slack fills it: who ran the workflow."""
    return {"id": user, "secret": "c2VjcmV0LWZyb20tc2xhY2s="}


@dataclass(frozen=True)
class Run:
    """A step run: which step, and its function execution id."""

    step: Callback
    execution: str

    def of(self, call: RecordedCall) -> bool:
        return call.params.get("function_execution_id") == self.execution


async def run_step(slack: SlackDriver, step: Callback, inputs: dict[str, Any], *, team: str = TEAM) -> Run:
    """Send the step's `function_executed` event, which is acked at once."""
    event = function_executed_event(step, inputs, definition=MANIFEST["functions"][step])
    response = await slack.event(event, team=team)
    assert response.status == 200
    return Run(step, str(event["function_execution_id"]))


async def completed(fake_slack: FakeSlack, run: Run) -> dict[str, Any]:
    """The outputs the step completed with (its declared ones, every required one there); it did not
    fail too."""
    call = await fake_slack.wait_for("functions.completeSuccess", where=run.of)
    assert call.ok
    assert call.token == STEP_TOKEN
    assert not [c for c in fake_slack.calls_to("functions.completeError") if run.of(c)]
    outputs: dict[str, Any] = call.params["outputs"]
    declared = MANIFEST["functions"][run.step]["output_parameters"]
    assert outputs.keys() <= declared.keys()
    assert {name for name, spec in declared.items() if spec["is_required"]} <= outputs.keys()
    return outputs


async def failed(fake_slack: FakeSlack, run: Run) -> str:
    """The error the step failed with; it did not complete too."""
    call = await fake_slack.wait_for("functions.completeError", where=run.of)
    assert call.ok
    assert call.token == STEP_TOKEN
    assert not [c for c in fake_slack.calls_to("functions.completeSuccess") if run.of(c)]
    return str(call.params["error"])


# ------------------------------------------------------------------------------------------ plan usage


@pytest.mark.usefixtures("demo")
async def test_get_plan_usage_gives_the_plan_and_each_allowance_with_its_run_out_date(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    outputs = await completed(fake_slack, await run_step(slack, Callback.PLAN_USAGE, {}))
    assert outputs == {
        "plan_name": "BUSINESS",
        "next_payment_date": "2026-12-02",
        "data_as_of": 1795165200,  # 2026-11-20 09:00 UTC, the sample's "as of"
        "voice_minutes_used": 3960,
        "voice_minutes_available": 5000,
        "voice_minutes_percent": 79,
        "voice_minutes_run_out_date": "2026-11-25",
        "video_minutes_used": 640,
        "video_minutes_available": 2000,
        "video_minutes_percent": 32,
        "video_minutes_run_out_date": "",
        "storage_gb_used": 37.5,
        "storage_gb_available": 100,
        "storage_gb_percent": 38,
        "storage_gb_run_out_date": "",
    }


@pytest.mark.usefixtures("demo")
async def test_get_plan_usage_agrees_with_plan_usage(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    """The run-out date is the one `/plan usage` tells (the same burn-down and forecast)."""
    outputs = await completed(fake_slack, await run_step(slack, Callback.PLAN_USAGE, {}))
    told = all_text(await slack.run("usage"))
    forecast = next(line for line in told.splitlines() if "voice call minutes run out on" in line)
    shown = re.search(r"run out on <!date\^\d+\^[^|]*\|([^>]*)>", forecast)
    assert shown is not None
    assert shown.group(1) == outputs["voice_minutes_run_out_date"]


async def test_get_plan_usage_fails_in_a_workspace_not_linked(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    error = await failed(fake_slack, await run_step(slack, Callback.PLAN_USAGE, {}, team="T0NOTLINKED"))
    assert "isn't linked to a My Plan service account" in error
    assert "/plan link CODE" in error


# ------------------------------------------------------------------------------------------ rate lookup


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (
            "Japan",
            {
                "destination": "Japan",
                "iso_code": "JP",
                "dial_code": "+81",
                "landline_per_min": "0.0180",
                "mobile_per_min": "0.0450",
                "sms_per_message": "0.0520",
                "line_type": "",
                "number": "",
            },
        ),
        (
            "+44 7400 123456",
            {
                "destination": "United Kingdom",
                "iso_code": "GB",
                "dial_code": "+44",
                "landline_per_min": "0.0249",
                "mobile_per_min": "0.0547",
                "sms_per_message": "0.0414",
                "line_type": "mobile",
                "number": "+447400123456",
            },
        ),
        ("hongkong", {"destination": "Hong Kong", "iso_code": "HK", "landline_per_min": "0.0128"}),
    ],
)
async def test_look_up_a_rate_gives_the_exact_rates(
    slack: SlackDriver, fake_slack: FakeSlack, destination: str, expected: dict[str, str]
) -> None:
    outputs = await completed(
        fake_slack, await run_step(slack, Callback.RATE_LOOKUP, {"destination": destination})
    )
    assert outputs == {**outputs, **expected}
    assert set(outputs) == set(MANIFEST["functions"][Callback.RATE_LOOKUP]["output_parameters"])


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("destination", "said"),
    [
        ("xqzzy", "No rate for “xqzzy”. Try a country or region name"),
        ("united", "“united” could be more than one destination: United Arab Emirates, United Kingdom"),
        ("+800 1234 5678", "+800 1234 5678 is an international non-geographic number"),
        ("   ", "Enter a destination (a country or region name, ISO code or dial code) or a phone number."),
        ("<!channel>", "I am not sure what “&lt;!channel&gt;” is. Did you mean Chad?"),
    ],
)
async def test_look_up_a_rate_fails_without_exactly_one_destination(
    slack: SlackDriver, fake_slack: FakeSlack, destination: str, said: str
) -> None:
    error = await failed(
        fake_slack, await run_step(slack, Callback.RATE_LOOKUP, {"destination": destination})
    )
    assert said in error
    assert "<!" not in error  # what was asked cannot mention anyone


async def test_look_up_a_rate_fails_without_a_rate_table(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    await store.accounts.upsert("bare", demo_document(DEMO_NOW))
    await store.workspaces.link(TEAM, "bare")
    error = await failed(fake_slack, await run_step(slack, Callback.RATE_LOOKUP, {"destination": "Japan"}))
    assert (
        error
        == "No rate table has been loaded yet. The operator can load one with `myplan import-rates FILE.csv`."
    )


# ------------------------------------------------------------------------------------------ cost estimate


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        # A destination: either line may be called, so the dearer rate (mobile) is used.
        (
            {"destination": "Japan", "kind": "call", "quantity": 12},
            {"destination": "Japan", "cost": "0.5400", "rate": "0.0450", "rate_kind": "mobile", "units": 12},
        ),
        # The line said.
        (
            {"destination": "Japan", "kind": "call", "quantity": 10, "line": "landline"},
            {
                "destination": "Japan",
                "cost": "0.1800",
                "rate": "0.0180",
                "rate_kind": "landline",
                "units": 10,
            },
        ),
        # A landline number, 90 seconds: two started minutes at the landline rate.
        (
            {"destination": "+44 20 7946 0018", "kind": "call", "quantity": 1.5},
            {
                "destination": "United Kingdom",
                "cost": "0.0498",
                "rate": "0.0249",
                "rate_kind": "landline",
                "units": 2,
            },
        ),
        (
            {"destination": "HK", "kind": "sms", "quantity": 300},
            {
                "destination": "Hong Kong",
                "cost": "21.5400",
                "rate": "0.0718",
                "rate_kind": "sms",
                "units": 300,
            },
        ),
        # Text where a number is expected is read too, and the kind in any case.
        (
            {"destination": "Japan", "kind": "SMS", "quantity": "2"},
            {"destination": "Japan", "cost": "0.1040", "rate": "0.0520", "rate_kind": "sms", "units": 2},
        ),
    ],
)
async def test_estimate_a_cost_gives_the_exact_cost_and_the_rate_used(
    slack: SlackDriver, fake_slack: FakeSlack, inputs: dict[str, Any], expected: dict[str, Any]
) -> None:
    outputs = await completed(fake_slack, await run_step(slack, Callback.COST_ESTIMATE, inputs))
    assert outputs == expected


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        (
            {"destination": "Japan", "kind": "call", "quantity": 0},
            "the call's length in minutes: a number greater than 0",
        ),
        ({"destination": "Japan", "kind": "call", "quantity": -5}, "the call's length in minutes"),
        (
            {"destination": "Japan", "kind": "sms", "quantity": 2.5},
            "how many SMS messages: a whole number from 1 to 9,999,999",
        ),
        (
            {"destination": "Japan", "kind": "sms", "quantity": 10_000_000},
            "a whole number from 1 to 9,999,999",
        ),
        (
            {"destination": "Japan", "kind": "call", "quantity": "ten"},
            "Enter how many minutes (for a call) or messages",
        ),
        ({"destination": "Japan", "kind": "call"}, "Enter how many minutes (for a call) or messages"),
        ({"destination": "Japan", "kind": "fax", "quantity": 1}, "Choose what to price: `call` or `sms`."),
        (
            {"destination": "Japan", "kind": "call", "quantity": 1, "line": "satellite"},
            "`landline` or `mobile`",
        ),
        ({"destination": "xqzzy", "kind": "call", "quantity": 1}, "No rate for “xqzzy”."),
    ],
)
async def test_estimate_a_cost_fails_on_what_it_cannot_price(
    slack: SlackDriver, fake_slack: FakeSlack, inputs: dict[str, Any], said: str
) -> None:
    error = await failed(fake_slack, await run_step(slack, Callback.COST_ESTIMATE, inputs))
    assert said in error


# ------------------------------------------------------------------------------------------ upgrade request


def to_sales(call: RecordedCall) -> bool:
    return call.params.get("channel") == SALES


def without_moments(post: dict[str, Any], *names: str) -> str:
    """A Sales post as text, with its dates and the given ids (reference, requester) masked."""
    text = json.dumps({"text": post["text"], "blocks": post["blocks"]}, sort_keys=True)
    text = re.sub(r"<!date\^\d+\^[^>]*>", "<date>", text)
    for name in names:
        text = text.replace(name, "<masked>")
    return text


@pytest.mark.usefixtures("demo")
async def test_request_an_upgrade_reaches_sales_as_the_modals_request_does(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    await store.admins.add("demo", SECOND_ADMIN)
    # The modal's request, by one administrator…
    await slack.command("upgrade", user=ADMIN)
    view: dict[str, Any] = (await fake_slack.wait_for("views.open")).params["view"]
    state = upgrade_state(kind="voice_minutes", quantity="2000", note="Busy season")
    assert (await slack.submit(view, state)).status == 200
    modal_post = (await fake_slack.wait_for("chat.postMessage", where=to_sales)).params

    # …and the step's, by another, with the same inputs.
    inputs = {
        "requested_by": requester(SECOND_ADMIN),
        "kind": "voice_minutes",
        "quantity": 2000,
        "note": "Busy season",
    }
    outputs = await completed(fake_slack, await run_step(slack, Callback.UPGRADE_REQUEST, inputs))
    step_post = (await fake_slack.wait_for("chat.postMessage", where=to_sales, count=2)).params

    by_modal, by_step = sorted(await store.upgrades.recent("demo"), key=lambda r: r.requested_by != ADMIN)
    assert outputs == {"request_id": by_step.id, "status": "requested", "delivery": "delivered"}
    assert (by_step.requested_by, by_step.team_id, by_step.kind, by_step.quantity, by_step.note) == (
        SECOND_ADMIN,
        TEAM,
        UpgradeKind.VOICE_MINUTES,
        2000,
        "Busy season",
    )
    assert (by_step.status, by_step.delivery, by_step.sales_channel) == (
        UpgradeStatus.REQUESTED,
        Delivery.DELIVERED,
        SALES,
    )
    assert by_step.evidence == by_modal.evidence
    assert "More voice call minutes: 2,000 minutes" in all_text(step_post)
    assert without_moments(step_post, by_step.id, SECOND_ADMIN) == without_moments(
        modal_post, by_modal.id, ADMIN
    )
    # The requester hears where it went, as after the modal.
    told = await fake_slack.wait_for(
        "chat.postMessage", where=lambda c: c.params.get("channel") == SECOND_ADMIN
    )
    assert "is with the Sales team" in all_text(told.params)


@pytest.mark.usefixtures("demo")
async def test_request_an_upgrade_twice_in_a_minute_goes_to_sales_once(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    inputs = {"requested_by": requester(ADMIN), "kind": "plan", "note": "Enterprise, please"}
    first = await completed(fake_slack, await run_step(slack, Callback.UPGRADE_REQUEST, inputs))
    again = await completed(fake_slack, await run_step(slack, Callback.UPGRADE_REQUEST, inputs))
    assert again == first
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)]) == 1
    assert [r.id for r in await store.upgrades.recent("demo")] == [first["request_id"]]


@pytest.mark.usefixtures("demo")
async def test_request_an_upgrade_is_refused_to_a_staff_member(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    inputs = {"requested_by": requester(STAFF), "kind": "voice_minutes", "quantity": 2000}
    error = await failed(fake_slack, await run_step(slack, Callback.UPGRADE_REQUEST, inputs))
    assert error == f"Only administrators can request upgrades and add-ons. Ask <@{ADMIN}>."
    assert await store.upgrades.recent("demo") == []
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)]


@pytest.mark.usefixtures("demo")
async def test_request_an_upgrade_is_refused_to_someone_from_another_workspace(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    fake_slack.users["U0GUEST"] = {"team_id": "T0ELSEWHERE", "is_admin": True}
    inputs = {"requested_by": requester("U0GUEST"), "kind": "plan"}
    error = await failed(fake_slack, await run_step(slack, Callback.UPGRADE_REQUEST, inputs))
    assert "only for members of the workspace that uses it" in error
    assert await store.upgrades.recent("demo") == []


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"kind": "voice_minutes"}, "Enter how many minutes you need."),
        ({"kind": "voice_minutes", "quantity": 0}, "Enter a whole number from 1 to 1,000,000."),
        ({"kind": "storage_gb", "quantity": 2.5}, "Enter a whole number from 1 to 1,000,000."),
        ({"kind": "more_everything"}, "Choose what you need."),
        ({"kind": "feature"}, "Choose the feature you want unlocked."),
        (
            {"kind": "feature", "feature": "virtual_numbers"},
            "Virtual Numbers is not a locked feature of your plan.",
        ),
        ({"kind": "plan", "note": "x" * 1001}, "Keep the note under 1000 characters."),
    ],
)
async def test_request_an_upgrade_fails_on_the_modals_own_checks(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, inputs: dict[str, Any], said: str
) -> None:
    run = await run_step(slack, Callback.UPGRADE_REQUEST, {"requested_by": requester(ADMIN), **inputs})
    assert await failed(fake_slack, run) == said
    assert await store.upgrades.recent("demo") == []


@pytest.mark.usefixtures("demo")
async def test_request_an_upgrade_needs_to_know_who_asks(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    run = await run_step(slack, Callback.UPGRADE_REQUEST, {"requested_by": ADMIN, "kind": "plan"})
    assert "couldn't tell who is asking" in await failed(fake_slack, run)


# ------------------------------------------------------------------------------------------ completion


@pytest.mark.usefixtures("demo")
async def test_outputs_slack_refuses_fail_the_step_rather_than_leave_it_running(
    slack: SlackDriver, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("functions.completeSuccess", error="parameter_validation_failed")
    run = await run_step(slack, Callback.RATE_LOOKUP, {"destination": "Japan"})
    refused = await fake_slack.wait_for("functions.completeSuccess", where=run.of)
    assert refused.error == "parameter_validation_failed"
    error = (await fake_slack.wait_for("functions.completeError", where=run.of)).params["error"]
    assert error == "Sorry, something went wrong on our side and it has been logged. Please try again."
    assert any(r.exc_info for r in caplog.records if r.message == "unhandled error in a listener")
