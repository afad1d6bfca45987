"""The account's time zone and quiet hours: warnings found in quiet hours wait until they end, running out
never does; both are set in the `/plan alerts` modal, and the time zone is learned from Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import pytest

from bot.alerts.local_time import at_local, quiet_until
from bot.devtools.fake_slack import FakeSlack
from handlers.alerts.ids import Action as AlertsAction
from handlers.alerts.ids import Block as AlertsBlock
from handlers.alerts.service import AlertService
from store import Store
from store.domain.alerts import AlertRules, AlertStatus, QuietHours
from tests.support.alert_settings import settings_state, submission
from tests.support.alerting import ACCOUNT, ADMIN, ONLY_MINUTES, read, service, top_posts, use_alerts_channel
from tests.support.clock import FakeClock
from tests.support.slackdriver import SlackDriver

pytestmark = pytest.mark.usefixtures("demo")

NIGHTS = QuietHours(start=time(20), end=time(8))


def rules(zone: str, quiet: QuietHours | None = NIGHTS) -> AlertRules:
    return AlertRules(time_zone=zone, time_zone_set=True, quiet=quiet)


# ------------------------------------------------------------------------------- the rules, pure


def test_quiet_hours_span_midnight_in_the_accounts_time_zone() -> None:
    hong_kong = rules("Asia/Hong_Kong")  # UTC+8
    evening = datetime(2026, 11, 19, 13, 30, tzinfo=UTC)  # 21:30 in Hong Kong, a Thursday
    assert quiet_until(hong_kong, evening) == datetime(2026, 11, 20, 0, 0, tzinfo=UTC)  # 08:00 local
    assert quiet_until(hong_kong, datetime(2026, 11, 20, 1, tzinfo=UTC)) is None  # 09:00 local
    assert quiet_until(rules("Asia/Hong_Kong", None), evening) is None


def test_weekends_too_run_from_friday_night_to_monday_morning() -> None:
    london = rules("Europe/London", NIGHTS.model_copy(update={"weekends": True}))
    friday_night = datetime(2026, 11, 20, 21, tzinfo=UTC)
    assert quiet_until(london, friday_night) == datetime(2026, 11, 23, 8, tzinfo=UTC)
    saturday_noon = datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert quiet_until(london, saturday_noon) == datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert quiet_until(rules("Europe/London"), saturday_noon) is None, "weekdays rules only"


def test_local_times_follow_daylight_saving() -> None:
    new_york = rules("America/New_York")
    assert at_local(new_york, datetime(2026, 7, 1).date(), time(8)) == datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert at_local(new_york, datetime(2026, 12, 1).date(), time(8)) == datetime(2026, 12, 1, 13, tzinfo=UTC)


# ------------------------------------------------------------------------------------ delivery


@pytest.fixture
async def alerts(store: Store, fake_slack: FakeSlack, clock: FakeClock) -> AsyncIterator[AlertService]:
    await use_alerts_channel(
        store,
        overrides=ONLY_MINUTES,
        **rules("Europe/London").model_dump(include={"time_zone", "time_zone_set", "quiet"}),
    )
    await store.usage.clear(ACCOUNT)
    alerts = service(store, fake_slack, clock)
    yield alerts
    await alerts.close()


async def test_a_warning_found_in_quiet_hours_is_posted_when_they_end(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 20, 22, tzinfo=UTC)  # 22:00 in London, a Friday
    await read(store, clock, "voice_minutes", 4100)
    await alerts.evaluate()
    await alerts.drain()
    assert not top_posts(fake_slack), "held in quiet hours"
    (held,) = await store.alerts.all_of(ACCOUNT)
    assert held.status == AlertStatus.PENDING
    assert held.next_attempt_at == datetime(2026, 11, 21, 8, tzinfo=UTC)

    clock.now = datetime(2026, 11, 21, 7, 59, tzinfo=UTC)
    await alerts.drain()
    assert not top_posts(fake_slack)
    clock.now = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    await alerts.drain()
    (post,) = top_posts(fake_slack)
    assert "80%" in post.params["text"]


async def test_running_out_is_never_held_back_by_quiet_hours(
    store: Store, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 20, 23, tzinfo=UTC)
    await read(store, clock, "voice_minutes", 5000)
    await alerts.evaluate()
    await alerts.drain()
    (post,) = top_posts(fake_slack)
    assert "used up" in post.params["text"]


# ---------------------------------------------------------------------------------- the modal


async def test_time_zone_and_quiet_hours_round_trip_through_the_modal(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    state = settings_state(time_zone="Asia/Hong_Kong", quiet=("20:00", "08:00"), weekends=True)
    response = await slack.interact(submission(state))
    assert response.status == 200
    assert (await response.text()) == "", "the modal closes"
    await fake_slack.wait_for("chat.postEphemeral")  # saved, and the administrator told
    saved = await store.alerts.rules(ACCOUNT)
    assert saved.time_zone == "Asia/Hong_Kong"
    assert saved.quiet == QuietHours(start=time(20), end=time(8), weekends=True)

    await slack.command("alerts")
    view = (await fake_slack.wait_for("views.open")).params["view"]
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id[AlertsBlock.ALERTS_TIME_ZONE]["element"]["initial_value"] == "Asia/Hong_Kong"
    assert by_id[AlertsBlock.ALERTS_QUIET_START]["element"]["initial_time"] == "20:00"
    assert by_id[AlertsBlock.ALERTS_QUIET_END]["element"]["initial_time"] == "08:00"
    assert by_id[AlertsBlock.ALERTS_QUIET_WEEKENDS]["element"]["initial_options"]
    assert by_id[AlertsBlock.ALERTS_TIME_ZONE]["element"]["action_id"] == AlertsAction.ALERTS_TIME_ZONE


@pytest.mark.parametrize(
    ("changes", "block_id", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, AlertsBlock.ALERTS_TIME_ZONE, "Enter a time zone name"),
        ({"quiet": ("20:00", None)}, AlertsBlock.ALERTS_QUIET_END, "both the start and the end"),
        ({"quiet": ("20:00", "20:00")}, AlertsBlock.ALERTS_QUIET_END, "another time"),
        ({"quiet": ("8pm", "08:00")}, AlertsBlock.ALERTS_QUIET_START, "a time such as"),
    ],
)
async def test_a_bad_time_zone_or_time_is_told_on_its_field(
    slack: SlackDriver, store: Store, changes: dict[str, object], block_id: str, message: str
) -> None:
    response = await slack.interact(submission(settings_state(**changes)))  # type: ignore[arg-type]
    body = await response.json()
    assert body["response_action"] == "errors"
    assert message in body["errors"][block_id]
    assert not (await store.alerts.rules(ACCOUNT)).time_zone_set, "nothing saved"


async def test_the_default_time_zone_is_learned_from_the_first_administrator(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    fake_slack.users[ADMIN] = {"tz": "America/New_York"}
    assert (await store.alerts.rules(ACCOUNT)).time_zone == "UTC", "UTC until learned"
    await slack.command("alerts")
    view = (await fake_slack.wait_for("views.open")).params["view"]
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id[AlertsBlock.ALERTS_TIME_ZONE]["element"]["initial_value"] == "America/New_York"
    learned = await store.alerts.rules(ACCOUNT)
    assert (learned.time_zone, learned.time_zone_set) == ("America/New_York", True)
