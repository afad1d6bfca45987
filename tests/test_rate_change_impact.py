"""Rate-change impact: with the change notice after a rate table import (ingest API or CLI), each account with
traffic in the 30 days before gets its projected monthly change, largest destinations first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo import DEMO_ACCOUNT, demo_document
from bot.devtools.blockkit import validate_message
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.rates import to_csv
from bot.rates.cache import RateCache
from bot.traffic.impact import ComparedTables, DestinationImpact, Impact, project
from bot.traffic.pricing import Figure, price_figures
from handlers.rates.announce import impact_lines, import_rates, rate_changes_message, signed_money
from handlers.rates.ids import Block
from handlers.rates.views import flag
from handlers.slack_clients import single_client
from store import Store
from store.domain.rates import RateImport, RateRow
from store.domain.traffic import DestinationSpend, PricedAs, TrafficKind
from tests.support.alerting import set_alerts_channel
from tests.support.apiclient import IngestApi
from tests.support.clock import DEMO_NOW, FakeClock
from tests.support.slackdriver import all_text
from tests.test_rates_import import amyplan, write
from tests.test_traffic_api import sms, voice

pytestmark = pytest.mark.fake_clock

GB, HK, JP = flag("GB"), flag("HK"), flag("JP")


def row(iso: str, name: str, dial: str, landline: str, mobile: str, sms_rate: str) -> RateRow:
    return RateRow(
        dial_code=dial,
        iso_code=iso,
        destination=name,
        landline_per_min=Decimal(landline),
        mobile_per_min=Decimal(mobile),
        sms_per_message=Decimal(sms_rate),
    )


BEFORE = [
    row("GB", "United Kingdom", "44", "0.0100", "0.0250", "0.0450"),
    row("HK", "Hong Kong", "852", "0.0120", "0.0150", "0.0400"),
    row("JP", "Japan", "81", "0.0300", "0.0500", "0.0700"),
]


def after(gb_mobile: str = "0.0200", hk_sms: str = "0.0450", *, japan: bool = False) -> list[RateRow]:
    """BEFORE with UK mobile and Hong Kong SMS at new rates, Japan removed (unless `japan`)."""
    return [
        row("GB", "United Kingdom", "44", "0.0100", gb_mobile, "0.0450"),
        row("HK", "Hong Kong", "852", "0.0120", "0.0150", hk_sms),
        *([BEFORE[2]] if japan else []),
    ]


# -- the projection, pure -----------------------------------------------------------------------------------


def spend(
    iso: str | None,
    place: str,
    kind: TrafficKind,
    priced_as: PricedAs | None,
    quantity: str,
    *,
    unpriced: str = "0",
    cost: str = "0",
) -> DestinationSpend:
    return DestinationSpend(
        area=iso or place,
        iso_code=iso,
        place=place,
        kind=kind,
        priced_as=priced_as,
        quantity=Decimal(quantity),
        cost=Decimal(cost),
        unpriced_quantity=Decimal(unpriced),
        rate=None,
    )


def test_the_change_is_quantity_times_the_rate_difference_largest_first() -> None:
    spends = [
        spend("HK", "Hong Kong", "sms", "sms", "301"),
        spend("GB", "United Kingdom", "voice", "mobile", "2001.5"),
        spend("GB", "United Kingdom", "voice", "landline", "40"),  # same rate in both tables
    ]
    impact = project(spends, ComparedTables.of(BEFORE, after(gb_mobile="0.0300")))
    assert [(d.place, d.priced_as, d.change) for d in impact.changed] == [
        ("United Kingdom", "mobile", Decimal("10.0075")),  # 2001.5 × (0.0300 − 0.0250)
        ("Hong Kong", "sms", Decimal("1.5050")),  # 301 × (0.0450 − 0.0400)
    ]
    assert impact.total == Decimal("11.5125")
    assert isinstance(impact.total, Decimal)
    assert impact.mostly is not None
    assert impact.mostly.place == "United Kingdom"
    assert [(d.place, d.priced_as) for d in impact.unchanged] == [("United Kingdom", "landline")]
    assert impact.not_projected == ()


def test_mostly_names_the_largest_change_in_the_totals_direction() -> None:
    tables = ComparedTables.of(
        [row("FR", "France", "33", "0.10", "0.10", "0.10"), *BEFORE],
        [row("FR", "France", "33", "0.10", "0.30", "0.10"), *after(gb_mobile="0.0450", hk_sms="0")],
    )
    impact = project(
        [
            spend("HK", "Hong Kong", "sms", "sms", "1000"),  # −40.00: the largest change, a fall
            spend("GB", "United Kingdom", "voice", "mobile", "1250"),  # +25.00
            spend("FR", "France", "voice", "mobile", "100"),  # +20.00
        ],
        tables,
    )
    assert [d.place for d in impact.changed] == ["Hong Kong", "United Kingdom", "France"]
    assert impact.total == Decimal("5.00")
    assert impact.mostly is not None
    assert impact.mostly.place == "United Kingdom", "the total rose: the largest rise, not the larger fall"

    cancelled = project(
        [spend("HK", "Hong Kong", "sms", "sms", "500"), spend("FR", "France", "voice", "mobile", "100")],
        tables,
    )
    assert cancelled.total == 0
    assert cancelled.mostly is None


def test_removed_destinations_and_unpriced_traffic_are_listed_not_dropped() -> None:
    tables = ComparedTables.of(BEFORE[1:], after())  # the previous table had no United Kingdom
    impact = project(
        [
            spend("JP", "Japan", "voice", "mobile", "120", cost="6.00"),
            spend(None, "+881", "voice", None, "12", unpriced="12"),
            spend("GB", "United Kingdom", "voice", "mobile", "10", cost="0.25"),
            spend("HK", "Hong Kong", "voice", "mobile", "7", unpriced="2", cost="0.075"),  # 5 priced, 2 not
        ],
        tables,
    )
    assert impact.changed == ()
    assert [(d.place, d.priced_as) for d in impact.unchanged] == [("Hong Kong", "mobile")]
    assert impact.unchanged[0].quantity == Decimal(5)
    assert [(d.place, d.reason, d.quantity, d.cost) for d in impact.not_projected] == [
        ("Japan", "removed", Decimal(120), Decimal("6.00")),
        ("United Kingdom", "not_in_previous", Decimal(10), Decimal("0.25")),
        ("+881", "unpriced", Decimal(12), Decimal(0)),
        ("Hong Kong", "unpriced", Decimal(2), Decimal(0)),
    ]
    assert [d.place for d in impact.removed] == ["Japan"]
    assert impact.total == 0
    assert impact.has_traffic


def test_no_traffic_is_no_impact() -> None:
    impact = project([], ComparedTables.of(BEFORE, after()))
    assert impact == Impact()
    assert not impact.has_traffic


# -- the rendering, pure ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("42.105", "+USD 42.11"),  # half up, not half even
        ("-3.045", "\u2212USD 3.05"),
        ("1234.5", "+USD 1,234.50"),
        ("0.004", "+USD 0.00"),  # under a cent, still which way it goes
        ("0", "USD 0.00"),
    ],
)
def test_money_is_signed_and_rounded_half_up_to_the_cent(amount: str, shown: str) -> None:
    assert signed_money(Decimal(amount)) == shown


def _impacts(count: int) -> Impact:
    places = [f"Place {chr(65 + i)}" for i in range(count)]
    changed = tuple(
        DestinationImpact(
            iso_code=None,
            place=place,
            kind="voice",
            priced_as="mobile",
            quantity=Decimal(100),
            cost=Decimal(1),
            old_rate=Decimal("0.0100"),
            new_rate=Decimal("0.0100") + Decimal("0.0010") * (count - i),
        )
        for i, place in enumerate(places)
    )
    return Impact(changed=changed, total=sum((d.change for d in changed), Decimal(0)))


def test_the_top_five_are_shown_and_the_rest_counted() -> None:
    headline, lines = impact_lines(_impacts(8))
    assert headline.startswith("*For your account: +USD 3.60 a month*, mostly Place A mobile,")
    assert len(lines) == 6
    assert lines[0] == "• *Place A* mobile: *+USD 0.80* · 100 min at $0.0100 → $0.0180"
    assert lines[4].startswith("• *Place E* mobile: *+USD 0.40*")
    assert lines[5] == "• 3 more destinations: +USD 0.60 together"  # 0.30 + 0.20 + 0.10


def test_one_change_is_all_of_it() -> None:
    headline, _ = impact_lines(_impacts(1))
    assert headline.startswith("*For your account: +USD 0.10 a month*, all Place A mobile,")


def test_a_plain_notice_has_no_impact_section_and_an_impact_one_fits_slacks_limits() -> None:
    imported = RateImport.model_validate(
        {
            "table": {"version": 2, "effective_date": date(2026, 12, 1), "label": "December"},
            "previous": {"version": 1, "effective_date": date(2026, 11, 1), "label": "November"},
            "changes": {},
            "created": True,
            "row_count": 2,
        }
    )
    plain = rate_changes_message(imported).as_kwargs()
    assert Block.RATES_IMPACT not in [b.get("block_id") for b in plain["blocks"]]
    many = rate_changes_message(imported, _impacts(26)).as_kwargs()
    assert validate_message(many, where="impact") == []
    assert "21 more destinations" in all_text(many)
    assert many["text"].endswith(
        "For your account: +USD 35.10 a month, mostly Place A mobile, projected from its last 30 days of traffic at the new rates."
    )


# -- end to end ---------------------------------------------------------------------------------------------


@pytest.fixture
def api(http: TestClient) -> IngestApi:  # type: ignore[type-arg]
    return IngestApi(http)


def hour(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:00:00Z")


NOV_10 = datetime(2026, 11, 10, 10, tzinfo=UTC)


async def store_traffic(store: Store, account_id: str, *figures: Figure) -> None:
    """Traffic priced and stored as the ingest API does, without its spike detection."""
    await store.traffic.replace_hours(account_id, await price_figures(figures, RateCache(store)))


async def send_traffic(api: IngestApi, account_id: str, *figures: dict[str, Any]) -> None:
    sent = await api.call("POST", f"/accounts/{account_id}/traffic", json_body={"traffic": list(figures)})
    assert sent.status == 200, sent.body


async def other_account(store: Store, channel: str = "C0OTHER") -> None:
    """A second linked account, with its own alerts channel and (so far) no traffic."""
    await store.accounts.upsert("other", demo_document(DEMO_NOW).model_copy(update={"company_name": "Other"}))
    await store.workspaces.link("T0OTHER", "other")
    await set_alerts_channel(store, "other", channel)


def is_notice(call: RecordedCall, channel: str) -> bool:
    """A rate change notice in `channel` (other alerts, such as traffic spikes, may be posted there too)."""
    blocks = call.params.get("blocks") or []
    return call.params["channel"] == channel and any(b.get("block_id") == Block.RATES_CHANGES for b in blocks)


def notice_in(fake_slack: FakeSlack, channel: str) -> RecordedCall:
    (posted,) = [c for c in fake_slack.calls_to("chat.postMessage") if is_notice(c, channel)]
    return posted


async def notice_posted(fake_slack: FakeSlack, channel: str) -> RecordedCall:
    return await fake_slack.wait_for("chat.postMessage", where=lambda c: is_notice(c, channel))


def impact_text(posted: RecordedCall) -> str:
    (block,) = [b for b in posted.params["blocks"] if b.get("block_id") == Block.RATES_IMPACT]
    return str(block["text"]["text"])


@pytest.fixture
async def before(demo: Store) -> None:
    """The table current before the import, in force since 1 October; alerts channels for both accounts."""
    await demo.rates.import_table(BEFORE, effective_date=date(2026, 10, 1), label="October")
    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0ALERTS")
    await other_account(demo)


@pytest.mark.usefixtures("before")
async def test_an_import_brings_each_account_its_projected_change(
    api: IngestApi, demo: Store, fake_slack: FakeSlack
) -> None:
    """The import at DEMO_NOW (20 November 09:30): the 30 days before are from 21 October 09:30."""
    await send_traffic(
        api,
        DEMO_ACCOUNT,
        voice("2026-11-10T10:00:00Z", "+44", "2001.5", "mobile"),  # 2001.5 × −0.0050 = −10.0075
        sms("2026-11-12T08:00:00Z", "+852", 301),  # 301 × +0.0050 = +1.505
        voice("2026-11-05T09:00:00Z", "+81", 120, "mobile"),  # Japan, removed from the new table
        voice("2026-11-12T09:00:00Z", "+881", 12),  # satellite: no table prices it
        voice("2026-10-21T09:00:00Z", "+44", 1000, "mobile"),  # more than 30 days before: not counted
    )
    client_for = single_client(AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url))
    outcome = await import_rates(
        demo,
        after(),
        effective_date=date(2026, 12, 1),
        label="December",
        client_for_team=client_for,
        now=DEMO_NOW,
    )
    assert [t.channel for t in outcome.announced] == ["C0ALERTS", "C0OTHER"]

    ours = notice_in(fake_slack, "C0ALERTS")
    assert impact_text(ours).splitlines() == [
        "*For your account: \u2212USD 8.50 a month*, mostly United Kingdom mobile, projected from its last 30 "
        "days of traffic at the new rates.",
        f"• {GB} *United Kingdom* mobile: *\u2212USD 10.01* · 2,001.5 min at $0.0250 → $0.0200",
        f"• {HK} *Hong Kong* SMS: *+USD 1.51* · 301 messages at $0.0400 → $0.0450",
        f"*No longer in the rate table*, so not in the projection: {JP} *Japan* mobile (120 min, USD 6.00 in "
        "the last 30 days).",
        "*Not in the projection:* 12 min to *+881* (not priced).",
    ]
    assert "For your account: \u2212USD 8.50 a month" in ours.params["text"]
    blocks = [b.get("block_id") for b in ours.params["blocks"]]
    assert blocks.index(Block.RATES_CHANGES) + 1 == blocks.index(Block.RATES_IMPACT), "under the headline"
    assert "Removed: Japan." in all_text(ours.params), "the notice itself is all there"

    # The account without traffic gets the notice exactly as it was before projections.
    plain = rate_changes_message(outcome.imported).as_kwargs()
    theirs = notice_in(fake_slack, "C0OTHER")
    assert (theirs.params["text"], theirs.params["blocks"]) == (plain["text"], plain["blocks"])


@pytest.mark.usefixtures("before")
async def test_an_account_whose_destinations_kept_their_rates_is_told_so(
    api: IngestApi, demo: Store, fake_slack: FakeSlack
) -> None:
    await send_traffic(api, DEMO_ACCOUNT, voice("2026-11-10T10:00:00Z", "+44", 90, "landline"))
    client_for = single_client(AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url))
    await import_rates(
        demo,
        after(japan=True),
        effective_date=date(2026, 12, 1),
        label="Dec",
        client_for_team=client_for,
        now=DEMO_NOW,
    )
    assert impact_text(notice_in(fake_slack, "C0ALERTS")) == (
        ":white_check_mark: *For your account: no change* — the destinations of its last 30 days of traffic "
        "cost the same at the new rates."
    )


@pytest.mark.usefixtures("before")
async def test_a_failing_channel_does_not_stop_the_next_accounts_projection(
    demo: Store, fake_slack: FakeSlack
) -> None:
    # Stored without the ingest API, so that no other post (a traffic spike alert) takes the failure.
    await store_traffic(demo, DEMO_ACCOUNT, Figure(NOV_10, "+44", "voice", "mobile", Decimal(100)))
    await store_traffic(demo, "other", Figure(NOV_10, "+852", "sms", None, Decimal(2000)))
    fake_slack.fail("chat.postMessage", error="channel_not_found")  # the first post: demo's
    client_for = single_client(AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url))
    outcome = await import_rates(
        demo, after(), effective_date=date(2026, 12, 1), label="Dec", client_for_team=client_for, now=DEMO_NOW
    )
    assert [(t.channel, reason) for t, reason in outcome.failed] == [("C0ALERTS", "channel_not_found")]
    assert [t.channel for t in outcome.announced] == ["C0OTHER"]
    assert (
        impact_text(notice_in(fake_slack, "C0OTHER"))
        .splitlines()[0]
        .startswith(
            "*For your account: +USD 10.00 a month*, all Hong Kong SMS,"  # 2000 × 0.0050, not demo's figure
        )
    )


@pytest.mark.usefixtures("before")
async def test_a_projection_that_fails_leaves_the_notice_as_it_was(
    demo: Store, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await store_traffic(demo, DEMO_ACCOUNT, Figure(NOV_10, "+44", "voice", "mobile", Decimal(100)))

    async def broken(*args: object, **kwargs: object) -> list[DestinationSpend]:
        raise RuntimeError("the traffic store is down")

    monkeypatch.setattr(demo.traffic, "by_destination", broken)
    client_for = single_client(AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url))
    outcome = await import_rates(
        demo, after(), effective_date=date(2026, 12, 1), label="Dec", client_for_team=client_for, now=DEMO_NOW
    )
    assert [t.channel for t in outcome.announced] == ["C0ALERTS", "C0OTHER"]
    plain = rate_changes_message(outcome.imported).as_kwargs()
    assert notice_in(fake_slack, "C0ALERTS").params["blocks"] == plain["blocks"]
    assert "rate change impact for demo not projected" in caplog.text
    assert "the traffic store is down" in caplog.text


# Through the ingest API and the CLI, which import at the moment they run: the traffic is sent relative to
# that moment (the test's clock starts at the current hour), and the figures do not depend on it. Both post
# with the app's own clients, which serve the sample workspace only.


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


async def table_in_force(demo: Store, clock: FakeClock) -> datetime:
    """The before table in force for the last 40 days; the sample account's alerts channel."""
    clock.now = this_hour()
    await demo.rates.import_table(
        BEFORE, effective_date=(clock.now - timedelta(days=40)).date(), label="Before"
    )
    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0ALERTS")
    return clock.now


async def recent_traffic(demo: Store, api: IngestApi, clock: FakeClock) -> datetime:
    """Traffic to the UK three days ago and to Hong Kong ten days ago (and some too old to count)."""
    now = await table_in_force(demo, clock)
    await send_traffic(
        api,
        DEMO_ACCOUNT,
        voice(hour(now - timedelta(days=3)), "+44", 1500, "mobile"),  # 1500 × 0.0200 = +30.00
        sms(hour(now - timedelta(days=10)), "+852", 1000),  # 1000 × −0.0050 = −5.00
        voice(hour(now - timedelta(days=31)), "+44", 9999, "mobile"),  # too old to count
    )
    return now


def new_rates_body(now: datetime) -> dict[str, Any]:
    rows = after(gb_mobile="0.0450", hk_sms="0.0350", japan=True)
    return {
        "effective_date": now.date().isoformat(),
        "label": "New rates",
        "rows": [r.model_dump(mode="json") for r in rows],
    }


@pytest.mark.usefixtures("demo")
async def test_put_rates_announces_the_accounts_projected_change(
    api: IngestApi, demo: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    now = await recent_traffic(demo, api, clock)
    reply = await api.call("PUT", "/rates", json_body=new_rates_body(now))
    assert reply.status == 200, reply.body

    ours = await notice_posted(fake_slack, "C0ALERTS")
    assert impact_text(ours).splitlines() == [
        "*For your account: +USD 25.00 a month*, mostly United Kingdom mobile, projected from its last 30 "
        "days of traffic at the new rates.",
        f"• {GB} *United Kingdom* mobile: *+USD 30.00* · 1,500 min at $0.0250 → $0.0450",
        f"• {HK} *Hong Kong* SMS: *\u2212USD 5.00* · 1,000 messages at $0.0400 → $0.0350",
    ]
    assert "For your account: +USD 25.00 a month" in ours.params["text"]


@pytest.mark.usefixtures("demo")
async def test_put_rates_gives_an_account_without_recent_traffic_the_plain_notice(
    api: IngestApi, demo: Store, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    now = await table_in_force(demo, clock)
    await send_traffic(api, DEMO_ACCOUNT, voice(hour(now - timedelta(days=31)), "+44", 9999, "mobile"))
    reply = await api.call("PUT", "/rates", json_body=new_rates_body(now))
    assert reply.status == 200, reply.body

    notice = await notice_posted(fake_slack, "C0ALERTS")
    assert Block.RATES_IMPACT not in [b.get("block_id") for b in notice.params["blocks"]]
    assert "For your account" not in notice.params["text"]
    assert "Largest increases" in all_text(notice.params)


@pytest.mark.usefixtures("demo")
async def test_the_cli_import_announces_the_accounts_projected_change(
    api: IngestApi,
    demo: Store,
    fake_slack: FakeSlack,
    clock: FakeClock,
    database_url: str,
    tmp_path: Path,
) -> None:
    now = await recent_traffic(demo, api, clock)
    text = to_csv(after(gb_mobile="0.0450", hk_sms="0.0350", japan=True))
    slack_env = {
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake_slack.api_url,
    }
    code, out, err = await amyplan(
        "import-rates",
        str(write(tmp_path, "new.csv", text)),
        "--effective-date",
        now.date().isoformat(),
        env=slack_env,
    )
    assert code == 0, err
    assert "announced the changes in 1 alerts channel(s)" in out

    ours = await notice_posted(fake_slack, "C0ALERTS")
    assert impact_text(ours).splitlines()[:2] == [
        "*For your account: +USD 25.00 a month*, mostly United Kingdom mobile, projected from its last 30 "
        "days of traffic at the new rates.",
        f"• {GB} *United Kingdom* mobile: *+USD 30.00* · 1,500 min at $0.0250 → $0.0450",
    ]
