"""The ingest API end to end: the billing platform's JSON over HTTP into the real app, then Slack shows it."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.demo import DEMO_ACCOUNT, demo_document
from bot.devtools.fake_slack import FakeSlack
from store import Store
from store.domain.plan import Meter
from tests.support.alerting import set_alerts_channel
from tests.support.apiclient import IngestApi, reading
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")

ALERTS = "C0ALERTS"


@pytest.fixture
def api(http: TestClient) -> IngestApi:  # type: ignore[type-arg]
    return IngestApi(http)


def new_account() -> dict[str, Any]:
    doc = demo_document(DEMO_NOW).model_dump(mode="json")
    doc["company_name"] = "Acme Contact Centre"
    doc["plan_name"] = "PRO"
    return doc


def at(hours: float) -> str:
    """A reading time `hours` after the sample data's "as of" time."""
    return (DEMO_NOW + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


# --- PUT and GET /accounts/{account_id} ------------------------------------------------------------------


async def test_put_creates_then_replaces_an_account(api: IngestApi, store: Store) -> None:
    doc = new_account()
    created = await api.put_account("acme", doc)
    assert created.status == 201, created.body
    assert created.body["plan_name"] == "PRO"

    doc["plan_name"] = "Enterprise"
    replaced = await api.put_account("acme", doc)
    assert replaced.status == 200
    plan = await store.accounts.snapshot("acme")
    assert plan.subscription.plan_name == "Enterprise"
    assert plan.subscription.monthly_fee == Decimal("1299.00")


async def test_get_returns_the_document_put_accepts_and_a_round_trip_changes_nothing(
    api: IngestApi, store: Store
) -> None:
    before = await api.get_account(DEMO_ACCOUNT)
    assert before.status == 200
    snapshot = await store.accounts.snapshot(DEMO_ACCOUNT)
    history = await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW - timedelta(days=40))

    put = await api.put_account(DEMO_ACCOUNT, before.body)
    assert put.status == 200, put.body
    after = await api.get_account(DEMO_ACCOUNT)

    assert after.body == before.body == put.body
    assert await store.accounts.snapshot(DEMO_ACCOUNT) == snapshot
    assert (
        await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW - timedelta(days=40))
        == history
    )


async def test_the_sales_routing_fields_round_trip_and_are_checked(api: IngestApi, store: Store) -> None:
    doc = new_account()
    assert (await api.put_account("acme", doc)).status == 201
    unset = (await api.get_account("acme")).body
    assert (unset["sales_channel"], unset["account_manager"]) == (None, None)

    doc.update(sales_channel="C0ACMESALES", account_manager="U0MANAGER")
    put = await api.put_account("acme", doc)
    assert put.status == 200, put.body
    got = await api.get_account("acme")
    assert (got.body["sales_channel"], got.body["account_manager"]) == ("C0ACMESALES", "U0MANAGER")
    assert (await api.put_account("acme", got.body)).body == got.body == put.body
    account = (await store.accounts.snapshot("acme")).account
    assert (account.sales_channel, account.account_manager) == ("C0ACMESALES", "U0MANAGER")

    bad = {**doc, "sales_channel": "#sales", "account_manager": "U0" + "A" * 40}
    refused = await api.put_account("acme", bad)
    assert refused.status == 422
    assert set(refused.fields) == {"sales_channel", "account_manager"}
    assert (await api.get_account("acme")).body == got.body

    doc.update(sales_channel=None, account_manager=None)  # PUT replaces: null clears them
    assert (await api.put_account("acme", doc)).status == 200
    assert (await store.accounts.snapshot("acme")).account.sales_channel is None


async def test_amounts_come_back_as_exact_strings(api: IngestApi) -> None:
    doc = new_account()
    doc["monthly_fee"] = 1234567.89  # a JSON number is accepted too
    doc["voip_rate_per_min"] = "0.0123"
    assert (await api.put_account("acme", doc)).status == 201
    body = (await api.get_account("acme")).body
    assert Decimal(body["monthly_fee"]) == Decimal("1234567.89")
    assert body["voip_rate_per_min"] in ("0.0123", "0.01230")  # SQLite keeps it as sent; PostgreSQL pads
    assert Decimal(body["voip_rate_per_min"]) == Decimal("0.0123")


async def test_put_changes_what_plan_shows(api: IngestApi, slack: SlackDriver) -> None:
    doc = (await api.get_account(DEMO_ACCOUNT)).body
    doc["plan_name"] = "Enterprise"
    doc["allowances"]["voice_minutes"] = {"available": "10000", "used": "1234"}
    assert (await api.put_account(DEMO_ACCOUNT, doc)).status == 200
    text = all_text(await slack.run(""))
    assert "Enterprise" in text
    assert "1,234 of 10,000 min" in text


async def test_company_information_is_validated_and_normalised(api: IngestApi) -> None:
    doc = new_account()
    doc["company"] = {
        "country": "gb",
        "contact_person": "Ada",
        "contact_number": "+44 20 7946 0958",
        "email": "ada@example.com",
        "website": "HTTPS://acme.example",
    }
    assert (await api.put_account("acme", doc)).status == 201
    company = (await api.get_account("acme")).body["company"]
    assert company["country"] == "GB"
    assert company["contact_number"] == "+442079460958"
    assert company["website"] == "https://acme.example"

    doc["company"] = {"country": "ZZ", "contact_person": "", "contact_number": "12", "email": "nope"}
    refused = await api.put_account("acme", doc)
    assert refused.status == 422
    assert set(refused.fields) == {
        "company.country",
        "company.contact_person",
        "company.contact_number",
        "company.email",
    }


async def test_every_invalid_field_of_an_account_is_listed(api: IngestApi, store: Store) -> None:
    doc = new_account()
    doc["monthly_fee"] = "-1"
    doc["voip_rate_per_min"] = "0.00001"
    doc["next_payment_date"] = doc["period_start"]
    doc["allowances"]["voice_minutes"]["available"] = "lots"
    doc["features"]["directory"]["status"] = "on"
    doc["features"]["directory"]["manage_path"] = "directory"
    doc["company_name"] = "Acme\u0000"
    doc["colour"] = "blue"
    refused = await api.put_account("acme", doc)
    assert refused.status == 422
    assert refused.body["error"] == "invalid"
    assert set(refused.fields) == {
        "monthly_fee",
        "voip_rate_per_min",
        "next_payment_date",
        "allowances.voice_minutes.available",
        "features.directory.status",
        "features.directory.manage_path",
        "company_name",
        "colour",
    }
    assert "after period_start" in refused.fields["next_payment_date"]
    assert not await store.accounts.exists("acme")


async def test_a_malformed_account_id_is_refused(api: IngestApi) -> None:
    refused = await api.put_account("-bad id", new_account())
    assert refused.status == 422
    assert list(refused.fields) == ["account_id"]


async def test_get_of_an_unknown_account_is_404(api: IngestApi) -> None:
    missing = await api.get_account("nobody")
    assert missing.status == 404
    assert missing.body["error"] == "not_found"
    assert "nobody" in missing.body["message"]


# --- POST /accounts/{account_id}/usage -------------------------------------------------------------------


async def test_a_reading_as_the_spec_writes_it_moves_the_plan(
    api: IngestApi, slack: SlackDriver, store: Store
) -> None:
    posted = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4120, "2026-11-27T10:00:00Z"))
    assert posted.status == 200
    assert posted.body == {"received": 1, "recorded": 1, "duplicates": 0}
    assert "4,120 of 5,000 min" in all_text(await slack.run(""))
    assert (await api.get_account(DEMO_ACCOUNT)).body["data_as_of"] == "2026-11-27T10:00:00Z"


async def test_out_of_order_readings_keep_the_newest_and_history_keeps_all(
    api: IngestApi, store: Store
) -> None:
    assert (await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, at(2)))).status == 200
    assert (await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4000, at(1)))).status == 200
    # …and out of order within one batch too.
    batch = [reading("video_minutes", 700, at(3)), reading("video_minutes", 650, at(1))]
    assert (await api.post_usage(DEMO_ACCOUNT, *batch)).status == 200

    plan = await store.accounts.snapshot(DEMO_ACCOUNT)
    assert plan.allowance(Meter.VOICE_MINUTES) is not None
    assert plan.allowance(Meter.VOICE_MINUTES).used == 4100  # type: ignore[union-attr]
    assert plan.allowance(Meter.VIDEO_MINUTES).used == 700  # type: ignore[union-attr]
    history = await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW)
    assert [r.used for r in history] == [4000, 4100]


async def test_a_reading_older_than_the_account_document_does_not_overwrite_it(
    api: IngestApi, store: Store
) -> None:
    doc = (await api.get_account(DEMO_ACCOUNT)).body
    doc["data_as_of"] = at(5)
    doc["allowances"]["voice_minutes"]["used"] = "4500"
    assert (await api.put_account(DEMO_ACCOUNT, doc)).status == 200
    assert (await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4200, at(4)))).status == 200
    voice = (await store.accounts.snapshot(DEMO_ACCOUNT)).allowance(Meter.VOICE_MINUTES)
    assert voice is not None
    assert voice.used == 4500


async def test_duplicate_readings_are_harmless(api: IngestApi, store: Store) -> None:
    batch = [reading("voice_minutes", 4100, at(1)), reading("voice_minutes", "4100.0", at(1))]
    first = await api.post_usage(DEMO_ACCOUNT, *batch)
    again = await api.post_usage(DEMO_ACCOUNT, *batch)
    assert first.body == {"received": 2, "recorded": 1, "duplicates": 1}
    assert again.body == {"received": 2, "recorded": 0, "duplicates": 2}
    assert len(await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW)) == 1


async def test_licence_and_feature_readings_update_the_plan(
    api: IngestApi, slack: SlackDriver, store: Store
) -> None:
    posted = await api.post_usage(
        DEMO_ACCOUNT,
        reading("staff_licences", 45, at(1)),
        reading("feature:virtual_numbers", 9, at(1)),
        reading("feature:virtual_numbers", 7, at(0.5)),  # older: history only
    )
    assert posted.status == 200, posted.body
    plan = await store.accounts.snapshot(DEMO_ACCOUNT)
    assert plan.subscription.staff_licences_assigned == 45
    assert {f.key.value: f.used for f in plan.features}["virtual_numbers"] == 9
    assert "45 of 50 assigned" in all_text(await slack.run(""))
    assert len(await store.usage.history(DEMO_ACCOUNT, "feature:virtual_numbers", since=DEMO_NOW)) == 2


async def test_usage_refreshes_the_home_tab(
    api: IngestApi, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    assert (await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4321, at(1)))).status == 200
    await slack.event({"type": "app_home_opened", "user": "U0DEMOADMIN", "tab": "home"})
    published = await fake_slack.wait_for("views.publish")
    assert "4,321 of 5,000 min" in all_text(published.params)


async def test_an_invalid_batch_is_rejected_whole(api: IngestApi, store: Store) -> None:
    before = await store.accounts.snapshot(DEMO_ACCOUNT)
    refused = await api.post_usage(
        DEMO_ACCOUNT,
        reading("voice_minutes", 4100, at(1)),  # fine on its own
        reading("voice_minutes", -5, at(1)),
        reading("staff_licences", "42.5", at(1)),
        reading("video_minutes", 10, "2026-11-20T10:00:00"),  # no UTC offset
        reading("video_minutes", 10, "2999-01-01T00:00:00Z"),  # in the future
        reading("bandwidth", 10, at(1)),
    )
    assert refused.status == 422
    assert set(refused.fields) == {
        "readings.1.used",
        "readings.2.used",
        "readings.3.at",
        "readings.4.at",
        "readings.5.meter",
    }
    assert await store.accounts.snapshot(DEMO_ACCOUNT) == before
    assert await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=DEMO_NOW) == []


async def test_a_meter_the_account_does_not_have_rejects_the_batch(api: IngestApi, store: Store) -> None:
    doc = new_account()
    del doc["allowances"]["storage_gb"]
    del doc["features"]["campaigns"]
    assert (await api.put_account("acme", doc)).status == 201
    refused = await api.post_usage(
        "acme",
        reading("voice_minutes", 1, at(1)),
        reading("storage_gb", 1, at(1)),
        reading("feature:campaigns", 1, at(1)),
    )
    assert refused.status == 422
    assert refused.fields == {
        "readings.1.meter": "this account has no storage_gb allowance",
        "readings.2.meter": "this account has no feature 'campaigns'",
    }
    assert await store.usage.history("acme", "voice_minutes", since=DEMO_NOW) == []


async def test_an_empty_batch_is_refused(api: IngestApi) -> None:
    refused = await api.post_usage(DEMO_ACCOUNT)
    assert refused.status == 422
    assert list(refused.fields) == ["readings"]


async def test_usage_for_an_unknown_account_is_404(api: IngestApi) -> None:
    assert (await api.post_usage("nobody", reading("voice_minutes", 1, at(1)))).status == 404


# --- PUT /accounts/{account_id}/features/{feature} -------------------------------------------------------


async def test_a_status_change_is_announced_in_the_alerts_channel(
    api: IngestApi, store: Store, fake_slack: FakeSlack
) -> None:
    await set_alerts_channel(store, DEMO_ACCOUNT, ALERTS)
    changed = await api.put_feature(DEMO_ACCOUNT, "external_contacts", {"status": "available", "at": at(1)})
    assert changed.status == 200, changed.body
    assert changed.body["status"] == "available"
    assert changed.body["status_since"] == at(1)

    notice = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == ALERTS)
    assert notice.params["text"] == "External Contacts is now Available (was Processing)"
    assert "Manage it in the dashboard" in all_text(notice.params)


async def test_each_status_reads_plainly(api: IngestApi, store: Store, fake_slack: FakeSlack) -> None:
    await set_alerts_channel(store, DEMO_ACCOUNT, ALERTS)
    steps = [
        ("campaigns", "pending", "Campaigns is now Pending (was Locked)"),
        ("campaigns", "processing", "Campaigns is now Processing (was Pending)"),
        ("campaigns", "available", "Campaigns is now Available (was Processing)"),
        ("campaigns", "locked", "Campaigns is now Locked (was Available)"),
    ]
    for count, (feature, status, text) in enumerate(steps, start=1):
        assert (await api.put_feature(DEMO_ACCOUNT, feature, {"status": status})).status == 200
        notice = await fake_slack.wait_for("chat.postMessage", count=count)
        assert notice.params["text"] == text


async def test_no_notice_without_an_alerts_channel(api: IngestApi, fake_slack: FakeSlack) -> None:
    assert (await api.put_feature(DEMO_ACCOUNT, "omnichannels", {"status": "available"})).status == 200
    await api.http.close()  # waits for the background work
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_an_unchanged_status_is_not_announced(
    api: IngestApi, store: Store, fake_slack: FakeSlack
) -> None:
    await set_alerts_channel(store, DEMO_ACCOUNT, ALERTS)
    assert (
        await api.put_feature(DEMO_ACCOUNT, "omnichannels", {"status": "pending", "used": 3})
    ).status == 200
    # A later change that is announced proves the earlier one was not merely slow.
    assert (await api.put_feature(DEMO_ACCOUNT, "omnichannels", {"status": "locked"})).status == 200
    await fake_slack.wait_for("chat.postMessage")
    await api.http.close()
    assert [c.params["text"] for c in fake_slack.calls_to("chat.postMessage")] == [
        "Omnichannels is now Locked (was Pending)"
    ]


async def test_a_slack_failure_loses_no_change(
    api: IngestApi, store: Store, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    await set_alerts_channel(store, DEMO_ACCOUNT, ALERTS)
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    changed = await api.put_feature(DEMO_ACCOUNT, "omnichannels", {"status": "available"})
    assert changed.status == 200
    await fake_slack.wait_for("chat.postMessage")
    plan = await store.accounts.snapshot(DEMO_ACCOUNT)
    assert {f.key.value: f.status.value for f in plan.features}["omnichannels"] == "available"
    await api.http.close()  # drains the background work, so its log line is written
    assert any("status notice" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


async def test_status_changes_in_an_account_document_are_announced_together(
    api: IngestApi, store: Store, fake_slack: FakeSlack
) -> None:
    await set_alerts_channel(store, DEMO_ACCOUNT, ALERTS)
    doc = (await api.get_account(DEMO_ACCOUNT)).body
    doc["features"]["omnichannels"]["status"] = "available"
    doc["features"]["campaigns"]["status"] = "processing"
    assert (await api.put_account(DEMO_ACCOUNT, doc)).status == 200
    notice = await fake_slack.wait_for("chat.postMessage")
    assert notice.params["text"] == (
        "Omnichannels is now Available (was Pending); Campaigns is now Processing (was Locked)"
    )


async def test_feature_usage_follows_the_newest_change(api: IngestApi, store: Store) -> None:
    assert (await api.put_feature(DEMO_ACCOUNT, "directory", {"used": 200, "at": at(2)})).status == 200
    stale = await api.put_feature(DEMO_ACCOUNT, "directory", {"used": 150, "at": at(1), "limit": 1000})
    assert stale.status == 200
    assert (stale.body["used"], stale.body["limit"]) == (200, 1000)


async def test_feature_changes_that_cannot_apply(api: IngestApi) -> None:
    doc = new_account()
    del doc["features"]["campaigns"]
    assert (await api.put_account("acme", doc)).status == 201

    unknown_key = await api.put_feature(DEMO_ACCOUNT, "teleportation", {"status": "available"})
    assert unknown_key.status == 422
    assert list(unknown_key.fields) == ["feature"]
    assert (await api.put_feature("acme", "campaigns", {"status": "available"})).status == 404
    assert (await api.put_feature("nobody", "campaigns", {"status": "available"})).status == 404
    nothing = await api.put_feature(DEMO_ACCOUNT, "campaigns", {"at": at(1)})
    assert nothing.status == 422
    assert "give at least one of" in nothing.fields["body"]


# --- POST /accounts/{account_id}/links -------------------------------------------------------------------


async def test_linking_a_workspace_shows_it_the_account(api: IngestApi, slack: SlackDriver) -> None:
    assert (await api.put_account("acme", new_account())).status == 201
    linked = await api.post_link("acme", {"team_id": "T0ACME"})
    assert linked.status == 201
    assert linked.body == {"team_id": "T0ACME", "account_id": "acme", "previous_account_id": None}
    assert "Acme Contact Centre" in all_text(await slack.run("", team="T0ACME"))
    assert (await api.post_link("acme", {"team_id": "T0ACME"})).status == 200


async def test_moving_a_workspace_needs_replace(api: IngestApi, slack: SlackDriver) -> None:
    assert (await api.put_account("acme", new_account())).status == 201
    refused = await api.post_link("acme", {"team_id": "T0DEMO"})
    assert refused.status == 409
    assert refused.body["error"] == "already_linked"
    assert "BUSINESS" in all_text(await slack.run(""))

    moved = await api.post_link("acme", {"team_id": "T0DEMO", "replace": True})
    assert moved.status == 200
    assert moved.body["previous_account_id"] == DEMO_ACCOUNT
    assert "Acme Contact Centre" in all_text(await slack.run(""))


async def test_links_that_cannot_be_made(api: IngestApi) -> None:
    assert (await api.post_link("nobody", {"team_id": "T0ACME"})).status == 404
    bad = await api.post_link(DEMO_ACCOUNT, {"team_id": "acme workspace"})
    assert bad.status == 422
    assert list(bad.fields) == ["team_id"]


async def test_company_changes_through_the_api_are_audited(api: IngestApi, store: Store) -> None:
    doc = (await api.get_account(DEMO_ACCOUNT)).body
    doc["company"]["contact_person"] = "Ada Lovelace"
    assert (await api.put_account(DEMO_ACCOUNT, doc)).status == 200
    [entry] = await store.audit.recent(DEMO_ACCOUNT, action="company.update")
    assert entry.actor == "billing platform"
    assert entry.before == {"contact_person": "Mei Ling Chan"}
    assert entry.after == {"contact_person": "Ada Lovelace"}
    assert (await api.put_account(DEMO_ACCOUNT, doc)).status == 200
    assert len(await store.audit.recent(DEMO_ACCOUNT, action="company.update")) == 1, "no change, no entry"
