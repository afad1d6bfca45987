"""Helpers for the quota-alert tests: a clock to move by hand, readings, rules, the service."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from slack_sdk.web.async_client import AsyncWebClient

from bot.devtools.fake_slack import FakeSlack, RecordedCall
from handlers.alerts.delivery import ALERT_EVENT, AlertTuning
from handlers.alerts.service import AlertService
from handlers.slack_calls import retry_handlers
from handlers.slack_clients import ClientForTeam
from store import Store
from store.domain.alerts import AlertRules
from store.tables import AccountRow
from store.usage import Reading
from tests.support.clock import DEMO_NOW, FakeClock

ALERTS_CHANNEL = "C0ALERTS"
ACCOUNT = "demo"
ADMIN = "U0DEMOADMIN"
ONLY_MINUTES = dict.fromkeys(
    ("staff_licences", "feature:virtual_numbers", "feature:staff_accounts", "feature:destinations"), ()
)
"""Alert rule overrides that leave the demo account's minute allowances the only meters alerting."""


def plain_provider(fake: FakeSlack) -> ClientForTeam:
    """A client without slack_sdk's own retry handlers, so the outbox's retries are what is tested."""
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)

    async def provide(team_id: str) -> AsyncWebClient | None:
        return client

    return provide


def slack_provider(fake: FakeSlack) -> ClientForTeam:
    """A client with the transport retries production clients have (`handlers.slack_clients.retry_handlers`),
    so that what they may re-send is tested too."""
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=retry_handlers())

    async def provide(team_id: str) -> AsyncWebClient | None:
        return client

    return provide


def service(
    store: Store,
    fake: FakeSlack,
    clock: FakeClock,
    *,
    provider: ClientForTeam | None = None,
    **tuning: object,
) -> AlertService:
    """The alert service on `store`, posting to `fake` (by default through `plain_provider`)."""
    options: dict[str, object] = {"channel_interval": 0.0, "post_timeout": 2.0, **tuning}
    return AlertService(
        store,
        provider or plain_provider(fake),
        clock=clock,
        tuning=AlertTuning(**options),  # type: ignore[arg-type]
    )


async def use_alerts_channel(store: Store, channel: str = ALERTS_CHANNEL, **rules: object) -> None:
    await store.alerts.save_rules(
        ACCOUNT,
        AlertRules(channel=channel, channel_team_id="T0DEMO", **rules),
        by=ADMIN,
        now=DEMO_NOW,
    )


async def read(
    store: Store, clock: FakeClock, meter: str, used: Decimal | float | str, account: str = ACCOUNT
) -> None:
    """A usage reading taken now."""
    await store.usage.record(
        account, [Reading(meter=meter, used=Decimal(str(used)), at=clock.now)], now=clock.now
    )


def posts(fake: FakeSlack, channel: str = ALERTS_CHANNEL) -> list[RecordedCall]:
    """Alert messages Slack accepted in `channel`."""
    return [c for c in fake.calls_to("chat.postMessage") if c.ok and c.params.get("channel") == channel]


def top_posts(fake: FakeSlack, channel: str = ALERTS_CHANNEL) -> list[RecordedCall]:
    """Alert messages Slack accepted in `channel`, replies in threads left out."""
    return [c for c in posts(fake, channel) if not c.params.get("thread_ts")]


def replies(fake: FakeSlack, channel: str = ALERTS_CHANNEL) -> list[RecordedCall]:
    """Replies Slack accepted in threads of `channel`."""
    return [c for c in posts(fake, channel) if c.params.get("thread_ts")]


def updates(fake: FakeSlack, channel: str = ALERTS_CHANNEL) -> list[RecordedCall]:
    """Messages of `channel` Slack accepted updates of."""
    return [c for c in fake.calls_to("chat.update") if c.ok and c.params.get("channel") == channel]


def in_channels(fake: FakeSlack) -> Counter[int]:
    """How many messages of each alert (by id) are in the fake's channels: what people see, including
    messages Slack stored while answering an error."""
    return Counter(
        int(message["metadata"]["event_payload"]["alert_id"])
        for messages in fake.messages.values()
        for message in messages
        if (message.get("metadata") or {}).get("event_type") == ALERT_EVENT
    )


def attempts(fake: FakeSlack, channel: str = ALERTS_CHANNEL) -> list[RecordedCall]:
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("channel") == channel]


async def set_alerts_channel(store: Store, account_id: str, channel: str | None) -> None:
    """Point the account's alerts channel straight at `channel` in the database (no Slack involved)."""
    async with store.db.session() as session:
        row = await session.get(AccountRow, account_id)
        assert row is not None
        row.alerts_channel = channel
