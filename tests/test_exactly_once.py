"""Exactly once at the edge of Slack.

Slack sometimes stores a message and still fails to say so: it answers 500, or not at all, or the
connection drops. Every alert must then be in its channel once, none lost; a Sales post at most once,
with its requester told the truth. Also 429s, a history Slack will not let us read yet, a crash, a lease
that runs out, and two workers at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from bot.demo import demo_document
from bot.devtools.fake_calls import Lost
from bot.devtools.fake_slack import DROP, TIMEOUT, FakeSlack, Fault
from bot.devtools.signing import block_actions_payload
from bot.settings import Settings
from handlers.alerts.service import AlertService
from handlers.slack_clients import build_client
from handlers.upgrade.ids import Action as UpgradeAction
from store import Store
from store.domain.alerts import Alert, AlertRules, AlertStatus
from store.domain.upgrades import Delivery, UpgradeRequest
from tests.support.alerting import ADMIN, in_channels, service, slack_provider
from tests.support.clock import DEMO_NOW, FakeClock
from tests.support.slackdriver import TEAM, SlackDriver, all_text
from tests.support.upgrade import upgrade_state

UNCONFIRMED_DELAY = timedelta(seconds=60)
SALES = "C0SALES"
REQUESTER = "U0DEMOADMIN"  # the demo account's administrator, who asks Sales for more


# ------------------------------------------------------------------------------------------ helpers


async def accounts_with_alerts_due(store: Store, count: int) -> list[str]:
    """`count` accounts, each linked to its own workspace, with its own alerts channel and three alerts
    due (staff licences and two features are at 80% in the sample plan); their channels."""
    channels = []
    for n in range(count):
        account = f"acct{n}"
        await store.accounts.upsert(account, demo_document(DEMO_NOW), now=DEMO_NOW)
        await store.workspaces.link(f"T0ACCT{n}", account)
        await store.alerts.save_rules(account, AlertRules(channel=f"C0ACCT{n}"), by=ADMIN, now=DEMO_NOW)
        channels.append(f"C0ACCT{n}")
    return channels


async def outbox(
    store: Store, fake: FakeSlack, clock: FakeClock, *, accounts: int = 4, **tuning: Any
) -> tuple[AlertService, list[Alert]]:
    """The alert service, posting with production's transport retries, and the alerts it has to post."""
    await accounts_with_alerts_due(store, accounts)
    options: dict[str, Any] = {"provider": slack_provider(fake), "post_timeout": 2.0, **tuning}
    alerts = service(store, fake, clock, **options)
    due = await alerts.evaluate()
    assert len(due) == 3 * accounts
    return alerts, due


async def all_alerts(store: Store, accounts: int = 4) -> list[Alert]:
    return [a for n in range(accounts) for a in await store.alerts.all_of(f"acct{n}")]


async def settle(
    workers: list[AlertService], store: Store, clock: FakeClock, *, accounts: int = 4, rounds: int = 12
) -> int:
    """Deliver, then move the clock past the wait for a history read, until every alert is sent; the
    rounds that took."""
    for round_ in range(1, rounds + 1):
        for worker in workers:
            await worker.drain()
        if {a.status for a in await all_alerts(store, accounts)} == {AlertStatus.SENT}:
            return round_
        clock.advance(seconds=UNCONFIRMED_DELAY.total_seconds() + 1)
    raise AssertionError(f"not every alert was sent after {rounds} rounds")


def once_each(alerts: list[Alert]) -> dict[int, int]:
    return {alert.id: 1 for alert in alerts}


def posts_to(fake: FakeSlack, channel: str) -> int:
    return len([c for c in fake.calls_to("chat.postMessage") if c.params.get("channel") == channel])


# ---------------------------------------------------------------------------- the transport itself


async def test_the_transport_resends_only_what_is_safe_to_repeat(
    fake_slack: FakeSlack, settings: Settings
) -> None:
    client = build_client(settings)  # bolt's: each request's client gets copies of its retry handlers

    fake_slack.fail("chat.postMessage", status=500, stored=True)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C1", text="hi")
    fake_slack.fail("chat.postMessage", status=DROP, stored=True)
    with pytest.raises(aiohttp.ClientError):
        await client.chat_postMessage(channel="C1", text="hi again")
    assert len(fake_slack.calls_to("chat.postMessage")) == 2, "neither re-sent"
    assert [m["text"] for m in fake_slack.messages["C1"]] == ["hi", "hi again"], "each stored once"

    fake_slack.fail("chat.postMessage", status=429, retry_after=0)
    assert (await client.chat_postMessage(channel="C2", text="later"))["ok"], "a 429 stores nothing: retried"
    assert len(fake_slack.messages["C2"]) == 1

    fake_slack.fail("users.info", status=503)
    fake_slack.fail("conversations.info", status=DROP)
    assert (await client.users_info(user="U1"))["ok"], "reads are retried"
    assert (await client.conversations_info(channel="C1"))["ok"]
    assert [c.status for c in fake_slack.calls_to("users.info")] == [503, 200]


# ----------------------------------------------------------------------------------- alerts


@pytest.mark.parametrize("answer", [500, 503, TIMEOUT, DROP])
async def test_alerts_slack_stored_without_saying_so_are_in_their_channels_once(
    store: Store, fake_slack: FakeSlack, clock: FakeClock, answer: int | Lost
) -> None:
    # Long enough for the transport to retry within it, were it to; short enough to wait out a TIMEOUT.
    alerts, due = await outbox(store, fake_slack, clock, post_timeout=0.5 if answer == TIMEOUT else 2.0)
    fake_slack.fail("chat.postMessage", status=answer, stored=True, times=len(due))

    first = await alerts.drain()
    stored = in_channels(fake_slack)
    assert set(stored.values()) == {1}, "stored once each: nothing re-sent"
    assert len(stored) == 4, "one post per channel: the channel waits until that one is looked up"
    assert first.sent == 0
    clock.advance(seconds=59)
    assert (await alerts.drain()).claimed == 0, "not before the history may be read"
    clock.advance(seconds=1)
    await settle([alerts], store, clock)

    assert in_channels(fake_slack) == once_each(due)
    assert len(fake_slack.calls_to("chat.postMessage")) == len(due), "each posted once, then found"
    for alert in await all_alerts(store):
        (message,) = [
            m
            for m in fake_slack.messages[alert.channel or ""]
            if m["metadata"]["event_payload"]["alert_id"] == alert.id
        ]
        assert (alert.status, alert.message_ts) == (AlertStatus.SENT, message["ts"])
    await alerts.close()


async def test_an_alert_of_unknown_outcome_is_found_where_it_went_though_the_channel_moved(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    """Stored but answered 500; an administrator picks another alerts channel before the lookup: the alert
    is looked up in the channel it went to, not posted again in the new one."""
    alerts, due = await outbox(store, fake_slack, clock, accounts=1)
    fake_slack.fail("chat.postMessage", status=500, stored=True)
    await alerts.drain()
    (uncertain,) = [a for a in await all_alerts(store, 1) if a.may_be_posted]
    await store.alerts.save_rules("acct0", AlertRules(channel="C0NEWCHAN"), by=ADMIN, now=clock())

    await settle([alerts], store, clock, accounts=1)

    assert in_channels(fake_slack) == once_each(due)
    found = await store.alerts.get("acct0", uncertain.id)
    (message,) = [
        m
        for m in fake_slack.messages[found.channel or ""]
        if m["metadata"]["event_payload"]["alert_id"] == found.id
    ]
    assert found.channel != "C0NEWCHAN", "found where it went"
    assert found.message_ts == message["ts"]
    await alerts.close()


async def test_an_alert_slack_did_not_store_is_looked_up_then_posted_once(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    alerts, due = await outbox(store, fake_slack, clock, accounts=1)
    fake_slack.fail("chat.postMessage", status=500)
    await alerts.drain()
    assert in_channels(fake_slack) == {}, "the other two wait for the first one's lookup"
    clock.advance(seconds=60)
    assert (await alerts.drain()).sent == 3
    assert in_channels(fake_slack) == once_each(due)
    methods = [c.method for c in fake_slack.calls]
    assert methods == ["chat.postMessage", "conversations.history", *["chat.postMessage"] * 3], (
        "looked up before it was posted again"
    )
    await alerts.close()


async def test_a_lookup_slack_rate_limits_waits_and_never_posts_blind(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    alerts, due = await outbox(store, fake_slack, clock, accounts=1)
    fake_slack.fail("chat.postMessage", status=500, stored=True)
    await alerts.drain()
    fake_slack.fail("conversations.history", status=429, retry_after=120)
    clock.advance(seconds=60)
    await alerts.drain()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1, "no post while the history cannot be read"
    assert [c.status for c in fake_slack.calls_to("conversations.history")] == [429], "not retried at once"
    clock.advance(seconds=119)
    assert (await alerts.drain()).claimed == 0, "Retry-After is honoured"
    clock.advance(seconds=1)
    assert (await alerts.drain()).sent == 3
    assert in_channels(fake_slack) == once_each(due)
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    await alerts.close()


async def test_history_is_read_at_most_once_per_interval_per_workspace(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    alerts, due = await outbox(store, fake_slack, clock, accounts=1, history_interval=timedelta(minutes=5))
    fake_slack.fail("chat.postMessage", status=500, times=2)
    await alerts.drain()
    clock.advance(seconds=60)
    await alerts.drain()  # read (not there), posted again: 500 again
    clock.advance(seconds=60)
    await alerts.drain()  # a second read would be too soon: it waits, and so does the channel
    assert len(fake_slack.calls_to("conversations.history")) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    clock.advance(seconds=239)  # five minutes after the first read
    assert (await alerts.drain()).claimed == 0
    clock.advance(seconds=1)
    assert (await alerts.drain()).sent == 3
    assert len(fake_slack.calls_to("conversations.history")) == 2
    assert in_channels(fake_slack) == once_each(due)
    await alerts.close()


async def test_later_alerts_wait_so_the_lost_one_stays_on_the_page_the_lookup_reads(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    """Outside the Marketplace a history read returns the newest 15 messages; here 2, and 3 alerts."""
    fake_slack.history_page = 2
    alerts, due = await outbox(store, fake_slack, clock, accounts=1)
    fake_slack.fail("chat.postMessage", status=500, stored=True)
    await alerts.drain()
    clock.advance(seconds=60)
    await alerts.drain()
    assert in_channels(fake_slack) == once_each(due), "found on the page, not posted again"
    assert {a.status for a in await all_alerts(store, 1)} == {AlertStatus.SENT}
    await alerts.close()


async def test_429s_are_retried_without_a_lookup(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    alerts, due = await outbox(store, fake_slack, clock, accounts=1, provider=None)  # no transport retry
    fake_slack.fail("chat.postMessage", status=429, retry_after=30, times=2)
    await alerts.drain()
    clock.advance(seconds=30)
    assert (await alerts.drain()).sent == 2
    assert in_channels(fake_slack) == once_each(due)
    assert fake_slack.calls_to("conversations.history") == [], "a 429 stores nothing: nothing to look up"
    await alerts.close()


async def test_a_crash_after_a_post_that_followed_a_429_is_not_posted_again(
    store: Store, database_url: str, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    alerts, due = await outbox(store, fake_slack, clock, accounts=1, provider=None)
    fake_slack.fail("chat.postMessage", status=429, retry_after=30)
    await alerts.drain()  # the first alert: 429; the other two posted
    clock.advance(seconds=30)
    fake_slack.delay("chat.postMessage", 5)  # it lands; the process dies before hearing back
    doomed = asyncio.create_task(alerts.deliver_due())
    await fake_slack.wait_for("chat.postMessage", count=4)
    doomed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await doomed
    fake_slack.delay("chat.postMessage", 0)

    restarted = service(Store.from_url(database_url), fake_slack, clock)
    try:
        clock.advance(
            minutes=5
        )  # its lease runs out: taken over, and looked up although its last error was a 429
        assert (await restarted.deliver_due()).sent == 1
    finally:
        await restarted.store.close()
    assert in_channels(fake_slack) == once_each(due)
    await alerts.close()


async def test_an_alert_whose_lease_ran_out_while_it_waited_is_not_posted_by_its_first_claimant(
    store: Store, database_url: str, fake_slack: FakeSlack, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow, due = await outbox(store, fake_slack, clock, accounts=1)
    other = service(Store.from_url(database_url), fake_slack, clock, provider=slack_provider(fake_slack))
    let_go = slow.pacer.wait

    async def stalled(channel: str) -> None:
        """The first claimant stalls past its lease; meanwhile another worker takes the alerts over."""
        monkeypatch.setattr(slow.pacer, "wait", let_go)
        clock.advance(minutes=5, seconds=1)
        assert (await other.drain()).sent == 3
        await let_go(channel)

    monkeypatch.setattr(slow.pacer, "wait", stalled)
    try:
        report = await slow.deliver_due()
        assert report.sent == 0, "its lease ran out: it posts nothing"
    finally:
        await other.store.close()
    assert in_channels(fake_slack) == once_each(due)
    assert {a.status for a in await all_alerts(store, 1)} == {AlertStatus.SENT}
    await slow.close()


async def test_two_workers_and_random_faults_post_every_alert_once(
    store: Store, database_url: str, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    first, due = await outbox(store, fake_slack, clock, accounts=6, post_timeout=0.5)
    second = service(
        Store.from_url(database_url), fake_slack, clock, provider=slack_provider(fake_slack), post_timeout=0.5
    )
    fake_slack.fail_at_random(
        "chat.postMessage",
        {
            Fault(500, stored=True): 0.15,
            Fault(503): 0.1,
            Fault(DROP, stored=True): 0.1,
            Fault(TIMEOUT, stored=True): 0.05,
            Fault(TIMEOUT): 0.05,
        },
        seed=7,
    )
    fake_slack.fail_at_random(
        "conversations.history", {Fault(500): 0.2, Fault(429, retry_after=30): 0.2}, seed=8
    )
    try:
        await settle([first, second], store, clock, accounts=6, rounds=30)
    finally:
        await second.store.close()
    assert in_channels(fake_slack) == once_each(due)
    assert any(c.stored and not c.ok for c in fake_slack.calls_to("chat.postMessage")), "faults were injected"
    await first.close()


# ------------------------------------------------------------------------------- a Sales post


async def open_upgrade_modal(slack: SlackDriver, fake_slack: FakeSlack) -> dict[str, Any]:
    click = block_actions_payload(
        team_id=TEAM,
        user_id=REQUESTER,
        action_id=UpgradeAction.UPGRADE_OPEN,
        response_url=fake_slack.new_response_url(),
    )
    assert (await slack.interact(click)).status == 200
    view: dict[str, Any] = (await fake_slack.wait_for("views.open")).params["view"]
    return view


async def request_more_minutes(slack: SlackDriver, view: dict[str, Any]) -> None:
    state = upgrade_state(kind="voice_minutes", quantity="500")
    response = await slack.submit(view, state, user=REQUESTER)
    assert response.status == 200
    text = await response.text()
    assert not text or json.loads(text) == {}, "accepted: the modal closes"


async def submitted_with(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, fault: Callable[[], None]
) -> tuple[UpgradeRequest, str]:
    """Submit an upgrade request with `fault` injected first; the stored request and what its requester
    was told."""
    view = await open_upgrade_modal(slack, fake_slack)
    fault()
    await request_more_minutes(slack, view)
    told = await fake_slack.wait_for(
        "chat.postMessage", where=lambda c: c.ok and c.params.get("channel") == REQUESTER
    )
    [request] = await store.upgrades.recent("demo")
    return request, all_text(told.params)


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("answer", [500, DROP])
async def test_a_sales_post_slack_stored_without_saying_so_is_posted_once_and_counted_delivered(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, answer: int | Lost
) -> None:
    request, told = await submitted_with(
        slack, fake_slack, store, lambda: fake_slack.fail("chat.postMessage", status=answer, stored=True)
    )
    assert posts_to(fake_slack, SALES) == 1, "not re-sent"
    [message] = fake_slack.messages[SALES]
    assert (request.delivery, request.sales_ts) == (Delivery.DELIVERED, message["ts"])
    assert "is with the Sales team" in told


@pytest.mark.usefixtures("demo")
async def test_a_sales_post_slack_did_not_store_is_reported_undelivered(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    request, told = await submitted_with(
        slack, fake_slack, store, lambda: fake_slack.fail("chat.postMessage", status=500)
    )
    assert posts_to(fake_slack, SALES) == 1
    assert SALES not in fake_slack.messages
    assert (request.delivery, request.delivery_error) == (Delivery.FAILED, "internal_error")
    assert "could not be posted to the Sales channel" in told
    assert len(fake_slack.calls_to("conversations.history")) == 1, "looked for before saying so"


@pytest.mark.usefixtures("demo")
async def test_a_sales_post_that_cannot_be_confirmed_is_reported_as_such(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    def stored_and_unreadable() -> None:
        fake_slack.fail("chat.postMessage", status=500, stored=True)
        fake_slack.fail("conversations.history", status=429, retry_after=60)

    request, told = await submitted_with(slack, fake_slack, store, stored_and_unreadable)
    assert posts_to(fake_slack, SALES) == 1, "at most one Sales post"
    assert len(fake_slack.messages[SALES]) == 1
    assert (request.delivery, request.delivery_error) == (Delivery.FAILED, "unconfirmed: internal_error")
    assert "Slack did not confirm that it reached the Sales channel" in told
    assert "could not be posted" not in told
