"""Questions in plain words, end to end: signed events in, answers read from the fake Slack. The assistant
panel (suggested prompts when a thread starts; a status, then the answer in the thread), the Messages tab,
@-mentions (answered in their thread), the rights of the slash commands, and what is never answered."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.ask import GRAMMAR, SUGGESTED_PROMPTS
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import BOT_ID, BOT_USER_ID, event_body
from bot.settings import Settings
from handlers.ask.ids import Block as AskBlock
from handlers.ask.listeners import PROMPTS_TITLE, STATUS
from handlers.digest.ids import Block as DigestBlock
from handlers.questions import Asked
from handlers.rates.ids import Block as RatesBlock
from handlers.slack_clients import BOT_SCOPES
from store import Store
from store.domain.upgrades import Evidence, UpgradeDraft, UpgradeKind
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import ADMIN, STAFF, TEAM, SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")

DM = "D0ASKDM"
CHANNEL = "C0GENERAL"
THREAD = "1763600000.000100"
RENEWAL = "2026-12-02"  # the demo's next payment date (its period started 18 days before DEMO_NOW)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One listener works at a time, in the order the events came: whatever an event that must not be
    answered did is done before the next event's work starts."""
    return settings.model_copy(update={"listener_concurrency": 1})


def dm(text: str, *, user: str = ADMIN, ts: str = "1763600100.000200", **extra: Any) -> dict[str, Any]:
    """A message.im event: someone writing to the app in its DM (in a thread with `thread_ts`)."""
    event = {
        "type": "message",
        "channel": DM,
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": TEAM,
    }
    return {**event, **extra}


def mention(text: str, *, user: str = ADMIN, ts: str = "1763600200.000300", **extra: Any) -> dict[str, Any]:
    """An app_mention event in a channel."""
    event = {
        "type": "app_mention",
        "channel": CHANNEL,
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "event_ts": ts,
        "team": TEAM,
    }
    return {**event, **extra}


def thread_started(user: str = ADMIN) -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": CHANNEL, "team_id": TEAM, "enterprise_id": None},
            "channel_id": DM,
            "thread_ts": THREAD,
        },
        "event_ts": THREAD,
    }


def posted(fake_slack: FakeSlack, channel: str = DM) -> list[RecordedCall]:
    return [c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def block_ids(call: RecordedCall) -> list[str]:
    return [b.get("block_id", "") for b in call.params["blocks"]]


# -------------------------------------------------------------------------------- the assistant panel


async def test_a_new_assistant_thread_gets_the_suggested_prompts(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.event(thread_started())).status == 200
    call = await fake_slack.wait_for("assistant.threads.setSuggestedPrompts")
    assert call.ok
    assert (call.params["channel_id"], call.params["thread_ts"]) == (DM, THREAD)
    assert call.params["title"] == PROMPTS_TITLE
    assert [p["message"] for p in call.params["prompts"]] == list(SUGGESTED_PROMPTS)
    assert [p["title"] for p in call.params["prompts"]] == list(SUGGESTED_PROMPTS)


async def test_a_question_in_the_assistant_panel_shows_a_status_then_the_answer_in_its_thread(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.event(dm("How many voice minutes are left?", thread_ts=THREAD))).status == 200
    answer = await fake_slack.wait_for("chat.postMessage")
    status = fake_slack.calls_to("assistant.threads.setStatus")
    assert [(c.params["channel_id"], c.params["thread_ts"], c.params["status"]) for c in status] == [
        (DM, THREAD, STATUS)
    ]
    assert fake_slack.calls.index(status[0]) < fake_slack.calls.index(answer), "the status comes first"
    assert (answer.params["channel"], answer.params["thread_ts"]) == (DM, THREAD)
    assert answer.ok
    text = all_text(answer.params)
    assert "*1,040 min* of voice call minutes left this billing period." in text
    assert "3,960 of 5,000 min" in text, "the usage bar as /plan draws it"
    assert "video" not in text.lower(), "only the allowance asked about"
    assert block_ids(answer)[:2] == [AskBlock.ANSWER, AskBlock.DETAILS]


async def test_the_thread_context_changing_is_only_acknowledged(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    changed = {**thread_started(), "type": "assistant_thread_context_changed"}
    assert (await slack.event(changed)).status == 200
    assert (await slack.event(dm("when do we renew?", thread_ts=THREAD))).status == 200
    await fake_slack.wait_for("chat.postMessage")
    assert not fake_slack.calls_to("conversations.replies")
    assert not fake_slack.calls_to("chat.update")


# -------------------------------------------------------------------------------- the Messages tab


@pytest.mark.fake_clock
async def test_a_direct_message_is_answered_in_the_dm(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert (await slack.event(dm("hey, could you tell me when we renew?"))).status == 200
    answer = await fake_slack.wait_for("chat.postMessage")
    assert answer.params["channel"] == DM
    assert "thread_ts" not in answer.params, "a message at the top of the DM is answered there"
    text = all_text(answer.params)
    assert f"|{RENEWAL}>" in text
    assert "(in 12 days)" in text
    assert "USD 1,299.00" in text
    assert not fake_slack.calls_to("assistant.threads.setStatus")


async def test_a_rate_question_gets_the_rates_answer_without_share(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.event(dm("What does a 10-minute call to Japan cost?"))).status == 200
    answer = await fake_slack.wait_for("chat.postMessage", timeout=30)
    text = all_text(answer.params)
    assert "Japan" in text
    assert "Estimate for 10 min (10 started minutes)" in text
    assert RatesBlock.RATES_RESULT in block_ids(answer)
    assert RatesBlock.RATES_ACTIONS not in block_ids(answer), "no Share: the answer is already where asked"


async def test_will_we_run_out_answers_with_the_forecasts(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert (await slack.event(dm("will we run out?"))).status == 200
    text = all_text((await fake_slack.wait_for("chat.postMessage")).params)
    assert ":warning: *Yes*: at this pace voice call minutes will run out before renewal" in text
    assert ":crystal_ball: At this pace voice call minutes run out on" in text
    assert ":crystal_ball: At this pace storage lasts until renewal" in text


async def test_what_it_does_not_understand_is_answered_with_what_it_can(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.event(dm("what is the meaning of life?"))).status == 200
    answer = await fake_slack.wait_for("chat.postMessage")
    text = all_text(answer.params)
    assert "Sorry, I didn't understand “what is the meaning of life?”" in text
    assert all(f"*{entry.example}*" in text for entry in GRAMMAR)
    assert "/plan help" in text
    assert block_ids(answer) == [AskBlock.ANSWER, AskBlock.EXAMPLES, AskBlock.NOTE]


async def test_an_unlinked_workspace_is_told_how_to_link(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert (await slack.event(dm("how much storage is left?"), team="T0NOTLINKED")).status == 200
    answer = await fake_slack.wait_for("chat.postMessage")
    assert answer.params["channel"] == DM
    assert "isn't linked" in all_text(answer.params)


# -------------------------------------------------------------------------------- @-mentions


async def test_a_mention_is_answered_in_its_thread_naming_admins_without_notifying_them(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await slack.event(mention("who are our admins?", ts="1763600200.000300"))).status == 200
    answer = await fake_slack.wait_for("chat.postMessage")
    assert (answer.params["channel"], answer.params["thread_ts"]) == (CHANNEL, "1763600200.000300")
    text = all_text(answer.params)
    assert f"*User {ADMIN}*" in text, "named (users.info)"
    assert f"<@{ADMIN}>" not in text, "a mention would notify them"


async def test_an_answer_in_a_dm_mentions_the_admins(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert (await slack.event(dm("admins?"))).status == 200
    assert f"<@{ADMIN}>" in all_text((await fake_slack.wait_for("chat.postMessage")).params)


async def test_a_mention_in_a_thread_is_answered_in_that_thread(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    asked = mention("what plan are we on?", ts="1763600300.000400", thread_ts="1763600000.000001")
    assert (await slack.event(asked)).status == 200
    answer = await fake_slack.wait_for("chat.postMessage")
    assert (answer.params["channel"], answer.params["thread_ts"]) == (CHANNEL, "1763600000.000001")
    assert "BUSINESS" in all_text(answer.params)


def shared_channel_body(event: dict[str, Any]) -> str:
    body = json.loads(event_body(event, team_id=TEAM))
    body["is_ext_shared_channel"] = True
    return json.dumps(body)


async def test_in_a_shared_channel_the_answer_goes_to_the_asker_only(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    body = shared_channel_body(mention("when do we renew?", user_team=TEAM))
    assert (await slack.post(body, content_type="application/json")).status == 200
    answer = await fake_slack.wait_for("chat.postEphemeral")
    assert (answer.params["channel"], answer.params["user"]) == (CHANNEL, ADMIN)
    assert answer.params["thread_ts"] == "1763600200.000300"
    assert RENEWAL in all_text(answer.params)
    assert not fake_slack.calls_to("chat.postMessage")


async def test_an_outsider_is_refused_privately_in_the_thread(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.users["U0GUEST"] = {"team_id": "T0OTHER"}
    body = shared_channel_body(
        mention("how many voice minutes are left?", user="U0GUEST", user_team="T0OTHER")
    )
    assert (await slack.post(body, content_type="application/json")).status == 200
    refusal = await fake_slack.wait_for("chat.postEphemeral")
    assert (refusal.params["user"], refusal.params["thread_ts"]) == ("U0GUEST", "1763600200.000300")
    text = all_text(refusal.params)
    assert "only for members of the workspace" in text
    assert "voice" not in text.lower()
    assert not fake_slack.calls_to("chat.postMessage")


# -------------------------------------------------------------------------------- rights


@pytest.mark.fake_clock
@pytest.mark.parametrize(("user", "sees_requests"), [(ADMIN, True), (STAFF, False)])
async def test_upgrade_requests_in_the_week_are_the_administrators(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, user: str, sees_requests: bool
) -> None:
    plan = await store.accounts.snapshot("demo")
    draft = UpgradeDraft(
        account_id="demo",
        team_id=TEAM,
        requested_by=ADMIN,
        kind=UpgradeKind.VOICE_MINUTES,
        quantity=2000,
        evidence=Evidence.of(plan),
    )
    request, _ = await store.upgrades.create(draft, now=DEMO_NOW - timedelta(days=1))

    assert (await slack.event(dm("what changed this week?", user=user))).status == 200
    answer = await fake_slack.wait_for("chat.postMessage")
    assert block_ids(answer)[:2] == [DigestBlock.DIGEST_WEEK, DigestBlock.DIGEST_CHANGES]
    text = all_text(answer.params)
    assert "*What changed since last week*" in text
    assert "Voice call minutes:" in text
    assert (f"(`{request.id}`): opened by <@{ADMIN}>" in text) is sees_requests
    assert ("Upgrade requests are shown to administrators only." in text) is not sees_requests


# -------------------------------------------------------------------------------- never answered


async def test_the_apps_own_and_other_bots_messages_edits_and_deletions_are_not_answered(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    ignored = [
        dm("When do we renew?", user=BOT_USER_ID, bot_id=BOT_ID),  # the app's own answer
        dm("When do we renew?", user=BOT_USER_ID, bot_id=BOT_ID, thread_ts=THREAD),  # … in a thread
        dm("When do we renew?", user="U0OTHERBOT", bot_id="B0OTHER"),  # another app's
        dm("When do we renew?", bot_id="B0CLASSIC", subtype="bot_message"),
        dm(
            "When do we renew?",
            subtype="message_changed",
            message={"text": "When do we renew?", "user": ADMIN},
        ),
        dm("", subtype="message_deleted", previous_message={"text": "When do we renew?", "user": ADMIN}),
        dm("When do we renew?", subtype="channel_join"),
        mention("When do we renew?", edited={"user": ADMIN, "ts": "1763600201.000000"}),
    ]
    for event in ignored:
        assert (await slack.event(event)).status == 200
    assert (await slack.event(dm("who are our admins?", ts="1763600999.000900"))).status == 200
    answer = await fake_slack.wait_for("chat.postMessage")
    assert "administrators" in all_text(answer.params)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1, "only the person's question was answered"
    assert not fake_slack.calls_to("chat.postEphemeral")
    assert not fake_slack.calls_to("assistant.threads.setStatus")


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (dm("hi"), Asked(ADMIN, DM, "hi", "1763600100.000200", None, in_channel=False, shared=False)),
        (
            dm("hi", thread_ts=THREAD),
            Asked(ADMIN, DM, "hi", "1763600100.000200", THREAD, in_channel=False, shared=False),
        ),
        (
            dm("a file", subtype="file_share"),
            Asked(ADMIN, DM, "a file", "1763600100.000200", None, False, False),
        ),
        (
            mention("hi"),
            Asked(
                ADMIN, CHANNEL, f"<@{BOT_USER_ID}> hi", "1763600200.000300", "1763600200.000300", True, False
            ),
        ),
        (dm("hi", bot_id=BOT_ID), None),
        (dm("hi", subtype="bot_message"), None),
        (dm("hi", subtype="message_changed"), None),
        (dm("hi", subtype="message_deleted"), None),
        (mention("hi", edited={"user": ADMIN}), None),
        ({**dm("hi"), "channel_type": "channel"}, None),
        ({**dm("hi"), "user": None}, None),
        (thread_started(), None),
        ({"type": "app_home_opened", "user": ADMIN, "tab": "messages"}, None),
    ],
)
def test_which_events_are_questions(event: dict[str, Any], expected: Asked | None) -> None:
    assert Asked.of({"type": "event_callback", "event": event}) == expected


def test_the_manifest_has_the_events_scopes_and_features_questions_need() -> None:
    manifest = json.loads((Path(__file__).resolve().parents[1] / "manifest.json").read_text())
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {
        "app_mention",
        "message.im",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    } <= events
    scopes = {"app_mentions:read", "im:history", "assistant:write"}
    assert scopes <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes <= set(BOT_SCOPES)
    features = manifest["features"]
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["app_home"]["messages_tab_read_only_enabled"] is False
    assert features["assistant_view"]["assistant_description"]
