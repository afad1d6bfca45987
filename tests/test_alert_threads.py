"""One alert, one message: a meter's first crossing in a period posts it; each higher crossing updates
it in place and adds one reply in its thread (exactly once, even when Slack loses the answer); a new
period or a bigger allowance resolves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack
from handlers.alerts.service import AlertService
from handlers.alerts.views import AlertRef
from store import Store
from store.domain.account import AllowanceDoc
from store.domain.alerts import AlertStatus, Resolution
from store.domain.plan import Meter
from tests.support.alerting import (
    ACCOUNT,
    ADMIN,
    ONLY_MINUTES,
    in_channels,
    read,
    replies,
    service,
    top_posts,
    updates,
    use_alerts_channel,
)
from tests.support.clock import DEMO_NOW, FakeClock
from tests.support.plans import next_period
from tests.support.slackdriver import all_text

pytestmark = pytest.mark.usefixtures("demo")

VOICE = "voice_minutes"
SECOND_ADMIN = "U0SECONDADMIN"


@pytest.fixture
async def alerts(store: Store, fake_slack: FakeSlack, clock: FakeClock) -> AsyncIterator[AlertService]:
    await use_alerts_channel(store, overrides=ONLY_MINUTES)
    await store.usage.clear(ACCOUNT)
    alerts = service(store, fake_slack, clock)
    yield alerts
    await alerts.close()


async def cross(store: Store, alerts: AlertService, clock: FakeClock, used: int) -> None:
    """Voice minutes reach `used` (of 5,000) an hour later, and what is due is delivered."""
    clock.advance(hours=1)
    await read(store, clock, VOICE, used)
    await alerts.evaluate()
    await alerts.drain()


async def test_higher_crossings_update_the_one_message_and_reply_in_its_thread(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await store.admins.add(ACCOUNT, SECOND_ADMIN, by=ADMIN)
    await cross(store, alerts, clock, 4100)
    (post,) = top_posts(fake_slack)
    ts = post.response["ts"]
    assert "80%" in post.params["text"]
    assert not replies(fake_slack)
    assert not updates(fake_slack)

    await cross(store, alerts, clock, 4600)
    await cross(store, alerts, clock, 5000)

    assert len(top_posts(fake_slack)) == 1, "one message per meter and period"
    ninety, hundred = updates(fake_slack)
    assert ninety.params["ts"] == hundred.params["ts"] == ts, "updated in place"
    assert "90%" in all_text(ninety.params)
    assert "4,600 of 5,000" in all_text(ninety.params)
    assert "used up" in all_text(hundred.params)
    first, second = replies(fake_slack)
    assert first.params["thread_ts"] == second.params["thread_ts"] == ts
    assert "90%" in first.params["text"]
    assert "<@" not in all_text(first.params)
    assert f"<@{ADMIN}>" in all_text(second.params)
    assert f"<@{SECOND_ADMIN}>" in all_text(second.params)
    sent = {a.threshold: a for a in await store.alerts.all_of(ACCOUNT) if a.status == AlertStatus.SENT}
    assert {a.message_ts for a in sent.values()} == {ts}
    assert sent[100].reply_ts == second.response["ts"]
    (actions,) = [b for b in hundred.params["blocks"] if b["type"] == "actions"]
    value = AlertRef.decode(actions["elements"][0]["value"])
    assert value is not None
    assert value.id == sent[100].id, "the buttons act on the alert the message shows"


async def test_a_first_post_already_running_out_calls_the_administrators_in(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await store.admins.add(ACCOUNT, SECOND_ADMIN, by=ADMIN)
    await cross(store, alerts, clock, 5000)
    (post,) = top_posts(fake_slack)
    assert "used up" in all_text(post.params)
    assert f"<@{ADMIN}>" in all_text(post.params)
    assert f"<@{SECOND_ADMIN}>" in all_text(post.params)
    assert not replies(fake_slack)


async def test_an_early_first_post_calls_nobody_in(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await cross(store, alerts, clock, 4600)
    (post,) = top_posts(fake_slack)
    assert "<@" not in all_text(post.params)


async def test_a_reply_slack_stored_without_saying_so_is_not_replied_twice(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await cross(store, alerts, clock, 4100)
    (post,) = top_posts(fake_slack)
    fake_slack.fail("chat.postMessage", status=500, stored=True)
    await cross(store, alerts, clock, 4600)
    (ninety,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.threshold == 90]
    assert ninety.status == AlertStatus.PENDING
    assert ninety.may_be_posted

    clock.advance(seconds=61)  # the wait before a lookup
    await alerts.drain()
    (ninety,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.threshold == 90]
    assert ninety.status == AlertStatus.SENT
    thread = [m for m in fake_slack.messages["C0ALERTS"] if m.get("thread_ts") == post.response["ts"]]
    assert len(thread) == 1, "the stored reply was found in the thread, not posted again"
    assert ninety.reply_ts == thread[0]["ts"]
    assert fake_slack.calls_to("conversations.replies"), "looked up in the thread"


async def test_a_new_period_resolves_the_message(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await cross(store, alerts, clock, 4600)
    (post,) = top_posts(fake_slack)

    clock.now = datetime(2026, 12, 5, 10, tzinfo=UTC)
    renewed = next_period(demo_document(DEMO_NOW))
    await store.accounts.upsert(ACCOUNT, renewed, now=clock.now)
    assert await alerts.resolve() == 1
    (resolved,) = updates(fake_slack)
    assert resolved.params["ts"] == post.response["ts"]
    text = all_text(resolved.params)
    assert "Resolved" in text
    assert "billing period renewed" in text
    assert await alerts.resolve() == 0, "resolved once"


async def test_a_bigger_allowance_resolves_the_message_saying_why(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await cross(store, alerts, clock, 4600)
    (post,) = top_posts(fake_slack)

    await set_voice_allowance(store, clock, 10_000, 4600)
    await alerts.on_usage(ACCOUNT)
    await alerts.idle()

    (resolved,) = updates(fake_slack)
    assert resolved.params["ts"] == post.response["ts"]
    text = all_text(resolved.params)
    assert "allowance was raised to 10,000 min" in text
    assert "below 90%" in text
    (alert,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.status == AlertStatus.SENT]
    assert alert.resolution == Resolution.ALLOWANCE_RAISED
    assert not any(b.get("type") == "actions" and len(b["elements"]) > 1 for b in resolved.params["blocks"])


async def set_voice_allowance(store: Store, clock: FakeClock, available: int, used: int) -> None:
    """The account's voice allowance is now `available` (an upgrade or a downgrade applied), `used` used."""
    doc = demo_document(DEMO_NOW)
    allowances = dict(doc.allowances)
    allowances[Meter.VOICE_MINUTES] = AllowanceDoc(available=Decimal(available), used=Decimal(used))
    await store.accounts.upsert(ACCOUNT, doc.model_copy(update={"allowances": allowances}), now=clock.now)


async def test_a_reply_whose_outcome_was_lost_is_found_in_its_thread_before_the_message_resolves(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    """The 90% reply is stored but answered 500, and an upgrade arrives before it is looked up: the
    message stays open until the reply is found in its thread (were it resolved first, the reply would be
    looked for among the channel's messages, where a reply never is, and posted again), then resolves."""
    await cross(store, alerts, clock, 4100)  # 80%: the message
    (post,) = top_posts(fake_slack)
    fake_slack.fail("chat.postMessage", status=500, stored=True)
    await cross(store, alerts, clock, 4600)  # 90%: the message updated, the reply stored, answered 500
    (ninety,) = [a for a in await store.alerts.all_of(ACCOUNT) if a.threshold == 90]
    assert (ninety.status, ninety.may_be_posted) == (AlertStatus.PENDING, True)

    await set_voice_allowance(store, clock, 10_000, 4600)
    await alerts.on_usage(ACCOUNT)
    await alerts.idle()
    assert await alerts.resolve() == 0, "not while the reply may be in the thread unseen"
    clock.advance(seconds=61)
    await alerts.drain()
    assert (await store.alerts.get(ACCOUNT, ninety.id)).status == AlertStatus.SENT, "found in the thread"
    assert await alerts.resolve() == 1

    assert in_channels(fake_slack)[ninety.id] == 1, "in Slack once"
    assert len(top_posts(fake_slack)) == 1
    assert "allowance was raised to 10,000 min" in all_text(updates(fake_slack)[-1].params)
    assert updates(fake_slack)[-1].params["ts"] == post.response["ts"]


async def test_a_raised_allowance_starts_the_thresholds_afresh_in_a_new_message(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await cross(store, alerts, clock, 4100)  # 80% of 5,000
    (first,) = top_posts(fake_slack)
    assert "80%" in first.params["text"]

    await set_voice_allowance(store, clock, 10_000, 4100)  # an upgrade applied
    await alerts.on_usage(ACCOUNT)
    await alerts.idle()
    (resolved,) = updates(fake_slack)
    assert resolved.params["ts"] == first.response["ts"]
    assert "allowance was raised to 10,000 min" in all_text(resolved.params)

    await cross(store, alerts, clock, 8100)  # 80% of 10,000: the 80% threshold again, at the new allowance
    old, new = top_posts(fake_slack)
    assert old is first
    assert new.response["ts"] != first.response["ts"], "a new message, not an update of the resolved one"
    assert "80%" in new.params["text"]
    assert "8,100 of 10,000" in all_text(new.params)
    assert len(updates(fake_slack)) == 1, "the resolved message stays resolved"
    assert not replies(fake_slack)

    await cross(store, alerts, clock, 9100)  # 90% of 10,000
    assert len(top_posts(fake_slack)) == 2
    _, ninety = updates(fake_slack)
    assert ninety.params["ts"] == new.response["ts"], "the new message is updated in place"
    assert "9,100 of 10,000" in all_text(ninety.params)
    (reply,) = replies(fake_slack)
    assert reply.params["thread_ts"] == new.response["ts"]
    assert "90%" in reply.params["text"]

    sent = [a for a in await store.alerts.all_of(ACCOUNT) if a.status == AlertStatus.SENT]
    assert [(a.threshold, a.available, a.message_ts) for a in sent] == [
        (80, Decimal(5000), first.response["ts"]),
        (80, Decimal(10_000), new.response["ts"]),
        (90, Decimal(10_000), new.response["ts"]),
    ]
    assert sent[0].resolution == Resolution.ALLOWANCE_RAISED
    assert sent[1].resolution is None
    assert sent[2].resolution is None

    await cross(store, alerts, clock, 9200)  # nothing new crossed: nothing repeated
    assert len(top_posts(fake_slack)) == 2
    assert len(replies(fake_slack)) == 1


async def test_an_alert_not_yet_posted_when_its_allowance_changed_is_withdrawn(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    await read(store, clock, VOICE, 4100)  # 82% of 5,000
    await alerts.evaluate()  # claimed, not yet posted (a quiet hour, a busy channel…)
    await set_voice_allowance(store, clock, 10_000, 4100)  # the upgrade lands first: 41% of 10,000
    assert await store.alerts.due(clock.now) == []
    await alerts.evaluate()
    await alerts.drain()
    assert not top_posts(fake_slack), "80% of an allowance the account no longer has is not news"
    assert await store.alerts.all_of(ACCOUNT) == [], "withdrawn: it was never in Slack"

    await set_voice_allowance(store, clock, 5000, 4100)  # the change was a mistake, and is taken back
    await alerts.evaluate()
    await alerts.drain()
    (post,) = top_posts(fake_slack)
    assert "80%" in post.params["text"], "the crossing at the allowance back in force is claimed afresh"
    assert "4,100 of 5,000" in all_text(post.params)


async def test_a_lowered_allowance_starts_the_thresholds_afresh_too(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await cross(store, alerts, clock, 4100)  # 80% of 5,000
    await set_voice_allowance(store, clock, 4500, 4100)  # a downgrade: 91% of 4,500
    await alerts.evaluate()
    await alerts.drain()
    _, second = top_posts(fake_slack)
    assert "90%" in second.params["text"], "only the highest crossing at the new allowance is posted"
    assert "4,100 of 4,500" in all_text(second.params)
    assert not replies(fake_slack)
    statuses = sorted((a.threshold, a.available, a.status) for a in await store.alerts.all_of(ACCOUNT))
    assert statuses == [
        (80, Decimal(4500), AlertStatus.SUPERSEDED),
        (80, Decimal(5000), AlertStatus.SENT),
        (90, Decimal(4500), AlertStatus.SENT),
    ]
