"""`PUT /api/v1/rates` (JSON rows or CSV) and `POST /api/v1/accounts/{id}/link-codes`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.api.examples import rate_table_example
from bot.devtools.fake_slack import FakeSlack
from bot.linking.codes import redeem_link_code
from bot.rates.csvio import to_csv
from bot.rates.sample import sample_rows
from store import Store
from tests.support.alerting import set_alerts_channel
from tests.support.apiclient import IngestApi
from tests.support.slackdriver import SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def api(http: TestClient) -> IngestApi:  # type: ignore[type-arg]
    return IngestApi(http)


async def put_csv(api: IngestApi, text: str, query: str = "") -> Any:
    return await api.call("PUT", f"/rates{query}", data=text.encode(), headers={"Content-Type": "text/csv"})


async def test_json_rows_become_the_current_table(api: IngestApi, store: Store, slack: SlackDriver) -> None:
    answer = await api.call("PUT", "/rates", json_body=rate_table_example())
    assert answer.status == 200, answer.body
    assert answer.body["created"] is True
    assert answer.body["destinations"] == 2
    table = await store.rates.table()
    assert table is not None
    assert {row.iso_code: row.mobile_per_min for row in table.rows} == {
        "HK": Decimal("0.0150"),
        "GB": Decimal("0.0250"),
    }
    shown = all_text(await slack.run("+852 2345 6789", command="/rates"))
    assert "Hong Kong" in shown
    assert "0.015" in shown


async def test_a_csv_body_is_imported_and_a_retry_changes_nothing(api: IngestApi, store: Store) -> None:
    text = to_csv(sample_rows())
    first = await put_csv(api, text, "?label=Sample%20via%20API")
    assert first.status == 200, first.body
    assert first.body["label"] == "Sample via API"
    again = await put_csv(api, text, "?label=Sample%20via%20API")
    assert again.status == 200
    assert again.body["created"] is False
    assert again.body["version"] == first.body["version"]


async def test_a_bad_csv_is_rejected_whole_naming_each_line(api: IngestApi, store: Store) -> None:
    before = await store.rates.current_version()
    bad = (
        "dial_code,iso_code,destination,landline_per_min,mobile_per_min,sms_per_message\n"
        "852,HK,Hong Kong,0.01,0.02,0.03\n"
        "44x,GB,United Kingdom,0.01,0.02,0.03\n"
        "1,ZZ,Nowhere,0.01,-0.02,0.03\n"
    )
    answer = await put_csv(api, bad)
    assert answer.status == 422
    assert {"line 3", "line 4"} <= set(answer.fields)
    assert await store.rates.current_version() == before


async def test_bad_json_rows_are_named_by_index(api: IngestApi) -> None:
    body = rate_table_example()
    body["rows"][1]["iso_code"] = "HK"  # a duplicate destination
    answer = await api.call("PUT", "/rates", json_body=body)
    assert answer.status == 422
    assert any(field.startswith("rows.") for field in answer.fields)


async def test_rate_changes_are_announced_in_alerts_channels(
    api: IngestApi, store: Store, fake_slack: FakeSlack
) -> None:
    await set_alerts_channel(store, "demo", "C0ALERTS")
    assert (await api.call("PUT", "/rates", json_body=rate_table_example())).status == 200
    notice = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C0ALERTS")
    assert "rate" in all_text(notice.params).lower()


async def test_the_rates_endpoint_needs_the_token(api: IngestApi) -> None:
    assert (await api.call("PUT", "/rates", json_body=rate_table_example(), token=None)).status == 401


async def test_a_link_code_links_a_workspace_once(api: IngestApi, store: Store) -> None:
    answer = await api.call("POST", "/accounts/demo/link-codes")
    assert answer.status == 201, answer.body
    assert answer.body["account_id"] == "demo"
    linked = await redeem_link_code(store, team_id="T0NEWTEAM", user_id="U0OWNER", text=answer.body["code"])
    assert linked.account_id == "demo"
    assert await store.workspaces.account_for_team("T0NEWTEAM") == "demo"


async def test_a_link_code_for_an_unknown_account_is_404(api: IngestApi) -> None:
    assert (await api.call("POST", "/accounts/nobody/link-codes")).status == 404
