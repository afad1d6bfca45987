"""Evaluation: the set-based SQL claims each (meter, threshold, period) once, and forecasts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.alerts.forecast import forecast_from_readings
from bot.alerts.rules import crossed, midnight, watched_meters
from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack
from handlers.alerts.service import AlertService
from store import Store
from store.domain.account import AccountDocument, AllowanceDoc
from store.domain.alerts import AlertKind, AlertRules, AlertStatus
from store.domain.plan import FeatureKey, FeatureStatus, Meter
from store.usage import Reading
from tests.support.alerting import ACCOUNT, ADMIN, read, service, use_alerts_channel
from tests.support.clock import DEMO_NOW, FakeClock
from tests.support.plans import next_period

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
async def alerts(store: Store, fake_slack: FakeSlack, clock: FakeClock) -> AlertService:
    await use_alerts_channel(store)
    return service(store, fake_slack, clock)


async def thresholds_of(store: Store, meter: str = "voice_minutes") -> list[int]:
    return sorted(
        a.threshold
        for a in await store.alerts.all_of(ACCOUNT)
        if a.meter == meter and a.kind == AlertKind.THRESHOLD
    )


async def test_each_threshold_crossing_claims_one_alert_and_a_dip_does_not_re_arm(
    store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    await alerts.evaluate()
    assert await thresholds_of(store) == [], "the demo starts at 79.2%"

    for used, expected in [
        (4000, [80]),  # exactly 80%
        (4200, [80]),
        (2000, [80]),  # a dip (a corrected reading)…
        (4300, [80]),  # …and a rise again: no repeat
        (4500, [80, 90]),
        (4600, [80, 90]),
        (5000, [80, 90, 100]),
        (6000, [80, 90, 100]),
    ]:
        clock.advance(minutes=10)
        await read(store, clock, "voice_minutes", used)
        await alerts.on_usage(ACCOUNT)
        await alerts.evaluate()  # the worker's sweep finds nothing more
        assert await thresholds_of(store) == expected, f"after {used}"
    await alerts.idle()


async def test_a_restart_remembers_what_was_claimed(
    store: Store, database_url: str, fake_slack: FakeSlack, alerts: AlertService, clock: FakeClock
) -> None:
    await read(store, clock, "voice_minutes", 4100)
    assert [(a.kind, a.threshold) for a in await alerts.evaluate() if a.meter == "voice_minutes"] == [
        (AlertKind.THRESHOLD, 80),
        (AlertKind.FORECAST, 100),
    ]
    restarted = service(Store.from_url(database_url), fake_slack, clock)
    try:
        assert [a for a in await restarted.evaluate() if a.meter == "voice_minutes"] == []
    finally:
        await restarted.store.close()


async def test_a_new_billing_period_re_arms_the_thresholds(
    store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    await read(store, clock, "voice_minutes", 4600)
    await alerts.evaluate()
    assert await thresholds_of(store) == [80, 90]

    # The billing platform starts the next period: usage resets.
    clock.now = datetime(2026, 12, 5, 10, tzinfo=UTC)
    doc = next_period(demo_document(DEMO_NOW))
    await store.accounts.upsert(ACCOUNT, doc, now=clock.now)
    await alerts.evaluate()
    assert await thresholds_of(store) == [80, 90], "nothing new at 0%"

    await read(store, clock, "voice_minutes", 4100)
    new = [a for a in await alerts.evaluate() if a.meter == "voice_minutes"]
    assert [(a.threshold, a.period_start) for a in new] == [(80, doc.period_start)]


async def test_licences_and_features_with_limits_are_watched(store: Store, alerts: AlertService) -> None:
    first = {(a.meter, a.threshold) for a in await alerts.evaluate() if a.kind == AlertKind.THRESHOLD}
    # The demo: 42 of 50 licences (84%), 8 of 10 virtual numbers, 42 of 50 staff accounts.
    assert first == {("staff_licences", 80), ("feature:virtual_numbers", 80), ("feature:staff_accounts", 80)}

    doc = demo_document(DEMO_NOW)
    features = dict(doc.features)
    features[FeatureKey.DIRECTORY] = features[FeatureKey.DIRECTORY].model_copy(update={"used": 500})
    features[FeatureKey.CAMPAIGNS] = features[FeatureKey.CAMPAIGNS].model_copy(
        update={"used": 99, "limit": 1}
    )
    doc = doc.model_copy(update={"staff_licences_assigned": 50, "features": features})
    await store.accounts.upsert(ACCOUNT, doc, now=DEMO_NOW)
    second = {(a.meter, a.threshold) for a in await alerts.evaluate()}
    assert second == {
        ("staff_licences", 90),
        ("staff_licences", 100),
        ("feature:directory", 80),
        ("feature:directory", 90),
        ("feature:directory", 100),
    }, "a locked feature (Campaigns) is not watched"


async def test_rules_thresholds_overrides_and_off(
    store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    await store.alerts.save_rules(
        ACCOUNT,
        AlertRules(
            channel="C0ALERTS",
            thresholds=(50, 75),
            overrides={"video_minutes": (30,), "staff_licences": (), "feature:virtual_numbers": ()},
        ),
        by=ADMIN,
        now=DEMO_NOW,
    )
    claimed = {(a.meter, a.threshold) for a in await alerts.evaluate() if a.kind == AlertKind.THRESHOLD}
    assert claimed == {
        ("voice_minutes", 50),
        ("voice_minutes", 75),
        ("video_minutes", 30),  # 640 of 2,000 = 32%
        ("feature:destinations", 50),  # 12 of 20 = 60%
        ("feature:staff_accounts", 50),  # 42 of 50 = 84%
        ("feature:staff_accounts", 75),
    }
    assert not {m for m, _ in claimed} & {"staff_licences", "feature:virtual_numbers"}, "switched off"

    await store.alerts.save_rules(
        ACCOUNT, AlertRules(enabled=False, channel="C0ALERTS"), by=ADMIN, now=DEMO_NOW
    )
    await read(store, clock, "voice_minutes", 5000)
    assert await alerts.evaluate() == [], "alerts off"


async def test_turning_a_meter_off_cancels_what_waits_for_it(
    store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    await read(store, clock, "voice_minutes", 4600)
    await alerts.evaluate()
    await store.alerts.save_rules(
        ACCOUNT, AlertRules(channel="C0ALERTS", overrides={"voice_minutes": ()}), by=ADMIN, now=DEMO_NOW
    )
    voice = [a for a in await store.alerts.all_of(ACCOUNT) if a.meter == "voice_minutes"]
    assert voice
    assert {a.status for a in voice} == {AlertStatus.CANCELLED}


async def test_rules_round_trip_and_changes_are_audited(store: Store) -> None:
    assert await store.alerts.rules(ACCOUNT) == AlertRules()
    rules = AlertRules(
        channel="C0ALERTS", channel_team_id="T0DEMO", thresholds=(75, 95), overrides={"storage_gb": (50,)}
    )
    before, after = await store.alerts.save_rules(ACCOUNT, rules, by=ADMIN, now=DEMO_NOW)
    assert before == AlertRules()
    stored = await store.alerts.rules(ACCOUNT)
    assert stored == after == rules.model_copy(update={"updated_at": DEMO_NOW, "updated_by": ADMIN})
    (entry,) = await store.audit.recent(ACCOUNT, action="alerts.settings")
    assert entry.actor == ADMIN
    assert entry.before == {
        "enabled": True,
        "channel": None,
        "thresholds": [80, 90, 100],
        "overrides": {},
        "time_zone": "UTC",
        "quiet": None,
    }
    assert entry.after == {
        "enabled": True,
        "channel": "C0ALERTS",
        "thresholds": [75, 95],
        "overrides": {"storage_gb": [50]},
        "time_zone": "UTC",
        "quiet": None,
    }
    assert (await store.accounts.snapshot(ACCOUNT)).account.alerts_channel == "C0ALERTS"


async def test_forecast_from_the_periods_readings(store: Store, alerts: AlertService) -> None:
    """The demo's voice minutes: 3,960 used 18 days into a 30-day period with 5,000 available."""
    (forecast,) = [a for a in await alerts.evaluate() if a.kind == AlertKind.FORECAST]
    assert forecast.meter == "voice_minutes"
    assert forecast.forecast is not None
    assert forecast.forecast.readings == 18
    assert forecast.forecast.days == Decimal("17.0")
    assert (
        datetime(2026, 11, 24, tzinfo=UTC)
        < forecast.forecast.runs_out_at
        < datetime(2026, 11, 26, tzinfo=UTC)
    )
    assert forecast.period_end == datetime(2026, 12, 2).date()

    # The SQL aggregates and the pure function agree.
    plan = await store.accounts.snapshot(ACCOUNT)
    readings = await store.usage.history(
        ACCOUNT, "voice_minutes", since=midnight(plan.subscription.period_start)
    )
    expected = forecast_from_readings(
        readings,
        period_start=plan.subscription.period_start,
        used=Decimal(3960),
        available=Decimal(5000),
        as_of=plan.account.data_as_of,  # the allowance's figure was measured then (the demo's as-of time)
    )
    assert expected is not None
    assert abs(expected.runs_out_at - forecast.forecast.runs_out_at) < timedelta(seconds=1)

    assert [a for a in await alerts.evaluate() if a.kind == AlertKind.FORECAST] == [], "once per period"


async def test_no_forecast_from_too_few_readings(
    store: Store, alerts: AlertService, clock: FakeClock
) -> None:
    await store.usage.clear(ACCOUNT)
    for hours, used in ((0, 3000), (6, 3400)):
        await store.usage.record(
            ACCOUNT,
            [Reading(meter="voice_minutes", used=Decimal(used), at=clock.now + timedelta(hours=hours))],
        )
    assert [a for a in await alerts.evaluate() if a.kind == AlertKind.FORECAST] == []


async def test_dry_run_claims_nothing(store: Store, alerts: AlertService, clock: FakeClock) -> None:
    await read(store, clock, "voice_minutes", 4600)
    would = await alerts.evaluate(dry_run=True)
    assert {(a.meter, a.threshold) for a in would if a.meter == "voice_minutes"} == {
        ("voice_minutes", 80),
        ("voice_minutes", 90),
        ("voice_minutes", 100),  # the forecast (stored as reaching 100%)
    }
    assert await store.alerts.all_of(ACCOUNT) == []
    assert len(await alerts.evaluate()) == len(would)


async def test_watched_meters_of_the_demo(store: Store) -> None:
    assert watched_meters(await store.accounts.snapshot(ACCOUNT)) == [
        "voice_minutes",
        "video_minutes",
        "storage_gb",
        "staff_licences",
        "feature:virtual_numbers",
        "feature:directory",
        "feature:destinations",
        "feature:staff_accounts",
    ]  # Omnichannels is pending, External Contacts processing, Campaigns locked


async def test_set_based_sql_agrees_with_the_rules_for_many_accounts(store: Store, clock: FakeClock) -> None:
    """Random accounts and thresholds: what the SQL claims is exactly what `crossed` says."""
    rng = random.Random(7)
    template = demo_document(DEMO_NOW)
    expected: set[tuple[str, str, int]] = set()
    for n in range(40):
        account = f"acct{n:02d}"
        allowances = {}
        for meter in Meter:
            available = Decimal(rng.choice([0, 1, 100, 2000, 5000]))
            used = (available * Decimal(rng.randint(0, 120)) / 100).quantize(Decimal("0.0001"))
            if rng.random() < 0.1:
                used = Decimal(rng.choice(["0.8", "79.9999", "80", "0"]))
            allowances[meter] = AllowanceDoc(available=available, used=used)
        thresholds = tuple(sorted(rng.sample([5, 25, 50, 80, 90, 95, 100], k=rng.randint(1, 3))))
        doc: AccountDocument = template.model_copy(
            update={
                "allowances": allowances,
                "staff_licences_assigned": rng.randint(0, 60),
                "features": {
                    k: f.model_copy(update={"status": FeatureStatus.LOCKED})
                    for k, f in template.features.items()
                },
            }
        )
        await store.accounts.upsert(account, doc, now=DEMO_NOW)
        configured = rng.random() < 0.5
        if configured:
            await store.alerts.save_rules(account, AlertRules(thresholds=thresholds), by=ADMIN, now=DEMO_NOW)
        applied = thresholds if configured else (80, 90, 100)
        for meter, allowance in allowances.items():
            expected |= {
                (account, meter.value, p) for p in crossed(allowance.used, allowance.available, applied)
            }
        expected |= {
            (account, "staff_licences", p) for p in crossed(doc.staff_licences_assigned, 50, applied)
        }

    claimed = await AlertService(store, lambda team: _none(), clock=clock).evaluate()
    got = {
        (a.account_id, a.meter, a.threshold)
        for a in claimed
        if a.kind == AlertKind.THRESHOLD and a.account_id != ACCOUNT
    }
    assert got == expected


async def _none() -> None:
    return None
