"""Traffic by destination in: `POST /api/v1/accounts/{id}/traffic`, priced by the rate table in force."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.demo import DEMO_ACCOUNT
from store import Store
from store.domain.rates import RateRow
from store.domain.traffic import DestinationSpend
from tests.support.apiclient import IngestApi

pytestmark = pytest.mark.usefixtures("demo")

NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 1, tzinfo=UTC)


def rates(gb_mobile: str = "0.0250") -> list[RateRow]:
    return [
        RateRow(
            dial_code="44",
            iso_code="GB",
            destination="United Kingdom",
            landline_per_min=Decimal("0.0100"),
            mobile_per_min=Decimal(gb_mobile),
            sms_per_message=Decimal("0.0450"),
        ),
        RateRow(
            dial_code="852",
            iso_code="HK",
            destination="Hong Kong",
            landline_per_min=Decimal("0.0120"),
            mobile_per_min=Decimal("0.0150"),
            sms_per_message=Decimal("0.0400"),
        ),
    ]


@pytest.fixture
async def table(store: Store) -> None:
    """A table in force from 1 November (the sample account's own table starts later)."""
    await store.rates.import_table(rates(), effective_date=date(2026, 11, 1), label="November")


@pytest.fixture
def api(http: TestClient) -> IngestApi:  # type: ignore[type-arg]
    return IngestApi(http)


def voice(hour: str, destination: str, minutes: Any, line_type: str | None = None) -> dict[str, Any]:
    figure = {"hour": hour, "destination": destination, "kind": "voice", "minutes": minutes}
    return figure | ({"line_type": line_type} if line_type else {})


def sms(hour: str, destination: str, messages: int) -> dict[str, Any]:
    return {"hour": hour, "destination": destination, "kind": "sms", "messages": messages}


async def post(api: IngestApi, *figures: dict[str, Any], **kwargs: Any) -> Any:
    return await api.call(
        "POST", f"/accounts/{DEMO_ACCOUNT}/traffic", json_body={"traffic": list(figures)}, **kwargs
    )


async def spend(store: Store) -> dict[tuple[str, str, str | None], DestinationSpend]:
    found = await store.traffic.by_destination(DEMO_ACCOUNT, NOVEMBER, DECEMBER)
    return {(s.place, s.kind, s.priced_as): s for s in found}


H10 = "2026-11-10T10:00:00Z"
H11 = "2026-11-10T11:00:00Z"


@pytest.mark.usefixtures("table")
async def test_each_figure_is_priced_by_its_entry_and_line_type(api: IngestApi, store: Store) -> None:
    reply = await post(
        api,
        voice(H10, "+44", 120, "mobile"),
        voice(H10, "+44", "30.5"),  # no line type, a prefix: the landline rate
        voice(H10, "+447400123456", 10),  # a full mobile number: its own type
        sms(H10, "+852", 300),
    )
    assert reply.status == 200, reply.body
    assert {**reply.body, "cost": Decimal(reply.body["cost"])} == {
        "received": 4,
        "hours": 1,
        "replaced": 0,
        "unpriced": 0,
        "cost": Decimal("15.555"),  # 3.0000 + 0.305 + 0.25 + 12.0000
    }
    found = await spend(store)
    assert found["United Kingdom", "voice", "mobile"].quantity == Decimal("130")
    assert found["United Kingdom", "voice", "mobile"].cost == Decimal("3.25")
    assert found["United Kingdom", "voice", "mobile"].rate == Decimal("0.0250")
    assert found["United Kingdom", "voice", "landline"].cost == Decimal("0.305")
    assert found["Hong Kong", "sms", "sms"].cost == Decimal("12")
    assert await store.traffic.period_cost(DEMO_ACCOUNT, NOVEMBER, DECEMBER) == Decimal("15.555")


async def test_each_hour_is_priced_by_the_table_in_force_that_day(api: IngestApi, store: Store) -> None:
    await store.rates.import_table(rates("0.0250"), effective_date=date(2026, 11, 1), label="November")
    await store.rates.import_table(rates("0.0300"), effective_date=date(2026, 11, 15), label="Mid-November")
    before, after = "2026-11-14T23:00:00Z", "2026-11-15T00:00:00Z"
    reply = await post(api, voice(before, "+44", 100, "mobile"), voice(after, "+44", 100, "mobile"))
    assert reply.status == 200, reply.body
    assert Decimal(reply.body["cost"]) == Decimal("5.5")  # 2.50 at the old rate, 3.00 at the new
    assert (await spend(store))["United Kingdom", "voice", "mobile"].rate == Decimal("0.0300"), "the newest"


@pytest.mark.usefixtures("table")
async def test_a_re_sent_hour_replaces_that_hours_figures(api: IngestApi, store: Store) -> None:
    assert (
        await post(api, voice(H10, "+44", 100, "mobile"), sms(H10, "+852", 50), sms(H11, "+852", 7))
    ).status == 200
    reply = await post(api, voice(H10, "+44", 60, "mobile"))
    assert reply.status == 200, reply.body
    assert (reply.body["hours"], reply.body["replaced"]) == (1, 2)
    found = await spend(store)
    assert found["United Kingdom", "voice", "mobile"].quantity == Decimal("60"), "replaced, not added"
    assert found["Hong Kong", "sms", "sms"].quantity == Decimal("7"), "the hour re-sent without it lost it"


@pytest.mark.usefixtures("table")
async def test_a_retried_request_is_answered_not_applied_again(api: IngestApi, store: Store) -> None:
    first = await post(api, sms(H10, "+852", 50), key="traffic-1")
    again = await post(api, sms(H10, "+852", 50), key="traffic-1")
    assert again.status == first.status == 200
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (await spend(store))["Hong Kong", "sms", "sms"].quantity == Decimal("50")


@pytest.mark.usefixtures("table")
async def test_traffic_the_table_cannot_price_is_kept_with_the_reason(api: IngestApi, store: Store) -> None:
    reply = await post(
        api,
        voice(H10, "+449012345678", 40),  # a UK premium-rate number
        voice(H10, "+881", 12),  # a satellite network: no entry
        voice("2026-10-31T23:00:00Z", "+44", 5),  # before any table was in force
        voice(H10, "+44", "0.0001", "landline"),
    )
    assert reply.status == 200, reply.body
    assert reply.body["unpriced"] == 3
    assert Decimal(reply.body["cost"]) == Decimal("0.000001")
    found = await store.traffic.by_destination(DEMO_ACCOUNT, datetime(2026, 10, 1, tzinfo=UTC), DECEMBER)
    unpriced = {(s.place, s.unpriced_quantity) for s in found if s.unpriced_quantity}
    assert unpriced == {("United Kingdom", Decimal("40")), ("+881", Decimal("12")), ("+44", Decimal("5"))}
    stored = await store.traffic.hours(DEMO_ACCOUNT, datetime(2026, 10, 1, tzinfo=UTC), DECEMBER)
    assert sorted((f.destination, f.unpriced or "") for f in stored) == [
        ("+44", ""),
        ("+44", "no_table"),
        ("+449012345678", "premium"),
        ("+881", "no_rate"),
    ]


@pytest.mark.usefixtures("table")
async def test_a_bad_batch_is_refused_whole_naming_each_row(api: IngestApi, store: Store) -> None:
    reply = await post(
        api,
        voice(H10, "+44", 10, "mobile"),
        voice("2026-11-10T10:30:00Z", "+44", 10),
        voice(H10, "+809", 10),  # +1 809 is a NANP area code: no +809
        {"hour": H10, "destination": "+852", "kind": "voice", "messages": 3},
        sms(H10, "852", 3),
        voice(H10, "+44", 10, "mobile"),
        voice(H10, "+44", -1),
        voice("2027-01-01T00:00:00Z", "+44", 1),
    )
    assert reply.status == 422, reply.body
    fields = reply.fields
    assert set(fields) == {
        "traffic.1.hour",
        "traffic.2.destination",
        "traffic.3",
        "traffic.4.destination",
        "traffic.6.minutes",
        "traffic.7.hour",
    }, fields
    assert "start of an hour" in fields["traffic.1.hour"]
    assert "country calling code" in fields["traffic.2.destination"]
    assert "+ and 1 to 15 digits" in fields["traffic.4.destination"]
    assert "needs minutes" in fields["traffic.3"]
    assert await store.traffic.hours(DEMO_ACCOUNT, NOVEMBER, DECEMBER) == [], "nothing half-written"
    repeated = await post(api, voice(H10, "+44", 10, "mobile"), voice(H10, "+44", 12, "mobile"))
    assert repeated.status == 422
    assert repeated.fields == {
        "traffic.1": "repeats an earlier figure's hour, destination, kind and line type"
    }


async def test_traffic_for_an_unknown_account_is_404(api: IngestApi) -> None:
    reply = await api.call("POST", "/accounts/nobody/traffic", json_body={"traffic": [sms(H10, "+852", 1)]})
    assert reply.status == 404, reply.body
