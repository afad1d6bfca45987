"""Where the money goes, in Slack: after `/plan usage` and on the Plan Monitoring tab, from traffic the
billing platform sent through the ingest API."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.demo import DEMO_ACCOUNT
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from handlers.traffic.ids import Block
from store import Store
from tests.support.apiclient import IngestApi
from tests.support.slackdriver import ADMIN, SlackDriver, all_text
from tests.test_traffic_api import rates, sms, voice

pytestmark = [pytest.mark.usefixtures("demo"), pytest.mark.fake_clock]

# The sample account's period: 2 November to 2 December; "now" is 20 November 09:30, 18 days and 9.5 hours
# in. The same days of the last period: 3 October to 21 October 09:30.


@pytest.fixture
async def traffic(demo: Store, http: TestClient) -> None:  # type: ignore[type-arg]
    await demo.rates.import_table(rates(), effective_date=date(2026, 10, 1), label="October")
    sent = await IngestApi(http).call(
        "POST",
        f"/accounts/{DEMO_ACCOUNT}/traffic",
        json_body={
            "traffic": [
                voice("2026-10-10T10:00:00Z", "+44", 100, "mobile"),  # last period, same days
                voice("2026-10-25T10:00:00Z", "+44", 1000, "mobile"),  # last period, later: not compared
                voice("2026-11-10T10:00:00Z", "+44", 142, "mobile"),
                sms("2026-11-12T08:00:00Z", "+852", 300),
                voice("2026-11-12T09:00:00Z", "+881", 12),
            ]
        },
    )
    assert sent.status == 200, sent.body


async def spend_reply(slack: SlackDriver, fake: FakeSlack) -> RecordedCall:
    reply = await slack.command("usage")
    return await fake.wait_for(
        "response_url",
        where=lambda c: c.url == reply.response_url and "Where the money goes" in all_text(c.params),
    )


def section(params: dict[str, Any], block_id: str) -> str:
    (block,) = [b for b in params.get("blocks") or params["view"]["blocks"] if b.get("block_id") == block_id]
    return str(block["text"]["text"] if "text" in block else block["elements"][0]["text"])


@pytest.mark.usefixtures("traffic")
async def test_plan_usage_shows_where_the_money_goes(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    posted = (await spend_reply(slack, fake_slack)).params
    assert posted["response_type"] == "ephemeral"
    assert section(posted, Block.TRAFFIC_TOTAL) == (
        "*Where the money goes* · *USD 15.55* on calls and SMS this period so far"
        " · :arrow_up_small: 522% on the same days last period"
    )
    assert section(posted, Block.TRAFFIC_BY_COST).splitlines() == [
        "*Top destinations by cost*",
        "• *Hong Kong* SMS — *USD 12.00* · 300 messages at USD 0.0400/message · new this period",
        "• *United Kingdom* mobile — *USD 3.55* · 142 min at USD 0.0250/min"
        " · :arrow_up_small: 42% on the same days last period",
    ]
    assert section(posted, Block.TRAFFIC_BY_VOLUME).splitlines() == [
        "*Most minutes* (min): *United Kingdom* mobile 142 · *+881* 12",
        "*Most messages* (messages): *Hong Kong* 300",
    ]
    assert "12 min to +881" in section(posted, Block.TRAFFIC_UNPRICED)


@pytest.mark.usefixtures("traffic")
async def test_the_plan_monitoring_tab_has_a_where_the_money_goes_section(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    home = {"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME", "tab": "home", "event_ts": "1.2"}
    assert (await slack.event(home)).status == 200
    published = (await fake_slack.wait_for("views.publish")).params
    assert "Plan Monitoring" in all_text(published)
    assert "*USD 15.55* on calls and SMS" in section(published, Block.TRAFFIC_TOTAL)


async def test_an_account_without_traffic_gets_no_empty_report(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await slack.command("usage")
    await slack.reply_to(reply)
    home = {"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME", "tab": "home", "event_ts": "1.2"}
    await slack.event(home)
    published = await fake_slack.wait_for("views.publish")
    assert "Where the money goes" not in all_text(published.params)
    assert not [
        c for c in fake_slack.calls_to("response_url") if "Where the money goes" in all_text(c.params)
    ]
