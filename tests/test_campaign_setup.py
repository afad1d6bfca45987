"""`/rates campaign` before everything is in place: a workspace not linked to an account, no rate table."""

from __future__ import annotations

from typing import Any

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack
from handlers.campaign.ids import Action
from handlers.campaign.ids import Block as CampaignBlock
from store import Store
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import TEAM, SlackDriver, all_text


async def test_an_unlinked_workspace_is_told_how_to_link(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    reply = await slack.run("campaign", command="/rates", team="T0NOTLINKED")
    assert "isn't linked" in all_text(reply)
    assert not fake_slack.calls_to("views.open")


async def test_without_a_rate_table_the_answer_says_so(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    await store.accounts.upsert("bare", demo_document(DEMO_NOW))
    await store.workspaces.link(TEAM, "bare")
    reply = await slack.command("campaign", command="/rates")
    view: dict[str, Any] = (await fake_slack.wait_for("views.open")).params["view"]
    state: dict[str, Any] = {
        CampaignBlock.CAMPAIGN_NUMBERS: {Action.CAMPAIGN_NUMBERS: "+44 7400 123456"},
        CampaignBlock.CAMPAIGN_MESSAGE: {Action.CAMPAIGN_MESSAGE: "Hello"},
    }
    assert (await slack.submit(view, state)).status == 200
    answer = await fake_slack.wait_for("response_url", where=lambda c: c.url == reply.response_url)
    assert "No rate table has been loaded yet" in all_text(answer.params)
