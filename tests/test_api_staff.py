"""`PUT`/`GET /api/v1/accounts/{account_id}/staff`: the billing platform's staff-account activity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.demo import DEMO_ACCOUNT
from bot.server import create_web_app
from bot.settings import Settings
from handlers.services import Services
from store import Store
from store.domain.bounds import MAX_STAFF
from tests.support.apiclient import IngestApi
from tests.support.clock import DEMO_NOW, FakeClock

pytestmark = pytest.mark.usefixtures("demo")

PATH = f"/accounts/{DEMO_ACCOUNT}/staff"


@pytest.fixture
async def api(settings: Settings, store: Store, clock: FakeClock) -> AsyncIterator[IngestApi]:
    """The real app whose clock is the test's: "in the future" means ahead of `clock`."""
    async with aiohttp.ClientSession() as session:
        services = Services.build(settings, store, session, clock=clock)
        http = TestClient(TestServer(create_web_app(services, create_app(services))))
        await http.start_server()
        yield IngestApi(http)
        await http.close()


def at(**ago: float) -> str:
    return (DEMO_NOW - timedelta(**ago)).isoformat().replace("+00:00", "Z")


def member(staff_id: str, name: str, *, licensed: bool = True, active: str | None = None) -> dict[str, Any]:
    return {"id": staff_id, "display_name": name, "licensed": licensed, "last_active_at": active}


def staff_list() -> dict[str, Any]:
    return {
        "staff": [
            member("s-1001", "Mei Ling Chan", active=at(hours=3)),
            member("s-1002", "Tom Wong", active=at(days=45)),
            member("s-1003", "Priya Nair", licensed=False),
        ]
    }


async def put(api: IngestApi, body: Any, **kwargs: Any) -> Any:
    return await api.call("PUT", PATH, json_body=body, **kwargs)


async def test_get_returns_what_put_accepted_and_sending_it_back_changes_nothing(
    api: IngestApi, store: Store
) -> None:
    assert (await api.call("GET", PATH)).body == {"staff": []}  # nothing sent yet

    put_reply = await put(api, staff_list())
    assert put_reply.status == 200, put_reply.body
    got = await api.call("GET", PATH)
    assert got.status == 200
    assert got.body == put_reply.body == staff_list()

    assert (await put(api, got.body)).body == got.body
    activity = await store.staff.activity(DEMO_ACCOUNT)
    assert [m.id for m in activity.staff] == ["s-1001", "s-1002", "s-1003"]


async def test_a_put_replaces_the_whole_list(api: IngestApi) -> None:
    assert (await put(api, staff_list())).status == 200
    smaller = {"staff": [member("s-2001", "Ana Lopes", active=at(days=1))]}
    assert (await put(api, smaller)).status == 200
    assert (await api.call("GET", PATH)).body == smaller
    assert (await put(api, {"staff": []})).status == 200
    assert (await api.call("GET", PATH)).body == {"staff": []}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: s[0].pop("display_name"), "staff.0.display_name"),
        (lambda s: s[1].update(licensed="yes"), "staff.1.licensed"),
        (lambda s: s[1].update(licensed=1), "staff.1.licensed"),
        (lambda s: s[0].update(id="no spaces allowed"), "staff.0.id"),
        (lambda s: s[0].update(id="s" * 65), "staff.0.id"),
        (lambda s: s[2].update(id="s-1001"), "staff.2.id"),  # a repeated id
        (lambda s: s[0].update(display_name=""), "staff.0.display_name"),
        (lambda s: s[0].update(display_name="x" * 101), "staff.0.display_name"),
        (lambda s: s[0].update(display_name="Mei\nChan"), "staff.0.display_name"),
        (lambda s: s[0].update(display_name="Mei\x00"), "staff.0.display_name"),
        (lambda s: s[0].update(last_active_at=at(minutes=-6)), "staff.0.last_active_at"),  # ahead
        (lambda s: s[0].update(last_active_at="2026-11-20T09:00:00"), "staff.0.last_active_at"),  # no offset
        (lambda s: s[0].update(last_active_at="1999-12-31T23:59:59Z"), "staff.0.last_active_at"),
        (lambda s: s[0].update(role="agent"), "staff.0.role"),
    ],
)
async def test_a_bad_staff_body_is_a_422_naming_the_field_and_writes_nothing(
    api: IngestApi, change: Any, field: str
) -> None:
    assert (await put(api, staff_list())).status == 200
    body = staff_list()
    change(body["staff"])
    refused = await put(api, body)
    assert refused.status == 422, refused.body
    assert list(refused.fields) == [field]
    assert (await api.call("GET", PATH)).body == staff_list()


async def test_the_list_and_the_body_are_bounded(api: IngestApi) -> None:
    assert list((await put(api, {})).fields) == ["staff"]
    assert list((await put(api, {"staff": "everyone"})).fields) == ["staff"]
    too_many = {"staff": [member(f"s{n}", "A") for n in range(MAX_STAFF + 1)]}
    assert list((await put(api, too_many)).fields) == ["staff"]
    most = {"staff": [member(f"s{n}", "A", active=at(days=n % 90)) for n in range(MAX_STAFF)]}
    assert (await put(api, most)).status == 200


async def test_last_active_a_little_ahead_of_the_clock_is_skew_not_an_error(
    api: IngestApi, clock: FakeClock
) -> None:
    body = {"staff": [member("s-1", "Mei", active=at(minutes=-4))]}
    assert (await put(api, body)).status == 200
    clock.advance(hours=1)  # the same time, now in the past, still reads back the same
    assert (await api.call("GET", PATH)).body == body


async def test_an_unknown_account_is_a_404(api: IngestApi) -> None:
    assert (await api.call("PUT", "/accounts/nobody/staff", json_body=staff_list())).status == 404
    assert (await api.call("GET", "/accounts/nobody/staff")).status == 404
    assert list((await api.call("GET", "/accounts/-bad-/staff")).fields) == ["account_id"]


async def test_a_retry_with_the_same_key_is_answered_not_applied_again(api: IngestApi) -> None:
    first = await put(api, staff_list(), key="staff-1")
    assert (await put(api, {"staff": []})).status == 200  # a later change in between
    again = await put(api, staff_list(), key="staff-1")
    assert again.status == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.body == first.body
    assert (await api.call("GET", PATH)).body == {"staff": []}  # the replay applied nothing
    reused = await put(api, {"staff": []}, key="staff-1")
    assert reused.status == 409


async def test_the_token_is_required(api: IngestApi) -> None:
    assert (await api.call("GET", PATH, token=None)).status == 401
    assert (await put(api, staff_list(), token="wrong")).status == 401


async def test_the_account_document_takes_a_licence_price(api: IngestApi, store: Store) -> None:
    doc = (await api.get_account(DEMO_ACCOUNT)).body
    assert doc["licence_price"] is None  # the plan's fee per licence is used
    doc["licence_price"] = "18.3333"
    assert (await api.put_account(DEMO_ACCOUNT, doc)).status == 200
    got = (await api.get_account(DEMO_ACCOUNT)).body
    assert got["licence_price"] in ("18.3333", "18.33330")  # PostgreSQL pads to the column's scale
    subscription = (await store.accounts.snapshot(DEMO_ACCOUNT)).subscription
    assert subscription.licence_price == Decimal("18.3333")
    for bad in ("-1", "18.33333", 1e12, "free"):
        refused = await api.put_account(DEMO_ACCOUNT, {**doc, "licence_price": bad})
        assert list(refused.fields) == ["licence_price"], bad
