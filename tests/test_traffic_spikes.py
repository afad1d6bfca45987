"""Spike and toll-fraud alerts: weeks of steady traffic, then a burst to a premium-rate prefix, end to end
(ingest API → claimed with the traffic → posted once → Block, It's expected, Snooze → the platform)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import AnyHttpUrl

from bot.demo import DEMO_ACCOUNT
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import block_actions_payload
from bot.settings import Settings
from bot.traffic.spikes import Baseline, baseline, is_spike
from bot.traffic.webhook import BlockWebhook
from handlers.posting import ChannelPacer
from handlers.traffic.ids import Action
from handlers.traffic.ids import Block as BlockId
from handlers.traffic.spike_alerts import SPIKE_EVENT, SpikeAlerts
from handlers.traffic.spike_views import SpikeRef
from store import Store
from store.domain.rates import RateRow
from store.domain.traffic import SpikeClaim, SpikeStatus
from tests.conftest import INGEST_TOKEN
from tests.support.alerting import ADMIN, ALERTS_CHANNEL, set_alerts_channel
from tests.support.apiclient import IngestApi
from tests.support.clock import FakeClock
from tests.support.slackdriver import STAFF, TEAM, SlackDriver, all_text
from tests.test_traffic_api import rates, voice

pytestmark = [pytest.mark.usefixtures("demo"), pytest.mark.fake_clock]

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
LATVIA = RateRow(
    dial_code="371",
    iso_code="LV",
    destination="Latvia",
    landline_per_min=Decimal("0.2000"),
    mobile_per_min=Decimal("0.3000"),
    sms_per_message=Decimal("0.0900"),
)


# ----------------------------------------------------------------------------------------- the method


def test_the_baseline_is_the_median_of_past_days_and_ignores_an_outlier() -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    days = {date(2026, 11, 20) - timedelta(days=d): Decimal(100) for d in range(1, 29)}
    days[date(2026, 11, 10)] = Decimal(100_000)  # one wild day
    base = baseline(days, start, history_start=date(2026, 1, 1))
    assert base == Baseline(median=Decimal(50), spread=Decimal(0), days=28)


def test_days_before_the_accounts_first_traffic_are_not_counted() -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    days = {date(2026, 11, 19): Decimal(40), date(2026, 11, 18): Decimal(60)}
    assert baseline(days, start, history_start=date(2026, 11, 16)).days == 4  # 16th to 19th
    assert baseline(days, start, history_start=date(2026, 11, 16)).median == Decimal(10)  # 0, 0, 20, 30


@pytest.mark.parametrize(
    ("volume", "high_risk", "history_days", "expected"),
    [
        (Decimal(200), False, 28, True),  # 4 × a steady 50
        (Decimal(140), False, 28, False),  # under 3 × the median
        (Decimal(200), False, 10, False),  # a new account: not flagged
        (Decimal(40), True, 0, True),  # high risk: a new account, a smaller volume
        (Decimal(9), True, 28, False),  # under the high-risk minimum volume
    ],
)
def test_what_counts_as_a_spike(volume: Decimal, high_risk: bool, history_days: int, expected: bool) -> None:
    steady = Baseline(median=Decimal(50), spread=Decimal(3), days=28)
    base = steady if history_days else Baseline(Decimal(0), Decimal(0), 0)
    assert is_spike(volume, "voice", base, high_risk=high_risk, history_days=history_days) is expected


# ----------------------------------------------------------------------------------------- end to end


class Platform:
    """The billing platform's webhook receiver: records each delivery, answering 500 to the first `fail`."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._arrived = asyncio.Condition()

    async def wait_for(self, count: int) -> None:
        """Until `count` deliveries have arrived (15 seconds at most)."""
        async with asyncio.timeout(15), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        async with self._arrived:
            self._arrived.notify_all()
        if self.fail:
            self.fail -= 1
            return web.Response(status=500)
        return web.json_response({"ok": True})


@pytest.fixture
async def platform() -> AsyncIterator[tuple[Platform, str]]:
    receiver = Platform(fail=1)
    app = web.Application()
    app.router.add_post("/blocks", receiver.handle)
    server = TestServer(app)
    await server.start_server()
    yield receiver, str(server.make_url("/blocks"))
    await server.close()


@pytest.fixture
def settings(settings: Settings, platform: tuple[Platform, str]) -> Settings:
    return settings.model_copy(update={"blocks_webhook_url": AnyHttpUrl(platform[1])})


@pytest.fixture
async def api(demo: Store, http: TestClient) -> IngestApi:  # type: ignore[type-arg]
    await demo.rates.import_table([*rates(), LATVIA], effective_date=date(2026, 10, 1), label="October")
    await set_alerts_channel(demo, DEMO_ACCOUNT, ALERTS_CHANNEL)
    return IngestApi(http)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def send(api: IngestApi, *figures: dict[str, Any]) -> dict[str, Any]:
    sent = await api.call("POST", f"/accounts/{DEMO_ACCOUNT}/traffic", json_body={"traffic": list(figures)})
    assert sent.status == 200, sent.body
    return dict(sent.body)


async def four_steady_weeks(api: IngestApi) -> None:
    """Every day for 28 days: 50 minutes to the UK and 4 to Latvia, at 10:00 and 15:00."""
    figures = []
    for days_ago in range(1, 29):
        day = datetime(2026, 11, 20, tzinfo=UTC) - timedelta(days=days_ago)
        for hour in (10, 15):
            at = iso(day.replace(hour=hour))
            figures += [voice(at, "+44", 25, "landline"), voice(at, "+371", 2)]
    await send(api, *figures)


def burst() -> list[dict[str, Any]]:
    """This morning, three hours of calls to Latvian numbers: 300 minutes, at the landline rate USD 60."""
    return [voice(f"2026-11-20T0{hour}:00:00Z", f"+37190000{hour}0", 100) for hour in (6, 7, 8)]


def spike_posts(fake: FakeSlack) -> list[RecordedCall]:
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if c.ok and (c.params.get("metadata") or {}).get("event_type") == SPIKE_EVENT
    ]


async def spike_posted(fake: FakeSlack) -> RecordedCall:
    return await fake.wait_for(
        "chat.postMessage",
        where=lambda c: c.ok and (c.params.get("metadata") or {}).get("event_type") == SPIKE_EVENT,
    )


def section(params: dict[str, Any], block_id: str) -> str:
    (block,) = [b for b in params["blocks"] if b.get("block_id") == block_id]
    if "fields" in block:
        return "\n".join(f["text"] for f in block["fields"])
    return str(block["text"]["text"] if "text" in block else block["elements"][0]["text"])


def click(action_id: str, spike_id: int, ts: str, fake: FakeSlack, *, user: str = ADMIN) -> dict[str, Any]:
    return block_actions_payload(
        team_id=TEAM,
        user_id=user,
        action_id=action_id,
        value=SpikeRef(id=spike_id).encode(),
        channel_id=ALERTS_CHANNEL,
        message_ts=ts,
        response_url=fake.new_response_url(),
    )


async def test_a_burst_to_a_premium_rate_prefix_posts_one_alert_with_its_cost(
    api: IngestApi, store: Store, fake_slack: FakeSlack
) -> None:
    await four_steady_weeks(api)
    assert not spike_posts(fake_slack), "steady traffic raises nothing"
    await send(api, *burst())
    posted = await spike_posted(fake_slack)
    assert posted.params["channel"] == ALERTS_CHANNEL
    headline = section(posted.params, BlockId.SPIKE_HEADLINE)
    assert "*Possible toll fraud: calls to Latvia*" in headline
    assert "Latvia is known for premium-rate fraud" in headline
    figures = section(posted.params, BlockId.SPIKE_FIGURES)
    assert "*Last 12 hours*\n300 min · USD 60.00" in figures
    # The window began yesterday evening: the 27 days before it since the first traffic, 2 minutes a half-day.
    assert "*Usual for 12 hours*\n2 min (median of 27 days)" in figures
    assert "*Rate*\nUSD 0.2000/minute" in figures
    assert "+3719000060, +3719000070, +3719000080" in figures

    await send(api, *burst())  # the platform sends the same hours again
    await send(api, voice("2026-11-20T09:00:00Z", "+371900009", 50))  # and the next hour, still high
    await api.http.close()  # every post's outcome recorded
    assert len(spike_posts(fake_slack)) == 1, "one alert a day for one destination and kind"
    alert = await store.traffic_alerts.get(spike_id(posted))
    assert (alert.status, alert.message_ts) == (SpikeStatus.SENT, posted.response["ts"])
    (audited,) = [e for e in await store.audit.recent(DEMO_ACCOUNT) if e.action == "traffic.spike"]
    assert audited.after == {
        "spike": alert.id,
        "area": "LV",
        "kind": "voice",
        "quantity": "300",
        "cost": "60",
        "baseline": "2",
    }


def spike_id(posted: RecordedCall) -> int:
    return int(posted.params["metadata"]["event_payload"]["spike_id"])


@pytest.fixture
async def alerted(api: IngestApi, fake_slack: FakeSlack) -> RecordedCall:
    await four_steady_weeks(api)
    await send(api, *burst())
    return await spike_posted(fake_slack)


async def test_block_reaches_the_platform_once_though_the_first_delivery_fails(
    alerted: RecordedCall,
    slack: SlackDriver,
    api: IngestApi,
    store: Store,
    fake_slack: FakeSlack,
    platform: tuple[Platform, str],
    clock: FakeClock,
    settings: Settings,
) -> None:
    receiver, _ = platform
    ts = str(alerted.response["ts"])
    assert (await slack.interact(click(Action.SPIKE_BLOCK, spike_id(alerted), ts, fake_slack))).status == 200
    updated = await fake_slack.wait_for("chat.update", where=lambda c: c.params.get("ts") == ts)
    assert "Block requested by <@U0DEMOADMIN>" in section(updated.params, BlockId.SPIKE_STATE)
    assert "Block destination" not in all_text(updated.params), "blocked: the button goes"
    await receiver.wait_for(1)  # sent at once, answered 500
    await slack.http.close()  # the listener's work done (its webhook attempt recorded)

    webhook = BlockWebhook.from_settings(settings, store, clock=clock)
    assert webhook is not None
    assert await webhook.deliver_due() == 0, "not before its backoff"
    clock.advance(seconds=10)
    assert await webhook.deliver_due() == 1
    clock.advance(hours=2)
    assert await webhook.deliver_due() == 0, "acknowledged: never sent again"
    assert len(receiver.received) == 2
    (first_headers, first_body), (headers, body) = receiver.received
    assert headers["Idempotency-Key"] == first_headers["Idempotency-Key"] == "destination-block-1"
    assert body == first_body, "the same delivery again"
    key = INGEST_TOKEN.encode()
    expected = hmac.new(key, f"v1:{headers['X-MyPlan-Timestamp']}:".encode() + body, hashlib.sha256)
    assert headers["X-MyPlan-Signature"] == f"v1={expected.hexdigest()}"
    sent = json.loads(body)
    assert sent["event"] == "destination_block.requested"
    assert sent["block"] | {"requested_at": None, "updated_at": None} == {
        "id": 1,
        "account_id": DEMO_ACCOUNT,
        "area": "LV",
        "place": "Latvia",
        "kind": "voice",
        "prefixes": ["+3719000060", "+3719000070", "+3719000080"],
        "state": "requested",
        "requested_by": ADMIN,
        "requested_at": None,
        "updated_at": None,
        "note": None,
        "spike_id": spike_id(alerted),
    }

    audit = await store.audit.recent(DEMO_ACCOUNT)
    assert "traffic.block" in {entry.action for entry in audit}


async def test_the_platform_lists_blocks_and_its_confirmation_shows_in_slack(
    alerted: RecordedCall, slack: SlackDriver, api: IngestApi, store: Store, fake_slack: FakeSlack
) -> None:
    ts = str(alerted.response["ts"])
    await slack.interact(click(Action.SPIKE_BLOCK, spike_id(alerted), ts, fake_slack))
    await fake_slack.wait_for("chat.update", where=lambda c: "Block requested" in all_text(c.params))
    listed = await api.call("GET", f"/accounts/{DEMO_ACCOUNT}/destination-blocks")
    assert [(b["area"], b["state"]) for b in listed.body["blocks"]] == [("LV", "requested")]
    path = f"/accounts/{DEMO_ACCOUNT}/destination-blocks/{listed.body['blocks'][0]['id']}"
    confirmed = await api.call("PUT", path, json_body={"state": "confirmed", "note": "IRSF range"})
    assert confirmed.status == 200, confirmed.body
    assert confirmed.body["state"] == "confirmed"
    shown = await fake_slack.wait_for(
        "chat.update", where=lambda c: "the billing platform confirmed it" in all_text(c.params)
    )
    assert shown.params["ts"] == ts
    entry = next(e for e in await store.audit.recent(DEMO_ACCOUNT) if e.action == "traffic.block_state")
    assert (entry.actor, entry.note) == ("billing platform", "IRSF range")
    again = await api.call("PUT", path, json_body={"state": "requested"})
    assert again.status == 422, "only the platform's states"
    other = await api.call(
        "PUT", f"/accounts/{DEMO_ACCOUNT}/destination-blocks/999", json_body={"state": "lifted"}
    )
    assert other.status == 404


async def test_a_second_block_of_a_blocked_destination_says_so(
    alerted: RecordedCall, slack: SlackDriver, store: Store, fake_slack: FakeSlack
) -> None:
    ts = str(alerted.response["ts"])
    for _ in range(2):
        await slack.interact(click(Action.SPIKE_BLOCK, spike_id(alerted), ts, fake_slack))
    told = await fake_slack.wait_for("response_url", where=lambda c: "already blocked" in all_text(c.params))
    assert "Latvia is already blocked" in all_text(told.params)
    assert len(await store.traffic_alerts.blocks(DEMO_ACCOUNT)) == 1


async def test_its_expected_mutes_the_destination_for_seven_days(
    alerted: RecordedCall,
    slack: SlackDriver,
    api: IngestApi,
    store: Store,
    fake_slack: FakeSlack,
    clock: FakeClock,
) -> None:
    ts = str(alerted.response["ts"])
    await slack.interact(click(Action.SPIKE_EXPECTED, spike_id(alerted), ts, fake_slack))
    updated = await fake_slack.wait_for("chat.update", where=lambda c: c.params.get("ts") == ts)
    assert "Marked expected by <@U0DEMOADMIN>" in section(updated.params, BlockId.SPIKE_STATE)
    clock.advance(days=1)
    await send(api, *(voice(f"2026-11-21T0{h}:00:00Z", "+371900001", 100) for h in (6, 7, 8)))
    assert len(spike_posts(fake_slack)) == 1, "muted: tomorrow's burst raises nothing"
    assert "traffic.expected" in {entry.action for entry in await store.audit.recent(DEMO_ACCOUNT)}


async def test_snooze_mutes_the_destination_for_a_day(
    alerted: RecordedCall, slack: SlackDriver, store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    ts = str(alerted.response["ts"])
    await slack.interact(click(Action.SPIKE_SNOOZE, spike_id(alerted), ts, fake_slack))
    updated = await fake_slack.wait_for("chat.update", where=lambda c: c.params.get("ts") == ts)
    assert "Snoozed by <@U0DEMOADMIN> until" in section(updated.params, BlockId.SPIKE_STATE)
    assert await store.traffic_alerts.muted(DEMO_ACCOUNT, clock.now + timedelta(hours=23)) == {
        ("LV", "voice")
    }
    assert await store.traffic_alerts.muted(DEMO_ACCOUNT, clock.now + timedelta(hours=24)) == set()


async def test_without_an_alerts_channel_a_spike_is_kept_not_posted(
    api: IngestApi, store: Store, fake_slack: FakeSlack
) -> None:
    await set_alerts_channel(store, DEMO_ACCOUNT, None)
    await four_steady_weeks(api)
    await send(api, *burst())
    await api.http.close()
    assert not spike_posts(fake_slack)
    (alert,) = [await store.traffic_alerts.get(1)]
    assert (alert.status, alert.error) == (SpikeStatus.SKIPPED, "no alerts channel or linked workspace")


async def test_a_message_update_that_failed_is_made_by_the_worker(
    alerted: RecordedCall, slack: SlackDriver, store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    ts = str(alerted.response["ts"])
    fake_slack.fail("chat.update", error="message_not_found")
    await slack.interact(click(Action.SPIKE_EXPECTED, spike_id(alerted), ts, fake_slack))
    await fake_slack.wait_for("chat.update")
    await slack.http.close()
    spikes = SpikeAlerts(store, services_client(fake_slack), clock=clock)
    assert await spikes.refresh_messages() == 1
    shown = fake_slack.calls_to("chat.update")[-1]
    assert shown.ok
    assert "Marked expected by <@U0DEMOADMIN>" in section(shown.params, BlockId.SPIKE_STATE)
    assert await spikes.refresh_messages() == 0, "caught up"


async def test_only_administrators_act_on_a_spike_alert(
    alerted: RecordedCall, slack: SlackDriver, store: Store, fake_slack: FakeSlack
) -> None:
    ts = str(alerted.response["ts"])
    for action in (Action.SPIKE_BLOCK, Action.SPIKE_EXPECTED, Action.SPIKE_SNOOZE):
        payload = click(action, spike_id(alerted), ts, fake_slack, user=STAFF)
        await slack.interact(payload)
        assert "administrator" in all_text((await reply_to(fake_slack, payload)).params)
    assert await store.traffic_alerts.blocks(DEMO_ACCOUNT) == []
    assert await store.traffic_alerts.muted(DEMO_ACCOUNT, NOW) == set()


async def test_a_post_slack_stored_but_answered_500_is_found_not_posted_twice(
    api: IngestApi, store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await four_steady_weeks(api)
    fake_slack.fail("chat.postMessage", status=500, stored=True)
    await send(api, *burst())
    stored = await fake_slack.wait_for("chat.postMessage")
    await api.http.close()  # the post's outcome recorded
    pending = await store.traffic_alerts.get(spike_id(stored))
    assert (pending.status, pending.may_be_posted) == (SpikeStatus.PENDING, True)
    clock.advance(minutes=1)
    spikes = SpikeAlerts(store, services_client(fake_slack), clock=clock)
    assert await spikes.deliver_due() == 1, "found in the channel's history"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1, "not posted again"
    found = await store.traffic_alerts.get(spike_id(stored))
    assert found.status is SpikeStatus.SENT


def latvia_spike(at: datetime, area: str = "371") -> SpikeClaim:
    return SpikeClaim(
        area=area,
        place="Latvia",
        kind="voice",
        day=at.date(),
        window_start=at - timedelta(hours=12),
        window_end=at,
        quantity=Decimal(300),
        cost=Decimal(60),
        rate=Decimal("0.2"),
        baseline=Decimal(2),
        baseline_days=27,
        high_risk=True,
        prefixes=("+3719000060",),
    )


class TakenOverWhileWaiting(ChannelPacer):
    """The first pass's wait for its channel's slot outlasts its lease: meanwhile another pass takes the
    alert over and posts it."""

    def __init__(self, clock: FakeClock, other: SpikeAlerts) -> None:
        super().__init__(0)
        self.fake_clock, self.other = clock, other

    async def wait(self, channel: str, team_id: str = "") -> None:
        self.fake_clock.advance(minutes=6)  # past the 5-minute lease
        assert await self.other.deliver_due() == 1


async def test_a_pass_that_outlives_its_lease_leaves_the_alert_to_the_pass_that_took_it_over(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await set_alerts_channel(store, DEMO_ACCOUNT, ALERTS_CHANNEL)
    (claimed,) = await store.traffic_alerts.claim(DEMO_ACCOUNT, [latvia_spike(clock())], clock())
    taker = SpikeAlerts(store, services_client(fake_slack), pacer=ChannelPacer(0), clock=clock)
    slow = SpikeAlerts(
        store, services_client(fake_slack), pacer=TakenOverWhileWaiting(clock, taker), clock=clock
    )

    assert await slow.deliver_due() == 0
    assert len(spike_posts(fake_slack)) == 1, "posted once, by the pass that took it over"
    assert (await store.traffic_alerts.get(claimed)).status is SpikeStatus.SENT


async def test_a_late_outcome_does_not_overwrite_the_pass_that_took_the_alert_over(
    store: Store, clock: FakeClock
) -> None:
    await set_alerts_channel(store, DEMO_ACCOUNT, ALERTS_CHANNEL)
    (claimed,) = await store.traffic_alerts.claim(DEMO_ACCOUNT, [latvia_spike(clock())], clock())
    alerts, lease = store.traffic_alerts, timedelta(minutes=5)
    (first,) = await alerts.claim_due(clock(), lease=lease, limit=10)
    (second,) = await alerts.claim_due(clock.advance(minutes=6), lease=lease, limit=10)
    assert await alerts.sent(
        claimed, second.attempts, team_id=TEAM, channel=ALERTS_CHANNEL, ts="1.2", now=clock(), shows=1
    )

    assert not await alerts.retry(claimed, first.attempts, reason="ratelimited", at=clock())
    assert not await alerts.give_up(claimed, first.attempts, SpikeStatus.FAILED, "channel_not_found")
    kept = await alerts.get(claimed)
    assert (kept.status, kept.message_ts) == (SpikeStatus.SENT, "1.2")


async def unconfirmed_spike(store: Store, fake: FakeSlack, clock: FakeClock) -> tuple[int, SpikeAlerts]:
    """A spike alert whose post Slack stored but answered 500, and the delivery that posted it."""
    await set_alerts_channel(store, DEMO_ACCOUNT, ALERTS_CHANNEL)
    (claimed,) = await store.traffic_alerts.claim(DEMO_ACCOUNT, [latvia_spike(clock())], clock())
    spikes = SpikeAlerts(store, services_client(fake), pacer=ChannelPacer(0), clock=clock)
    fake.fail("chat.postMessage", status=500, stored=True)
    assert await spikes.deliver_due() == 0
    return claimed, spikes


async def test_a_post_of_unknown_outcome_is_looked_up_where_it_went_though_the_channel_changed(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    claimed, spikes = await unconfirmed_spike(store, fake_slack, clock)
    await set_alerts_channel(store, DEMO_ACCOUNT, "C0NEWALERTS")  # an administrator moves the alerts

    clock.advance(minutes=2)
    assert await spikes.deliver_due() == 1, "found where it went"
    (posted,) = fake_slack.messages[ALERTS_CHANNEL]
    assert not fake_slack.messages.get("C0NEWALERTS"), "not posted again in the new channel"
    found = await store.traffic_alerts.get(claimed)
    assert (found.status, found.channel, found.message_ts) == (SpikeStatus.SENT, ALERTS_CHANNEL, posted["ts"])


async def test_a_block_clicked_while_the_post_was_unconfirmed_shows_once_the_post_is_found(
    store: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    claimed, spikes = await unconfirmed_spike(store, fake_slack, clock)
    await store.traffic_alerts.block(claimed, by=ADMIN, now=clock(), webhook=False)  # from the message

    clock.advance(minutes=2)
    assert await spikes.deliver_due() == 1, "found in the channel"
    assert await spikes.refresh_messages() == 1, "the message, posted before the block, is updated"
    (updated,) = fake_slack.calls_to("chat.update")
    assert f"Block requested by <@{ADMIN}>" in all_text(updated.params)
    assert await spikes.refresh_messages() == 0, "and then shows it"


async def test_a_webhook_pass_that_outlives_its_lease_does_not_send_what_another_took_over(
    store: Store, clock: FakeClock
) -> None:
    """The first block's answer comes after the sending pass's lease has lapsed; meanwhile another process
    takes both blocks over and sends them."""
    spikes = await store.traffic_alerts.claim(
        DEMO_ACCOUNT, [latvia_spike(clock(), area) for area in ("371", "372")], clock()
    )
    first, second = [
        (await store.traffic_alerts.block(spike, by=ADMIN, now=clock(), webhook=True))[0] for spike in spikes
    ]
    received: list[int] = []
    passes: list[BlockWebhook] = []

    async def slow_platform(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read())["block"]["id"])
        if len(received) == 1:
            clock.advance(minutes=3)  # past the 2-minute lease
            assert await passes[1].deliver_due() == 2
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/blocks", slow_platform)
    async with TestServer(app) as server:
        url = str(server.make_url("/blocks"))
        passes.extend(BlockWebhook(store, url, "key", clock=clock) for _ in range(2))
        assert await passes[0].deliver_due() == 1
        clock.advance(hours=2)
        assert await passes[0].deliver_due() == 0, "both acknowledged, nothing left to send"

    assert received.count(second.id) == 1, "not sent again by the pass whose lease had lapsed"
    assert received.count(first.id) == 2, "in flight as its lease lapsed: kept once by its Idempotency-Key"


async def reply_to(fake: FakeSlack, payload: dict[str, Any]) -> RecordedCall:
    return await fake.wait_for("response_url", where=lambda c: c.url == payload["response_url"])


def services_client(fake: FakeSlack) -> Any:
    from slack_sdk.web.async_client import AsyncWebClient

    async def client_for_team(team_id: str) -> AsyncWebClient:
        return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)

    return client_for_team
