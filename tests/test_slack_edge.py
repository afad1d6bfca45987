"""Slack's request URL refuses what is not Slack's, and what Slack could not have meant, before bolt sees it:
too large (413), unsigned or stale (401), unparsable (400), of a shape nothing can handle (400). Each refusal
is one log line without the body; a signed request never answers 5xx for its shape."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import ClientResponse

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.signing import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    block_actions_payload,
    block_suggestion_payload,
    event_body,
    function_executed_event,
    interactive_body,
    shortcut_payload,
    signed_headers,
    slash_command_body,
    url_verification_body,
    view_submission_payload,
)
from bot.slack_edge import MAX_BODY_BYTES
from handlers.company.ids import Action as CompanyAction
from handlers.home import TAB_BUTTON, HomeTab, TabChoice
from handlers.upgrade.ids import Callback as UpgradeCallback
from tests.support.installs import Http
from tests.support.slackdriver import ADMIN, SIGNING_SECRET, TEAM, SlackDriver, all_text

MARKER = "HOSTILE-MARKER-7f3a"
"""Put in every refused body: it must never reach the log."""
EDGE_LOGGER = "bot.server"


async def post(http: Http, body: bytes | str, headers: dict[str, str]) -> ClientResponse:
    data = body.encode() if isinstance(body, str) else body
    response = await http.post("/slack/events", data=data, headers=headers)
    await response.read()
    return response


def signed(body: bytes | str, content_type: str = FORM_CONTENT_TYPE, **kwargs: Any) -> dict[str, str]:
    """Signed as Slack signs: an HMAC of the bytes sent (whether or not they are UTF-8)."""
    data = body.encode() if isinstance(body, str) else body
    headers = signed_headers(SIGNING_SECRET, "", content_type=content_type, **kwargs)
    signed_bytes = b"v0:" + headers["X-Slack-Request-Timestamp"].encode() + b":" + data
    digest = hmac.new(SIGNING_SECRET.encode(), signed_bytes, hashlib.sha256).hexdigest()
    return headers | {"X-Slack-Signature": f"v0={digest}"}


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == EDGE_LOGGER]


def assert_refused_quietly(caplog: pytest.LogCaptureFixture, reason: str, size: int) -> None:
    """One line from the edge (method, path, reason, size), nothing of the body, nothing from bolt."""
    assert refusals(caplog) == [f"refused POST /slack/events: {reason} ({size} bytes)"]
    assert MARKER not in caplog.text
    assert not [r for r in caplog.records if r.name.startswith(("bolt", "slack_bolt"))]


@pytest.fixture(autouse=True)
def _capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


# ------------------------------------------------------------------------------------------ unsigned


def _form(text: str) -> str:
    return slash_command_body("/plan", text, team_id=TEAM, user_id=ADMIN, response_url="https://x.invalid/r")


UNSIGNED: list[tuple[str, bytes, Callable[[bytes], dict[str, str]], str]] = [
    (
        "no-headers",
        f"payload=%7B{MARKER}".encode(),
        lambda b: {"Content-Type": FORM_CONTENT_TYPE},
        "no timestamp",
    ),
    (
        "json-list",
        f'[1, "{MARKER}"]'.encode(),
        lambda b: {"Content-Type": JSON_CONTENT_TYPE, "X-Slack-Request-Timestamp": str(int(time.time()))},
        "no signature",
    ),
    (
        "not-utf8",
        b"\xff\xfe" + MARKER.encode(),
        lambda b: {"Content-Type": FORM_CONTENT_TYPE, "X-Slack-Signature": "v0=" + "0" * 64},
        "no timestamp",
    ),
    (
        "not-utf8-with-a-wrong-signature",  # slack_sdk's verifier alone would raise decoding it
        b"\xff\xfe" + MARKER.encode(),
        lambda b: signed(b"other") | {"Content-Type": FORM_CONTENT_TYPE},
        "bad signature",
    ),
    (
        "timestamp-not-a-number",
        _form(MARKER).encode(),
        lambda b: signed(b) | {"X-Slack-Request-Timestamp": "soon"},
        "malformed timestamp",
    ),
    (
        "timestamp-other-digits",
        _form(MARKER).encode(),
        lambda b: signed(b) | {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠"},
        "malformed timestamp",
    ),
    (
        "stale",
        _form(MARKER).encode(),
        lambda b: signed(b, timestamp=int(time.time()) - 6 * 60),
        "stale timestamp",
    ),
    (
        "from-the-future",
        _form(MARKER).encode(),
        lambda b: signed(b, timestamp=int(time.time()) + 6 * 60),
        "stale timestamp",
    ),
    (
        "signature-not-hex",
        _form(MARKER).encode(),
        lambda b: signed(b) | {"X-Slack-Signature": "v0=" + "é" * 64},
        "malformed signature",
    ),
    (
        "wrong-secret",
        _form(MARKER).encode(),
        lambda b: signed_headers("not-the-secret", b),
        "bad signature",
    ),
    (
        "signed-other-body",
        _form(MARKER).encode(),
        lambda b: signed(_form("something else")),
        "bad signature",
    ),
]


@pytest.mark.parametrize(
    ("body", "headers", "reason"), [case[1:] for case in UNSIGNED], ids=[case[0] for case in UNSIGNED]
)
async def test_unauthenticated_requests_are_refused_with_401_and_one_line(
    http: Http,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    headers: Callable[[bytes], dict[str, str]],
    reason: str,
) -> None:
    response = await post(http, body, headers(body))

    assert (response.status, await response.text()) == (401, reason)
    assert_refused_quietly(caplog, reason, len(body))
    assert fake_slack.calls == []


async def test_two_signatures_are_one_too_many(http: Http, caplog: pytest.LogCaptureFixture) -> None:
    body = _form(MARKER)
    headers = signed(body)
    response = await http.post(
        "/slack/events",
        data=body.encode(),
        headers=[*headers.items(), ("X-Slack-Signature", "v0=" + "0" * 64)],
    )
    assert response.status == 401
    assert_refused_quietly(caplog, "more than one timestamp or signature", len(body))


async def test_a_body_over_the_limit_is_refused_by_its_length_unread(
    http: Http, caplog: pytest.LogCaptureFixture
) -> None:
    body = (MARKER * (MAX_BODY_BYTES // len(MARKER) + 1)).encode()
    response = await post(http, body, {"Content-Type": FORM_CONTENT_TYPE})

    assert response.status == 413
    assert_refused_quietly(caplog, "body too large", len(body))
    logged = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.INFO and r.name != "aiohttp.access"
    ]
    assert sum(map(len, logged)) < 100


async def test_a_chunked_body_is_not_read_past_the_limit(
    http: Http, caplog: pytest.LogCaptureFixture
) -> None:
    chunk = (MARKER * 4096).encode()
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 4 * MAX_BODY_BYTES:
            sent += len(chunk)
            yield chunk

    response = await http.post("/slack/events", data=endless(), headers={"Content-Type": FORM_CONTENT_TYPE})
    await response.read()

    assert response.status == 413
    [line] = refusals(caplog)
    assert line.startswith("refused POST /slack/events: body too large (")
    assert int(line.split("(")[1].split()[0]) == MAX_BODY_BYTES + 1
    assert MARKER not in caplog.text


async def test_a_body_at_the_limit_is_read(http: Http, caplog: pytest.LogCaptureFixture) -> None:
    body = "a=" + "b" * (MAX_BODY_BYTES - 2)
    response = await post(http, body, signed(body))
    assert response.status == 400  # read, verified, parsed: a form that is no payload
    assert refusals(caplog) == [f"refused POST /slack/events: no payload type ({MAX_BODY_BYTES} bytes)"]


async def test_ten_large_unsigned_requests_add_ten_short_lines_to_the_log(
    http: Http, caplog: pytest.LogCaptureFixture
) -> None:
    body = f"payload={MARKER}".encode() + b"x" * (MAX_BODY_BYTES - 100)
    caplog.clear()
    for _ in range(10):
        assert (await post(http, body, {"Content-Type": FORM_CONTENT_TYPE})).status == 401
    assert len(refusals(caplog)) == 10
    ours = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.INFO and r.name != "aiohttp.access"
    ]
    assert len(ours) == 10
    assert sum(len(line) for line in ours) < 10 * 100
    assert MARKER not in caplog.text


# --------------------------------------------------------------------------- signed, but not a payload


UNPARSABLE: list[tuple[str, bytes, str, int, str]] = [
    ("payload-cut-short", f"payload=%7B{MARKER}".encode(), FORM_CONTENT_TYPE, 400, "payload is not JSON"),
    (
        "payload-a-list",
        b"payload=" + f'["{MARKER}"]'.encode(),
        FORM_CONTENT_TYPE,
        400,
        "payload is not a JSON object",
    ),
    (
        "payload-a-string",
        f'payload="{MARKER}"'.encode(),
        FORM_CONTENT_TYPE,
        400,
        "payload is not a JSON object",
    ),
    ("json-a-list", f'[1, "{MARKER}"]'.encode(), JSON_CONTENT_TYPE, 400, "body is not a JSON object"),
    ("json-a-number", b"1", JSON_CONTENT_TYPE, 400, "body is not a JSON object"),
    ("json-cut-short", f'{{"type": "{MARKER}'.encode(), JSON_CONTENT_TYPE, 400, "body is not JSON"),
    ("json-nested-too-deep", b"[" * 200_000, JSON_CONTENT_TYPE, 400, "body is not JSON"),
    ("not-utf8", b'{"type": "\xff\xfe"}', JSON_CONTENT_TYPE, 400, "body is not UTF-8"),
    ("form-not-utf8", b"payload=%FF%FE" + MARKER.encode(), FORM_CONTENT_TYPE, 400, "unreadable form"),
    ("form-no-payload", f"hello={MARKER}".encode(), FORM_CONTENT_TYPE, 400, "no payload type"),
    ("empty", b"", FORM_CONTENT_TYPE, 400, "no payload type"),
    ("other-content-type", f"<xml>{MARKER}</xml>".encode(), "text/xml", 415, "unsupported content type"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [case[1:] for case in UNPARSABLE],
    ids=[case[0] for case in UNPARSABLE],
)
async def test_signed_bodies_that_are_no_payload_are_refused(
    http: Http,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
    status: int,
    reason: str,
) -> None:
    response = await post(http, body, signed(body, content_type))

    assert (response.status, await response.text()) == (status, reason)
    assert_refused_quietly(caplog, reason, len(body))
    assert fake_slack.calls == []


# ---------------------------------------------------------------------- signed, but malformed payloads


def _home_click() -> dict[str, Any]:
    return block_actions_payload(
        team_id=TEAM,
        user_id=ADMIN,
        action_id=TAB_BUTTON.id(HomeTab.PLAN.value),
        value=TabChoice(tab=HomeTab.PLAN).encode(),
        view={"type": "home", "id": "V0HOME"},
    )


def _submission() -> dict[str, Any]:
    return view_submission_payload(
        team_id=TEAM, user_id=ADMIN, callback_id=UpgradeCallback.UPGRADE, state_values={}
    )


def _suggestion() -> dict[str, Any]:
    return block_suggestion_payload(
        team_id=TEAM, user_id=ADMIN, action_id=CompanyAction.COMPANY_COUNTRY, value="Sing"
    )


def _shortcut() -> dict[str, Any]:
    return shortcut_payload(team_id=TEAM, user_id=ADMIN, callback_id="plan.shortcut")


def _event() -> dict[str, Any]:
    home = {"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME", "tab": "home", "event_ts": "1.2"}
    event: dict[str, Any] = json.loads(event_body(home, team_id=TEAM))
    return event


def _step() -> dict[str, Any]:
    """A Workflow Builder step's run (`function_executed`)."""
    step = function_executed_event("look_up_rate", {"destination": "Japan"})
    event: dict[str, Any] = json.loads(event_body(step, team_id=TEAM))
    return event


def _command() -> dict[str, str]:
    body = slash_command_body("/plan", "", team_id=TEAM, user_id=ADMIN, response_url="https://x.invalid/r")
    return dict(parse_qsl(body, keep_blank_values=True))


def without(payload: dict[str, Any], *path: str | int) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return changed


def with_(payload: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


Encoded = tuple[str, str]  # (body, content type)


def form(payload: dict[str, Any]) -> Encoded:
    return interactive_body(payload), FORM_CONTENT_TYPE


def as_json(payload: dict[str, Any]) -> Encoded:
    return json.dumps(payload), JSON_CONTENT_TYPE


def command(fields: dict[str, str]) -> Encoded:
    return urlencode(fields), FORM_CONTENT_TYPE


MALFORMED: dict[str, tuple[Encoded, str]] = {
    # block_actions
    "actions-no-user": (form(without(_home_click(), "user")), "interaction without a user"),
    "actions-user-without-id": (form(without(_home_click(), "user", "id")), "user without id"),
    "actions-user-a-list": (
        form(with_(_home_click(), [ADMIN], "user")),
        "interaction without a user",
    ),
    "actions-user-id-a-number": (
        form(with_(_home_click(), 7, "user", "id")),
        "user without id",
    ),
    "actions-no-type": (form(without(_home_click(), "type")), "no payload type"),
    "actions-unknown-type": (form(with_(_home_click(), "block_action", "type")), "unknown payload type"),
    "actions-missing": (form(without(_home_click(), "actions")), "block_actions without actions"),
    "actions-empty": (form(with_(_home_click(), [], "actions")), "block_actions without actions"),
    "actions-a-string": (form(with_(_home_click(), "click", "actions")), "block_actions without actions"),
    "action-not-an-object": (form(with_(_home_click(), ["click"], "actions")), "an action is not an object"),
    "action-without-action-id": (
        form(without(_home_click(), "actions", 0, "action_id")),
        "action without action_id",
    ),
    "action-value-a-number": (
        form(with_(_home_click(), 5, "actions", 0, "value")),
        "action value is not a string",
    ),
    "actions-team-a-number": (
        form(with_(_home_click(), 5, "team")),
        "payload team is neither an id nor an object",
    ),
    "actions-enterprise-a-number": (
        form(with_(_home_click(), 5, "enterprise")),
        "payload enterprise is neither an id nor an object",
    ),
    "actions-authorizations-an-object": (
        form(with_(_home_click(), {"team_id": TEAM}, "authorizations")),
        "authorizations is not a list",
    ),
    "actions-view-a-string": (form(with_(_home_click(), "V0HOME", "view")), "view is not an object"),
    "actions-channel-a-number": (
        form(with_(without(_home_click(), "view"), 9, "channel")),
        "payload channel is neither an id nor an object",
    ),
    # view_submission
    "submission-no-view": (form(without(_submission(), "view")), "view_submission without a view"),
    "submission-view-a-string": (
        form(with_(_submission(), "V0FAKE", "view")),
        "view_submission without a view",
    ),
    "submission-view-no-callback": (
        form(without(_submission(), "view", "callback_id")),
        "view without callback_id",
    ),
    "submission-view-no-id": (form(without(_submission(), "view", "id")), "view without id"),
    "submission-no-user": (form(without(_submission(), "user")), "interaction without a user"),
    "submission-state-a-list": (
        form(with_(_submission(), [], "view", "state")),
        "view state is not an object",
    ),
    "submission-response-urls-a-string": (
        form(with_(_submission(), "https://x", "response_urls")),
        "response_urls is not a list of objects",
    ),
    # block_suggestion
    "suggestion-no-action-id": (
        form(without(_suggestion(), "action_id")),
        "block_suggestion without action_id",
    ),
    "suggestion-no-user": (form(without(_suggestion(), "user")), "interaction without a user"),
    "suggestion-value-an-object": (
        form(with_(_suggestion(), {}, "value")),
        "block_suggestion value is not a string",
    ),
    # shortcut
    "shortcut-no-callback": (form(without(_shortcut(), "callback_id")), "shortcut without callback_id"),
    "shortcut-no-user": (form(without(_shortcut(), "user")), "interaction without a user"),
    # slash command
    "command-no-user": (command(without(_command(), "user_id")), "command without user_id"),
    "command-no-team": (command(without(_command(), "team_id")), "command without team_id"),
    "command-not-a-command": (command(with_(_command(), "plan", "command")), "command without a command"),
    # event_callback
    "event-missing": (as_json(without(_event(), "event")), "event_callback without an event"),
    "event-a-string": (
        as_json(with_(_event(), "app_home_opened", "event")),
        "event_callback without an event",
    ),
    "event-without-type": (as_json(without(_event(), "event", "type")), "event without type"),
    "event-without-id": (as_json(without(_event(), "event_id")), "event_callback without event_id"),
    "event-authorizations-of-numbers": (
        as_json(with_(_event(), [1], "authorizations")),
        "an authorization is not an object",
    ),
    "event-shared-channel-event-a-list": (
        as_json(with_(with_(_event(), True, "is_ext_shared_channel"), ["x"], "event")),
        "event_callback without an event",
    ),
    "home-opened-without-user": (as_json(without(_event(), "event", "user")), "app_home_opened without user"),
    "event-user-an-object-without-id": (
        as_json(with_(_event(), {"name": "x"}, "event", "user")),
        "app_home_opened without user",
    ),
    # function_executed: a Workflow Builder step's run
    "step-without-function": (
        as_json(without(_step(), "event", "function")),
        "function_executed without a function",
    ),
    "step-function-a-string": (
        as_json(with_(_step(), "look_up_rate", "event", "function")),
        "function_executed without a function",
    ),
    "step-without-callback-id": (
        as_json(without(_step(), "event", "function", "callback_id")),
        "function without callback_id",
    ),
    "step-without-execution": (
        as_json(without(_step(), "event", "function_execution_id")),
        "function_executed without function_execution_id",
    ),
    "step-inputs-a-list": (
        as_json(with_(_step(), ["Japan"], "event", "inputs")),
        "function_executed inputs is not an object",
    ),
    # url_verification, and nothing at all
    "url-verification-no-challenge": (
        as_json({"type": "url_verification"}),
        "url_verification without challenge",
    ),
    "url-verification-challenge-an-object": (
        as_json({"type": "url_verification", "challenge": {}}),
        "url_verification without challenge",
    ),
    "json-empty-object": (as_json({}), "no payload type"),
    "json-type-a-number": (as_json({"type": 5}), "no payload type"),
}


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(("encoded", "reason"), list(MALFORMED.values()), ids=list(MALFORMED))
async def test_signed_malformed_payloads_are_refused_with_400_before_bolt(
    http: Http, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, encoded: Encoded, reason: str
) -> None:
    body, content_type = encoded
    response = await post(http, body, signed(body, content_type))

    assert (response.status, await response.text()) == (400, reason)
    assert refusals(caplog) == [f"refused POST /slack/events: {reason} ({len(body.encode())} bytes)"]
    assert not [r for r in caplog.records if r.name.startswith(("bolt", "slack_bolt"))]
    assert fake_slack.calls == []


def test_the_table_covers_every_kind_of_payload() -> None:
    kinds = {name.split("-")[0] for name in MALFORMED}
    assert len(MALFORMED) >= 17
    assert kinds >= {"actions", "action", "submission", "suggestion", "shortcut", "command", "event", "home"}
    assert kinds >= {"url", "json"}


# ------------------------------------------------------------------ Slack's own shapes still get through


async def test_url_verification_is_answered_with_its_challenge(http: Http) -> None:
    body = url_verification_body("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    response = await post(http, body, signed(body, JSON_CONTENT_TYPE))
    assert response.status == 200
    assert await response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


@pytest.mark.usefixtures("demo")
async def test_a_request_signed_four_minutes_ago_is_still_served(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    url = fake_slack.new_response_url()
    body = slash_command_body("/plan", "", team_id=TEAM, user_id=ADMIN, response_url=url)
    response = await post(slack.http, body, signed(body, timestamp=int(time.time()) - 4 * 60))
    assert response.status == 200
    reply = await fake_slack.wait_for("response_url", where=lambda c: c.url == url)
    assert "BUSINESS" in all_text(reply.params)


async def test_ssl_check_is_acknowledged(http: Http, fake_slack: FakeSlack) -> None:
    body = "ssl_check=1&token=legacy-verification-token"
    assert (await post(http, body, signed(body))).status == 200
    assert fake_slack.calls == []


async def test_app_rate_limited_is_acknowledged(http: Http, caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(
        {
            "token": "t",
            "type": "app_rate_limited",
            "team_id": TEAM,
            "minute_rate_limited": 1,
            "api_app_id": "A1",
        }
    )
    assert (await post(http, body, signed(body, JSON_CONTENT_TYPE))).status == 200
    assert f"Slack rate-limited the events of workspace {TEAM}" in caplog.text


@pytest.mark.usefixtures("demo")
async def test_a_command_whose_text_says_payload_is_a_command(slack: SlackDriver) -> None:
    """bolt takes any form mentioning "payload" for an interaction (and would find none): not here."""
    text = all_text(await slack.run("payload"))
    assert "/plan" in text


@pytest.mark.usefixtures("demo")
async def test_a_signed_well_formed_click_still_works(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert (await slack.interact(_home_click())).status == 200
    assert "BUSINESS" in all_text((await fake_slack.wait_for("views.publish")).params)


@pytest.mark.usefixtures("demo")
async def test_bolt_s_own_headers_are_not_taken_from_the_outside(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    """x-slack-bolt-lazy-only would make bolt skip the listener's ack function."""
    body = interactive_body(_home_click())
    headers = signed(body) | {"X-Slack-Bolt-Lazy-Only": "1", "X-Slack-Bolt-Lazy-Function-Name": "x"}
    assert (await post(slack.http, body, headers)).status == 200
    assert "BUSINESS" in all_text((await fake_slack.wait_for("views.publish")).params)
