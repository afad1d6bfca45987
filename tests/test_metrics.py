"""`GET /metrics`: Prometheus' text format, only with METRICS_TOKEN; the named series, counted at the edge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from bot.devtools.fake_slack import FakeSlack
from bot.settings import Settings
from store import Store
from store.status import PRUNE_PASS
from tests.support.apiclient import IngestApi
from tests.support.slackdriver import SlackDriver

pytestmark = pytest.mark.usefixtures("demo")

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    if request.node.get_closest_marker("no_metrics_token"):
        return settings
    return settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


async def scrape(http: TestClient, token: str | None = TOKEN) -> tuple[int, str]:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.get("/metrics", headers=headers)
    return response.status, await response.text()


async def test_metrics_answer_the_named_series_after_traffic(
    http: TestClient,  # type: ignore[type-arg]
    slack: SlackDriver,
    fake_slack: FakeSlack,
) -> None:
    await slack.reply_to(await slack.command(""))
    home = {
        "type": "app_home_opened",
        "user": "U0DEMOADMIN",
        "channel": "D0HOME",
        "tab": "home",
        "event_ts": "1.2",
    }
    await slack.event(home)
    await fake_slack.wait_for("views.publish")
    await IngestApi(http).get_account("demo")
    status, text = await scrape(http)
    assert status == 200
    for series in (
        'myplan_slack_requests_total{status="200",surface="command:/plan"}',
        'myplan_slack_ack_seconds_bucket{le="3.0",surface="command:/plan"}',
        'myplan_slack_api_calls_total{method="views.publish",outcome="200"}',
        'myplan_slack_requests_total{status="200",surface="event:app_home_opened"}',
        'myplan_ingest_requests_total{endpoint="GET /api/v1/accounts/{account_id}",status="200"}',
        'myplan_outbox_due{outbox="alerts"} 0.0',
        'myplan_outbox_oldest_due_seconds{outbox="spike_alerts"} 0.0',
        "myplan_failing_accounts 0.0",
        "myplan_alerts_total",
        "myplan_worker_last_pass_timestamp_seconds",
    ):
        assert series in text, series


async def test_the_last_prune_is_read_from_the_database(http: TestClient, store: Store) -> None:  # type: ignore[type-arg]
    await store.status.record_pass(PRUNE_PASS, datetime(2026, 11, 30, 3, tzinfo=UTC))
    _, text = await scrape(http)
    assert "myplan_last_prune_timestamp_seconds 1.7960076e+09" in text


async def test_metrics_are_refused_without_the_token(http: TestClient) -> None:  # type: ignore[type-arg]
    assert (await scrape(http, token=None))[0] == 401
    assert (await scrape(http, token="wrong"))[0] == 401


@pytest.mark.no_metrics_token
async def test_without_a_token_set_there_are_no_metrics(http: TestClient) -> None:  # type: ignore[type-arg]
    assert (await scrape(http))[0] == 404
