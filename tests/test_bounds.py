"""Bounds at every entrance: the types (defined once), the ingest API, the rate CSV and the stored-data
readers. A value out of bounds is refused naming its field (or line), and nothing is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import BaseModel, ValidationError
from sqlalchemy import update

from bot.api.examples import rate_table_example
from bot.core import bounds
from bot.demo import DEMO_ACCOUNT, demo_document
from bot.rates import HEADER_LINE, RateFileError, parse_csv
from bot.server import create_web_app
from handlers.services import Services
from store import Store
from store.domain.account import AccountDocument
from store.tables import RateRowRow
from tests.support.apiclient import IngestApi, reading
from tests.support.clock import DEMO_NOW, FakeClock

pytestmark = pytest.mark.usefixtures("demo")

NOW = DEMO_NOW + timedelta(hours=1)
"""The API's clock in these tests (injected: nothing here depends on the real time)."""


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class _Stamped(BaseModel):
    at: bounds.Timestamp


class _Dated(BaseModel):
    on: bounds.BoundedDate


def stamped(value: object, now: datetime | None = NOW) -> datetime:
    context = bounds.validation_context(now) if now is not None else None
    return _Stamped.model_validate({"at": value}, context=context).at


# --- the types ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00Z",  # Go's zero time
        "1999-12-31T23:59:59Z",
        "2000-01-01T00:59:59+01:00",  # 1999 in UTC
        z(NOW + bounds.MAX_AHEAD + timedelta(seconds=1)),
        "9999-12-31T23:59:59-01:00",  # out of range once in UTC
    ],
)
def test_a_timestamp_outside_the_window_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        stamped(value)


def test_a_timestamp_inside_the_window_is_kept_in_utc() -> None:
    assert stamped("2000-01-01T00:00:00Z") == bounds.EARLIEST
    assert stamped(z(NOW + bounds.MAX_AHEAD)) == NOW + bounds.MAX_AHEAD
    assert stamped("2026-11-20T11:30:00+01:00") == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    # Without an entrance's "now" (the service building a document itself) only the fixed window applies.
    assert stamped("2090-01-01T00:00:00Z", now=None).year == 2090
    with pytest.raises(ValidationError):
        stamped("0001-01-01T00:00:00Z", now=None)


@pytest.mark.parametrize(("value", "ok"), [("0001-01-01", False), ("1999-12-31", False), ("2000-01-01", True),
                                           ("2099-12-31", True), ("2100-01-01", False)])  # fmt: skip
def test_dates_are_from_2000_to_2099(value: str, ok: bool) -> None:
    if ok:
        assert _Dated.model_validate({"on": value}).on == date.fromisoformat(value)
    else:
        with pytest.raises(ValidationError):
            _Dated.model_validate({"on": value})


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (
            bounds.Rate,
            ["0", "0.0100", "999.9999", 12],
            ["1E+30", "1" * 40, "1000", "0.00001", "-0", "NaN", 1e30, "0.01000", "0E+5", "0E-7"],
        ),
        (bounds.Price, ["0.0040", "999.9999"], ["1000", "0.00001", "Infinity", "0.00000"]),
        (bounds.Fee, ["1299.00", "9999999.9999", "0E+5"], ["10000000", "1E+7", "0.00001", "0E-5000"]),
        (
            bounds.Amount,
            ["5000", "9999999999.9999", "4120.0000"],
            ["10000000000", "-1", "1.00000", "0E-999999999"],
        ),
        (bounds.Count, [0, bounds.MAX_COUNT], [-1, bounds.MAX_COUNT + 1]),
        (
            bounds.Label,
            ["December 2026 rates", "x" * 200],
            ["", "x" * 201, "a\x00b", "line\nbreak", "\x85", "\ud800"],
        ),
        (bounds.AccountId, ["acme", "a.b-c_d"], ["", "-acme", "a" * 65, "ac me", "a\x00"]),
        (bounds.TeamId, ["T0DEMO"], ["t0demo", "T0DEMO\x00", "T"]),
    ],
)
def test_each_kind_of_value_has_bounds(kind: Any, good: list[object], bad: list[object]) -> None:
    for value in good:
        bounds.check(kind, value)
    for value in bad:
        with pytest.raises(bounds.OutOfBounds):
            bounds.check(kind, value)


def test_a_rate_keeps_its_form_and_a_fee_is_normalised() -> None:
    assert str(bounds.check(bounds.Rate, "0.0100")) == "0.0100"
    assert str(bounds.check(bounds.Fee, "1E+3")) == "1000"


# --- the ingest API, with an injected clock ---------------------------------------------------------------


@pytest.fixture
async def api(services: Services) -> AsyncIterator[IngestApi]:
    """The ingest API whose "now" is `NOW`."""
    clocked = Services.build(services.settings, services.store, clock=FakeClock(NOW))
    async with TestClient(TestServer(create_web_app(clocked, None))) as client:
        yield IngestApi(client)


def account(**changes: Any) -> dict[str, Any]:
    return {**demo_document(DEMO_NOW).model_dump(mode="json"), **changes}


async def test_an_unset_reading_time_is_422_and_nothing_is_recorded(api: IngestApi, store: Store) -> None:
    before = await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=bounds.EARLIEST)
    answer = await api.post_usage(
        DEMO_ACCOUNT,
        reading("voice_minutes", 4100, z(NOW)),
        reading("voice_minutes", 4200, "0001-01-01T00:00:00Z"),
    )
    assert answer.status == 422
    assert set(answer.fields) == {"readings.1.at"}
    assert "2000-01-01" in answer.fields["readings.1.at"]
    assert await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=bounds.EARLIEST) == before


async def test_a_reading_may_be_five_minutes_ahead_of_the_server_and_no_more(api: IngestApi) -> None:
    late = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, z(NOW + timedelta(minutes=6))))
    assert late.status == 422
    assert "5 minutes in the future" in late.fields["readings.0.at"]
    skewed = await api.post_usage(DEMO_ACCOUNT, reading("voice_minutes", 4100, z(NOW + timedelta(minutes=5))))
    assert skewed.status == 200, skewed.body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_start": "0001-01-01"}, "period_start"),
        ({"next_payment_date": "2100-01-01"}, "next_payment_date"),
        ({"data_as_of": "0001-01-01T00:00:00Z"}, "data_as_of"),
        ({"data_as_of": z(NOW + timedelta(hours=1))}, "data_as_of"),
        ({"monthly_fee": "10000000"}, "monthly_fee"),
        ({"voip_rate_per_min": "1E+30"}, "voip_rate_per_min"),
        ({"staff_licences_assigned": False}, "staff_licences_assigned"),
        ({"plan_name": "PRO\x00"}, "plan_name"),
    ],
)
async def test_an_account_out_of_bounds_is_422_naming_the_field_and_nothing_changes(
    api: IngestApi, store: Store, changes: dict[str, Any], field: str
) -> None:
    before = await store.accounts.document(DEMO_ACCOUNT)
    answer = await api.put_account(DEMO_ACCOUNT, account(**changes))
    assert answer.status == 422, answer.body
    assert field in answer.fields
    assert await store.accounts.document(DEMO_ACCOUNT) == before
    assert (await api.put_account("fresh", account(**changes))).status == 422
    assert not await store.accounts.exists("fresh")


async def test_an_address_on_several_lines_goes_back_and_forth_as_the_modal_takes_it(api: IngestApi) -> None:
    """The Company Information modal's address is a multi-line input: what it saved, the API gives back and
    takes again; other control characters stay refused."""
    address = "18/F, 8 Harbour Road\nWan Chai\tHong Kong"
    document = account()
    document["company"] = {**document["company"], "address": address}
    assert (await api.put_account(DEMO_ACCOUNT, document)).status == 200
    stored = (await api.get_account(DEMO_ACCOUNT)).body
    assert stored["company"]["address"] == address
    assert (await api.put_account(DEMO_ACCOUNT, stored)).status == 200, "a round trip changes nothing"
    document["company"]["address"] = "18/F\x00"
    refused = await api.put_account(DEMO_ACCOUNT, document)
    assert refused.status == 422
    assert set(refused.fields) == {"company.address"}


async def test_a_feature_change_dated_before_2000_is_422(api: IngestApi) -> None:
    answer = await api.put_feature(DEMO_ACCOUNT, "directory", {"used": 1, "at": "0001-01-01T00:00:00Z"})
    assert answer.status == 422
    assert set(answer.fields) == {"at"}


def rate_table(**row_changes: Any) -> dict[str, Any]:
    table = rate_table_example()
    table["rows"][0].update(row_changes)
    return table


async def test_places_count_as_written_so_a_zero_with_a_huge_exponent_is_refused_at_once(
    api: IngestApi, store: Store
) -> None:
    """pydantic counts a zero's places once normalised (none): written out, "0E-999999999" is a billion
    zeros, which took seconds and gigabytes, and PostgreSQL's driver refuses such an exponent (a 500)."""
    before = await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=bounds.EARLIEST)
    readings = [reading("voice_minutes", used, z(NOW)) for used in ("0E-999999999", "4100", "1.00000")]
    answer = await api.post_usage(DEMO_ACCOUNT, *readings)
    assert answer.status == 422
    assert set(answer.fields) == {"readings.0.used", "readings.2.used"}
    assert "at most 4 decimal places" in answer.fields["readings.0.used"]
    assert await store.usage.history(DEMO_ACCOUNT, "voice_minutes", since=bounds.EARLIEST) == before


@pytest.mark.parametrize("rate", ["1E+30", 1e30, "1" * 40, "1000", "0.00001", "0E-20000", "0E+5", "0.01000"])
async def test_an_absurd_rate_is_422_and_the_table_stays(api: IngestApi, store: Store, rate: object) -> None:
    before = await store.rates.current_info()
    answer = await api.call("PUT", "/rates", json_body=rate_table(mobile_per_min=rate))
    assert answer.status == 422, answer.body
    assert set(answer.fields) == {"rows.0.mobile_per_min"}
    assert await store.rates.current_info() == before


async def test_a_label_with_a_nul_is_422_as_json_and_as_a_csv_query(api: IngestApi, store: Store) -> None:
    before = await store.rates.current_info()
    as_json = await api.call("PUT", "/rates", json_body={**rate_table_example(), "label": "Dec\x00ember"})
    assert as_json.status == 422
    assert set(as_json.fields) == {"label"}
    csv = f"{HEADER_LINE}\n44,GB,United Kingdom,0.0100,0.0250,0.0450\n"
    as_csv = await api.call("PUT", "/rates?label=Dec%00ember", data=csv, headers={"Content-Type": "text/csv"})
    assert as_csv.status == 422
    assert set(as_csv.fields) == {"label"}
    assert await store.rates.current_info() == before


async def test_a_csv_query_that_is_not_utf8_is_400_not_kept_as_replacement_characters(
    api: IngestApi, store: Store
) -> None:
    before = await store.rates.current_info()
    csv = f"{HEADER_LINE}\n44,GB,United Kingdom,0.0100,0.0250,0.0450\n"
    answer = await api.call("PUT", "/rates?label=%FF%FE", data=csv, headers={"Content-Type": "text/csv"})
    assert answer.status == 400, answer.body
    assert answer.body["error"] == "malformed_query"
    assert await store.rates.current_info() == before


async def test_a_csv_cell_over_the_csv_limit_is_422_naming_the_line(api: IngestApi, store: Store) -> None:
    before = await store.rates.current_info()
    csv = (
        f'{HEADER_LINE}\n44,GB,United Kingdom,0.0100,0.0250,0.0450\n852,HK,"{"x" * 131_073}",0.01,0.01,0.01\n'
    )
    answer = await api.call("PUT", "/rates", data=csv, headers={"Content-Type": "text/csv"})
    assert answer.status == 422, answer.body
    assert answer.fields == {
        "line 3": "a cell is longer than 131,072 characters (is a closing quote missing?)"
    }
    assert await store.rates.current_info() == before


async def test_a_csv_of_many_bad_lines_is_refused_at_its_row_limit_without_checking_each(
    api: IngestApi, store: Store
) -> None:
    """A 1 MiB body holds half a million one-character lines: refused at the row limit (not each checked,
    which took seconds, nor each listed, which made a 33 MB answer)."""
    before = await store.rates.current_info()
    csv = HEADER_LINE + "\n" + "x\n" * 520_000
    answer = await api.call("PUT", "/rates", data=csv, headers={"Content-Type": "text/csv"})
    assert answer.status == 422, answer.body
    assert answer.fields == {"line 20002": "a rate table has at most 20,000 rows; this is row 20,001"}
    assert await store.rates.current_info() == before


async def test_an_answer_lists_the_first_hundred_problems_and_says_how_many(api: IngestApi) -> None:
    csv = HEADER_LINE + "\n" + "x\n" * 20_000
    answer = await api.call("PUT", "/rates", data=csv, headers={"Content-Type": "text/csv"})
    assert answer.status == 422
    assert answer.body["message"] == "20,000 fields are invalid; the first 100 are listed"
    assert len(answer.body["errors"]) == 100
    assert answer.body["errors"][0] == {"field": "line 2", "message": "expected 6 columns, found 1"}


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ("44,GB,UK,1000,0.01,0.01", "landline_per_min '1000' is too high"),
        (
            f"44,GB,UK,0.01,{'1' * 40},0.01",
            "mobile_per_min '1111111111111111111111111111111111111111' is too high",
        ),
        ("44,GB,UK,0.01,0.01,0.00001", "sms_per_message '0.00001' has more than 4 decimal places"),
        ("44,GB,U\x85K,0.01,0.01,0.01", "destination contains a line break or control character"),
        ("358,\ufb01,Finland,0.01,0.01,0.01", "iso_code 'ﬁ' is not a known ISO 3166-1 alpha-2 code"),
    ],
)
def test_the_csv_reader_keeps_the_same_bounds(cells: str, reason: str) -> None:
    with pytest.raises(RateFileError) as refused:
        parse_csv(f"{HEADER_LINE}\n{cells}\n")
    ((line, problem),) = refused.value.problems
    assert line == 2
    assert problem.startswith(reason)


# --- the document states them ------------------------------------------------------------------------------


async def test_the_openapi_document_states_the_bounds(api: IngestApi) -> None:
    schemas = (await api.call("GET", "/openapi.json", token=None)).body["components"]["schemas"]
    at = schemas["ReadingIn"]["properties"]["at"]
    assert (at["format"], at["pattern"]) == ("date-time", "^20[0-9]{2}-")
    assert "5 minutes" in at["description"]
    start = schemas["AccountDocument-Input"]["properties"]["period_start"]
    assert (start["format"], start["pattern"]) == ("date", "^20[0-9]{2}-[0-9]{2}-[0-9]{2}$")
    rate = schemas["RateRow"]["properties"]["mobile_per_min"]
    assert rate["anyOf"][0] == {"type": "number", "minimum": 0.0, "maximum": 999.9999}
    assert rate["pattern"] == r"^[0-9]{1,3}(\.[0-9]{1,4})?$"
    fee = schemas["AccountDocument-Input"]["properties"]["monthly_fee"]
    assert fee["anyOf"][0]["maximum"] == 9999999.9999
    label = schemas["RateTableIn"]["properties"]["label"]
    assert (label["maxLength"], label["pattern"]) == (200, "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")


# --- readers of what was stored before the bounds -----------------------------------------------------------


async def test_a_stored_rate_out_of_bounds_is_left_out_by_the_readers(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    table = await store.rates.table()
    assert table is not None
    async with store.db.session() as session:
        await session.execute(
            update(RateRowRow)
            .where(RateRowRow.version == table.version, RateRowRow.iso_code == "GB")
            .values(mobile_per_min=Decimal("1E+30"))
        )
    read = await store.rates.table()
    assert read is not None
    assert [row.iso_code for row in read.rows] == [row.iso_code for row in table.rows if row.iso_code != "GB"]
    assert any("GB" in r.getMessage() and "out of bounds" in r.getMessage() for r in caplog.records)


def test_a_document_the_service_builds_itself_is_not_held_to_the_api_s_clock() -> None:
    """The sample account is dated whenever `myplan demo` is asked to date it."""
    future = datetime(2090, 1, 1, tzinfo=UTC)
    assert AccountDocument.model_validate(demo_document(future).model_dump()).data_as_of == future
