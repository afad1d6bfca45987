"""Tests for the test harness itself: the fake Slack Web API and the signed-request builders."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.devtools.fake_calls import NO_ANSWER
from bot.devtools.fake_slack import DROP, TIMEOUT, FakeSlack, Fault, RecordedCall
from bot.devtools.signing import (
    APP_ID,
    BOT_USER_ID,
    JSON_CONTENT_TYPE,
    block_actions_payload,
    event_body,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)

SECRET = "test-signing-secret"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Your plan*"}}
HOME_VIEW = {"type": "home", "blocks": [SECTION]}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


# ------------------------------------------------------------------------------------------ recording


async def test_records_json_call_with_params_and_token(slack: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.chat_postMessage(channel="C1", text="hello", blocks=[SECTION])

    assert response["ok"] is True
    assert response["channel"] == "C1"
    assert response["ts"] == "1700000000.000100"
    assert response["message"]["blocks"] == [SECTION]
    [call] = slack.calls_to("chat.postMessage")
    assert call.token == "xoxb-test"
    assert call.params == {"channel": "C1", "text": "hello", "blocks": [SECTION]}
    assert call.status == 200
    assert call.ok
    assert call.url == slack.api_url + "chat.postMessage"
    second = await client.chat_postMessage(channel="U123", text="again")
    assert second["ts"] == "1700000000.000200"
    assert second["channel"] == "DU123"
    slack.assert_valid()


async def test_records_form_encoded_call_and_decodes_json_params(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.api_call(
        "chat.postEphemeral",
        data={"channel": "C1", "user": "U1", "text": "psst", "blocks": json.dumps([SECTION])},
    )
    await client.api_call("users.info", http_verb="GET", params={"user": "U9", "include_locale": "true"})

    ephemeral = slack.calls_to("chat.postEphemeral")[0]
    assert ephemeral.params == {"channel": "C1", "user": "U1", "text": "psst", "blocks": [SECTION]}
    assert ephemeral.response["message_ts"]
    users_info = slack.calls_to("users.info")[0]
    assert users_info.params == {"user": "U9", "include_locale": "true"}
    assert users_info.token == "xoxb-test"
    user = users_info.response["user"]
    assert (user["id"], user["tz"], user["is_admin"], user["is_owner"], user["locale"]) == (
        "U9",
        "UTC",
        False,
        False,
        "en-US",
    )


async def test_token_param_is_taken_when_no_bearer_header(slack: FakeSlack) -> None:
    anonymous = AsyncWebClient(base_url=slack.api_url)
    await anonymous.api_call("auth.test", data={"token": "xoxb-in-body"})

    call = slack.calls_to("auth.test")[0]
    assert call.token == "xoxb-in-body"
    assert "token" not in call.params


async def test_answers_like_slack(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.team_id = "T0OTHER"
    slack.users["UADMIN"] = {"is_admin": True, "tz": "Europe/Paris"}
    slack.auth_by_token["xoxb-second"] = {"team_id": "T0SECOND"}

    auth = await client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T0OTHER", BOT_USER_ID, "B0MYPLAN")
    second = await AsyncWebClient(token="xoxb-second", base_url=slack.api_url).auth_test()
    assert second["team_id"] == "T0SECOND"
    admin = await client.users_info(user="UADMIN")
    assert (admin["user"]["is_admin"], admin["user"]["tz"], admin["user"]["is_owner"]) == (
        True,
        "Europe/Paris",
        False,
    )
    assert (await client.conversations_open(users="U5"))["channel"]["id"] == "DU5"
    assert (await client.conversations_info(channel="C0GENERAL"))["channel"]["is_member"] is True
    permalink = await client.chat_getPermalink(channel="C1", message_ts="1700000000.000100")
    assert permalink["permalink"].endswith("/archives/C1/p1700000000000100")
    updated = await client.chat_update(channel="C1", ts="1700000000.000100", text="new")
    assert (updated["ts"], updated["text"]) == ("1700000000.000100", "new")
    assert (await client.chat_delete(channel="C1", ts="1700000000.000100"))["ok"] is True
    assert (await client.api_call("reactions.add", json={"name": "tada"}))["ok"] is True
    with pytest.raises(SlackApiError) as socket_mode:
        await client.apps_connections_open(app_token="xapp-1")
    assert socket_mode.value.response["error"] == "not_allowed"


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")  # inside slack_sdk
async def test_oauth_v2_access(slack: FakeSlack) -> None:
    anonymous = AsyncWebClient(base_url=slack.api_url)

    install = await anonymous.oauth_v2_access(client_id="111.222", client_secret="shh", code="c0de")

    assert install["team"]["id"] == "T0DEMO"
    assert install["access_token"].startswith("xoxb-")
    assert install["bot_user_id"] == BOT_USER_ID
    call = slack.calls_to("oauth.v2.access")[0]
    assert call.token is None
    assert (call.params["client_id"], call.params["client_secret"], call.params["code"]) == (
        "111.222",
        "shh",
        "c0de",
    )
    slack.oauth_response = {"team": {"id": "T0NEW", "name": "New"}, "access_token": "xoxb-new"}
    assert (await anonymous.oauth_v2_access(client_id="1", client_secret="2", code="3"))["team"][
        "id"
    ] == "T0NEW"


async def test_file_upload_v2_flow(slack: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.files_upload_v2(
        channel="C1", content="minutes,plan\n120,Pro\n", filename="usage.csv", title="Usage"
    )

    assert response["file"]["name"] == "usage.csv"
    assert response["file"]["title"] == "Usage"
    [upload] = slack.calls_to("file_upload")
    assert slack.uploads[upload.params["file_id"]] == b"minutes,plan\n120,Pro\n"
    complete = slack.calls_to("files.completeUploadExternal")[0]
    assert complete.params["files"][0]["id"] == upload.params["file_id"]
    assert complete.params["channel_id"] == "C1"


async def test_a_users_file_is_described_and_served_to_a_bearer_token(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    file = slack.add_file("numbers.csv", b"+44 7400 123456\n", user="U1")
    info = await client.files_info(file=file["id"])
    assert info["file"] == file
    assert (file["name"], file["filetype"], file["size"], file["user"]) == ("numbers.csv", "csv", 16, "U1")
    with pytest.raises(SlackApiError, match="file_not_found"):
        await client.files_info(file="F0NONE")
    async with aiohttp.ClientSession() as http:
        url = file["url_private_download"]
        async with http.get(url, headers={"Authorization": "Bearer xoxb-test"}) as served:
            assert (served.status, served.content_type) == (200, "text/csv")
            assert await served.read() == b"+44 7400 123456\n"
        async with http.get(url) as anonymous:  # as at Slack: the sign-in page, not an error
            assert (anonymous.status, anonymous.content_type) == (200, "text/html")
        slack.fail("file_download", status=503)
        async with http.get(url, headers={"Authorization": "Bearer xoxb-test"}) as failed:
            assert failed.status == 503
    downloads = slack.calls_to("file_download")
    assert [(call.token, call.params["file_id"]) for call in downloads] == [
        ("xoxb-test", file["id"]),
        (None, file["id"]),
        ("xoxb-test", file["id"]),
    ]


# ------------------------------------------------------------------------------------------ wait_for


async def test_wait_for_returns_an_already_recorded_call(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C1", text="one")
    await client.chat_postMessage(channel="C2", text="two")

    call = await slack.wait_for("chat.postMessage", count=2, timeout=0.5)
    assert call.params["text"] == "two"
    matching = await slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C1")
    assert matching.params["text"] == "one"


async def test_wait_for_waits_for_a_future_call(slack: FakeSlack, client: AsyncWebClient) -> None:
    waiter = asyncio.create_task(slack.wait_for("views.publish", timeout=5))
    await asyncio.sleep(0)
    assert not waiter.done()

    await client.views_publish(user_id="U1", view=HOME_VIEW)

    call = await waiter
    assert call.params["user_id"] == "U1"


async def test_wait_for_times_out_with_a_clear_message(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.auth_test()

    with pytest.raises(AssertionError, match=r"chat\.postMessage") as excinfo:
        await slack.wait_for("chat.postMessage", timeout=0.05)
    message = str(excinfo.value)
    assert "timed out after 0.05s" in message
    assert "auth.test" in message  # lists what was recorded


# ------------------------------------------------------------------------------------------ validation


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param(
            {"text": "t", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
            "3000",
            id="section-text-too-long",
        ),
        pytest.param({"text": "t", "blocks": [SECTION] * 51}, "51 blocks", id="51-blocks"),
        pytest.param({"blocks": [SECTION]}, "fallback text", id="missing-fallback-text"),
        pytest.param({"text": " ", "blocks": [SECTION]}, "fallback text", id="blank-fallback-text"),
        pytest.param(
            {"text": "t", "blocks": [{"type": "sectoin"}]}, "unknown block type", id="unknown-block"
        ),
        pytest.param({"text": "x" * 40_001}, "40000", id="text-too-long"),
        pytest.param(
            {
                "text": "t",
                "blocks": [{"type": "actions", "elements": [{"type": "buton", "action_id": "a"}]}],
            },
            "Unknown element",
            id="unknown-element",
        ),
        pytest.param(
            {"text": "t", "blocks": [{**SECTION, "block_id": "same"}, {**SECTION, "block_id": "same"}]},
            "duplicate block_id",
            id="duplicate-block-id",
        ),
    ],
)
async def test_invalid_messages_are_rejected_and_recorded(
    slack: FakeSlack, client: AsyncWebClient, kwargs: dict[str, Any], expected: str
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_postMessage(channel="C1", **kwargs)

    assert excinfo.value.response.status_code == 200
    assert excinfo.value.response["error"] == "invalid_blocks"
    [call] = slack.calls_to("chat.postMessage")
    assert call.error == "invalid_blocks"
    assert not call.ok
    assert any(expected in error for error in slack.validation_errors), slack.validation_errors
    with pytest.raises(AssertionError, match="invalid Slack payload"):
        slack.assert_valid()


async def test_missing_required_argument_is_invalid_arguments(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        await client.api_call("views.publish", json={"view": HOME_VIEW})

    assert excinfo.value.response["error"] == "invalid_arguments"
    assert slack.validation_errors == ["views.publish: missing required argument 'user_id'"]


async def test_valid_view_publishes(slack: FakeSlack, client: AsyncWebClient) -> None:
    first = await client.views_publish(user_id="U1", view=HOME_VIEW)
    again = await client.views_publish(user_id="U1", view=HOME_VIEW)

    view = first["view"]
    assert view["id"].startswith("V")
    assert view["type"] == "home"
    assert view["blocks"] == [SECTION]
    assert view["hash"]
    assert again["view"]["id"] == view["id"]  # a user has one Home tab
    assert again["view"]["hash"] != view["hash"]
    assert slack.views[view["id"]]["blocks"] == [SECTION]
    slack.assert_valid()


async def test_modal_open_and_update(slack: FakeSlack, client: AsyncWebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "plan_change",
        "title": {"type": "plain_text", "text": "Change plan"},
        "submit": {"type": "plain_text", "text": "Save"},
        "private_metadata": "account=42",
        "blocks": [
            {
                "type": "input",
                "block_id": "seats",
                "label": {"type": "plain_text", "text": "Seats"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }
    opened = await client.views_open(trigger_id="trigger.1", view=modal)
    view_id = opened["view"]["id"]

    updated = await client.views_update(view_id=view_id, hash=opened["view"]["hash"], view=modal)

    assert updated["view"]["id"] == view_id
    assert updated["view"]["callback_id"] == "plan_change"
    slack.assert_valid()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"private_metadata": "m" * 3001}, "private_metadata", id="private-metadata"),
        pytest.param({"callback_id": "c" * 256}, "callback_id", id="callback-id"),
        pytest.param({"blocks": [SECTION] * 101}, "100", id="101-blocks"),
        pytest.param({"title": {"type": "plain_text", "text": "t" * 25}}, "title", id="long-title"),
        pytest.param({"title": None}, "needs a title", id="no-title"),
        pytest.param({"title": "My Plan"}, "plain_text object", id="string-title"),
        pytest.param({"blocks": []}, "1 to 100 blocks", id="no-blocks"),
        pytest.param(
            {"type": "home", "title": None, "submit": {"type": "plain_text", "text": "Go"}},
            "home",
            id="home-submit",
        ),
    ],
)
async def test_invalid_views_are_rejected(
    slack: FakeSlack, client: AsyncWebClient, change: dict[str, Any], expected: str
) -> None:
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "My Plan"},
        "blocks": [SECTION],
        **change,
    }

    with pytest.raises(SlackApiError) as excinfo:
        await client.views_open(trigger_id="trigger.1", view=modal)

    assert excinfo.value.response["error"] == "invalid_blocks"
    assert any(expected in error for error in slack.validation_errors), slack.validation_errors


# ------------------------------------------------------------------------------------------ response_url


async def test_response_url_posts_are_recorded_and_validated(slack: FakeSlack) -> None:
    url = slack.new_response_url()
    webhook = AsyncWebhookClient(url)

    sent = await webhook.send(text="Your plan", blocks=[SECTION], response_type="ephemeral")
    rejected = await webhook.send(blocks=[SECTION], replace_original=True)
    deleted = await webhook.send_dict({"delete_original": True})

    assert sent.status_code == 200
    assert json.loads(sent.body) == {"ok": True}
    assert json.loads(rejected.body)["error"] == "invalid_blocks"
    assert json.loads(deleted.body) == {"ok": True}
    calls = slack.calls_to("response_url")
    assert [c.ok for c in calls] == [True, False, True]
    assert calls[0].url == url
    assert calls[0].params == {"text": "Your plan", "blocks": [SECTION], "response_type": "ephemeral"}
    assert calls[0].token is None
    assert len(slack.validation_errors) == 1
    assert (await slack.wait_for("response_url", where=lambda c: c.url == url, count=3)).params == {
        "delete_original": True
    }


async def test_unknown_response_url_is_404(slack: FakeSlack) -> None:
    response = await AsyncWebhookClient(slack.base_url + "response/999999").send(text="hi")

    assert response.status_code == 404


async def test_each_response_url_is_distinct(slack: FakeSlack) -> None:
    assert slack.new_response_url() != slack.new_response_url()


# ------------------------------------------------------------------------------------------ failures


async def test_rate_limit_is_retried_by_the_sdk(slack: FakeSlack) -> None:
    retrying = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail("chat.postMessage", status=429, retry_after=0)

    response = await retrying.chat_postMessage(channel="C1", text="hi")

    assert response["ok"] is True
    attempts = slack.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].error == "ratelimited"


async def test_rate_limit_reaches_the_client(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_postMessage(channel="C1", text="hi")

    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "7"
    assert excinfo.value.response["error"] == "ratelimited"


async def test_error_and_server_failures(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", error="not_in_channel", times=2)
    slack.fail("users.info", status=503)

    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            await client.chat_postMessage(channel="C1", text="hi")
        assert excinfo.value.response["error"] == "not_in_channel"
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True
    with pytest.raises(SlackApiError) as server_error:
        await client.users_info(user="U1")
    assert server_error.value.response.status_code == 503
    assert [c.ok for c in slack.calls_to("chat.postMessage")] == [False, False, True]


async def test_fail_response_url_and_upload(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("response_url", status=500)
    slack.fail("file_upload", status=500)

    response = await AsyncWebhookClient(slack.new_response_url()).send(text="hi")
    assert response.status_code == 500
    with pytest.raises(SlackRequestError):
        await client.files_upload_v2(channel="C1", content="x", filename="x.txt")


async def test_a_stored_failure_takes_effect_then_fails(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    slack.fail("chat.postMessage", status=500, stored=True)

    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_postMessage(channel="C1", text="hi")

    assert excinfo.value.response.status_code == 500
    [call] = slack.calls_to("chat.postMessage")
    assert (call.ok, call.stored, call.error) == (False, True, "internal_error")
    assert [m["text"] for m in slack.messages["C1"]] == ["hi"], "stored all the same"
    history = await client.conversations_history(channel="C1")
    assert [m["text"] for m in history["messages"]] == ["hi"]


async def test_a_dropped_connection_answers_nothing(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    slack.fail("chat.postMessage", status=DROP, stored=True)
    slack.fail("chat.postMessage", status=DROP)

    for text in ("stored", "lost"):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.chat_postMessage(channel="C1", text=text)

    assert [m["text"] for m in slack.messages["C1"]] == ["stored"]
    assert [(c.status, c.stored) for c in slack.calls_to("chat.postMessage")] == [
        (NO_ANSWER, True),
        (NO_ANSWER, False),
    ]


async def test_a_timeout_holds_the_request_until_the_caller_gives_up() -> None:
    fake = FakeSlack()
    await fake.start()
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
    fake.fail("chat.postMessage", status=TIMEOUT, stored=True)
    call = asyncio.create_task(client.chat_postMessage(channel="C1", text="hi"))
    recorded = await fake.wait_for("chat.postMessage")
    assert (recorded.status, recorded.stored) == (NO_ANSWER, True)
    assert [m["text"] for m in fake.messages["C1"]] == ["hi"]
    assert not call.done()

    await fake.stop()  # releases it: the connection closes without an answer
    with pytest.raises(aiohttp.ClientError):
        await asyncio.wait_for(call, timeout=5)


async def test_random_faults_are_drawn_from_the_seed(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])

    async def statuses(seed: int) -> list[int]:
        slack.clear()
        slack.fail_at_random("users.info", {Fault(503): 0.3, Fault(error="user_not_found"): 0.2}, seed=seed)
        for _ in range(20):
            with contextlib.suppress(SlackApiError):
                await client.users_info(user="U1")
        return [c.status if c.ok or c.status != 200 else 0 for c in slack.calls_to("users.info")]

    first = await statuses(3)
    assert await statuses(3) == first
    assert {503, 200, 0} == set(first), "each fault and success"
    slack.fail_at_random("users.info", {})
    slack.clear()
    assert (await client.users_info(user="U1"))["ok"]
    with pytest.raises(ValueError, match="add up to at most 1"):
        slack.fail_at_random("users.info", {Fault(503): 0.6, Fault(500): 0.6})


async def test_a_rate_limit_per_token_and_slacks_history_page(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    other = AsyncWebClient(token="xoxb-other", base_url=slack.api_url, retry_handlers=[])
    for n in range(20):
        await client.chat_postMessage(channel="C1", text=f"m{n}")
    slack.history_page = 15
    slack.limit_rate("conversations.history", every=60)

    first = await client.conversations_history(channel="C1", limit=100)
    assert [m["text"] for m in first["messages"]] == [f"m{n}" for n in range(19, 4, -1)]
    with pytest.raises(SlackApiError) as excinfo:
        await client.conversations_history(channel="C1")
    assert excinfo.value.response.status_code == 429
    assert 1 <= int(excinfo.value.response.headers["Retry-After"]) <= 60
    assert (await other.conversations_history(channel="C1"))["ok"], "another workspace's token has its own"
    slack.limit_rate("conversations.history", 0)
    assert (await client.conversations_history(channel="C1"))["ok"]


def test_fail_with_status_200_needs_an_error() -> None:
    with pytest.raises(ValueError, match="error code"):
        FakeSlack().fail("chat.postMessage")


async def test_delay_slows_a_method_down(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.delay("views.open", 0.2)

    task = asyncio.create_task(
        client.views_open(
            trigger_id="t", view={**HOME_VIEW, "type": "modal", "title": {"type": "plain_text", "text": "T"}}
        )
    )
    recorded = await slack.wait_for("views.open")  # recorded on arrival, answered later
    assert not task.done()
    await task
    assert recorded.ok


async def test_stop_does_not_wait_for_delayed_requests() -> None:
    fake = FakeSlack()
    await fake.start()
    fake.delay("auth.test", 30)
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, timeout=10)
    task = asyncio.create_task(client.auth_test())
    await fake.wait_for("auth.test")

    await fake.stop()
    response = await asyncio.wait_for(task, timeout=5)  # not the 30 s delay
    assert response["ok"] is True  # the delayed answer is released, not dropped


async def test_listener_sees_calls(slack: FakeSlack, client: AsyncWebClient) -> None:
    seen: list[RecordedCall] = []
    slack.add_listener(seen.append)

    await client.auth_test()

    assert [c.method for c in seen] == ["auth.test"]
    slack.clear()
    assert slack.calls == []


# ------------------------------------------------------------------------------------------ signing


def test_signed_headers_verify_with_slack_sdk() -> None:
    body = slash_command_body("/myplan", "usage", team_id="T0DEMO", user_id="U1", response_url="http://x/r/1")

    headers = signed_headers(SECRET, body)

    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert verifier.is_valid_request(body.encode(), headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + "&x=1", headers)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["X-Slack-Signature"].startswith("v0=")
    stale = signed_headers(SECRET, body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)


def test_slash_command_body_has_every_field() -> None:
    body = slash_command_body(
        "/myplan", "change plan", team_id="T1", user_id="U1", response_url="http://x/r/1", enterprise_id="E1"
    )

    fields = {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
    assert fields["command"] == "/myplan"
    assert fields["text"] == "change plan"
    assert fields["enterprise_id"] == "E1"
    assert fields["api_app_id"] == APP_ID
    assert fields["is_enterprise_install"] == "false"
    assert set(fields) >= {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }


def test_event_and_interactive_bodies() -> None:
    event = {"type": "app_home_opened", "user": "U1", "tab": "home", "event_ts": "1.2"}

    envelope = json.loads(event_body(event, team_id="T1", event_id="Ev1"))
    payload = block_actions_payload(team_id="T1", user_id="U1", action_id="upgrade", value="pro")
    decoded = json.loads(parse_qs(interactive_body(payload))["payload"][0])

    assert envelope["type"] == "event_callback"
    assert envelope["event"] == event
    assert envelope["event_id"] == "Ev1"
    assert envelope["authorizations"][0] == {
        "enterprise_id": None,
        "team_id": "T1",
        "user_id": BOT_USER_ID,
        "is_bot": True,
        "is_enterprise_install": False,
    }
    assert (
        json.loads(event_body(event, team_id="T1"))["event_id"]
        != json.loads(event_body(event, team_id="T1"))["event_id"]
    )
    assert decoded == payload
    assert payload["container"]["type"] == "message"
    assert payload["actions"][0]["value"] == "pro"


@pytest.fixture
def bolt_app(slack: FakeSlack) -> AsyncApp:
    """A bolt app wired to the fake, to prove bolt accepts the requests we build."""
    return AsyncApp(
        signing_secret=SECRET,
        token="xoxb-test",
        process_before_response=True,  # listeners finish before the HTTP answer: no waiting in tests
        client=AsyncWebClient(token="xoxb-test", base_url=slack.api_url),
    )


async def _dispatch(app: AsyncApp, body: str, content_type: str = "application/x-www-form-urlencoded") -> int:
    headers: dict[str, str | Sequence[str]] = {**signed_headers(SECRET, body, content_type=content_type)}
    request = AsyncBoltRequest(body=body, headers=headers)
    return (await app.async_dispatch(request)).status


async def test_bolt_accepts_signed_slash_command_and_responds(slack: FakeSlack, bolt_app: AsyncApp) -> None:
    seen: dict[str, Any] = {}

    @bolt_app.command("/myplan")
    async def handle(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack()
        seen.update(command)
        await respond(text="Your plan: Pro", blocks=[SECTION])

    url = slack.new_response_url()
    body = slash_command_body("/myplan", "usage", team_id="T0DEMO", user_id="U1", response_url=url)

    assert await _dispatch(bolt_app, body) == 200
    reply = await slack.wait_for("response_url")
    assert reply.params["text"] == "Your plan: Pro"
    assert seen["text"] == "usage"
    assert slack.calls_to("auth.test")  # bolt authorized against the fake
    slack.assert_valid()


async def test_bolt_accepts_block_actions_view_submission_and_events(bolt_app: AsyncApp) -> None:
    seen: dict[str, Any] = {}

    @bolt_app.action("pick_plan")
    async def on_action(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        seen["action"] = (action["selected_option"]["value"], body["view"]["id"], body["user"]["id"])

    @bolt_app.view("plan_change")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen["view"] = (view["state"]["values"]["seats"]["value"]["value"], view["private_metadata"])

    @bolt_app.event("app_home_opened")
    async def on_home(event: dict[str, Any]) -> None:
        seen["event"] = event["user"]

    option = {"text": {"type": "plain_text", "text": "Pro"}, "value": "pro"}
    action = block_actions_payload(
        team_id="T0DEMO", user_id="U1", action_id="pick_plan", selected_option=option, view={"id": "V1"}
    )
    submission = view_submission_payload(
        team_id="T0DEMO",
        user_id="U1",
        callback_id="plan_change",
        state_values={"seats": {"value": "12"}},
        private_metadata="account=42",
    )
    event = event_body({"type": "app_home_opened", "user": "U2", "tab": "home"}, team_id="T0DEMO")

    assert await _dispatch(bolt_app, interactive_body(action)) == 200
    assert await _dispatch(bolt_app, interactive_body(submission)) == 200
    assert await _dispatch(bolt_app, event, content_type=JSON_CONTENT_TYPE) == 200

    assert seen == {"action": ("pro", "V1", "U1"), "view": ("12", "account=42"), "event": "U2"}


async def test_block_kit_checks_can_be_turned_off_for_benchmarks() -> None:
    bad = [{"type": "actions", "elements": [{"type": "buton", "action_id": "a"}]}]
    async with FakeSlack(check_block_kit=False) as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        assert (await client.chat_postMessage(channel="C1", text="t", blocks=bad))["ok"]
        assert fake.validation_errors == []
        # Arguments are still checked.
        with pytest.raises(SlackApiError, match="invalid_arguments"):
            await client.api_call("chat.postMessage", json={"text": "t"})
