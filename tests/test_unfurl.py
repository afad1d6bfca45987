"""Link unfurls: a vendor dashboard link posted in a linked workspace unfurls into its feature's status card,
or the plan summary (`link_shared` → `chat.unfurl`)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo import DEMO_ACCOUNT
from bot.devtools.fake_slack import FakeSlack
from bot.unfurl.links import dashboard_path, linked_feature
from handlers.unfurl.ids import Block
from store import Store
from store.domain.plan import FeatureKey
from tests.support.slackdriver import SlackDriver, all_text

pytestmark = pytest.mark.usefixtures("demo")

DASHBOARD = "https://dashboard.maaiiconnect.com/"


def link_shared(*urls: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "link_shared",
        "channel": "C0GENERAL",
        "user": "U0DEMOADMIN",
        "message_ts": "1700000000.000100",
        "source": "conversations_history",
        "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
        **extra,
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (DASHBOARD, "/"),
        ("https://dashboard.maaiiconnect.com/virtual-numbers/123?tab=usage", "/virtual-numbers/123"),
        ("https://DASHBOARD.maaiiconnect.com/directory/", "/directory"),
        ("http://dashboard.maaiiconnect.com/directory", None),  # another scheme
        ("https://dashboard.maaiiconnect.com.evil.example/directory", None),
        ("https://example.com/virtual-numbers", None),
    ],
)
def test_which_links_are_the_dashboards(url: str, expected: str | None) -> None:
    assert dashboard_path(url, DASHBOARD) == expected


async def test_a_path_names_the_feature_whose_longest_path_it_lies_under(store: Store) -> None:
    features = (await store.accounts.snapshot(DEMO_ACCOUNT)).features

    def named(path: str) -> FeatureKey | None:
        found = linked_feature(path, features)
        return found.key if found is not None else None

    assert named("/omnichannels/whatsapp/setup") is FeatureKey.OMNICHANNELS
    assert named("/omnichannels") is FeatureKey.OMNICHANNELS
    assert named("/virtual-numbers/123") is FeatureKey.VIRTUAL_NUMBERS
    assert named("/virtual-numbersX") is None
    assert named("/") is None


async def test_a_feature_link_unfurls_into_its_status_card(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    url = "https://dashboard.maaiiconnect.com/omnichannels/whatsapp/setup"
    assert (await slack.event(link_shared(url))).status == 200
    unfurled = await fake_slack.wait_for("chat.unfurl")
    assert (unfurled.params["channel"], unfurled.params["ts"]) == ("C0GENERAL", "1700000000.000100")
    (card,) = unfurled.params["unfurls"].values()
    text = all_text(card)
    assert "*Omnichannels*" in text
    assert "Needs configuring" in text
    assert "Configure it in the dashboard" not in text, "what any member sees: no administrator's link"
    assert card["blocks"][0]["block_id"] == Block.UNFURL_FEATURE


async def test_the_dashboard_itself_unfurls_into_the_plan_summary(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.event(
        link_shared(DASHBOARD, "https://example.com/elsewhere", unfurl_id="U123", source="composer")
    )
    unfurled = await fake_slack.wait_for("chat.unfurl")
    assert (unfurled.params["unfurl_id"], unfurled.params["source"]) == ("U123", "composer")
    assert list(unfurled.params["unfurls"]) == [DASHBOARD], "only the dashboard's links"
    assert "My Plan · Harbour Lights Trading Ltd (sample data)" in all_text(
        unfurled.params["unfurls"][DASHBOARD]
    )


async def test_nothing_unfurls_in_a_workspace_not_linked(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event(link_shared(DASHBOARD), team="T0NOTLINKED")
    await slack.http.close()  # the listener has finished
    assert not fake_slack.calls_to("chat.unfurl")
    assert not fake_slack.calls_to("chat.postMessage"), "and nobody is told off for posting a link"
