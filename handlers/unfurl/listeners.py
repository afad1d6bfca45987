"""`link_shared`: vendor dashboard links posted in a linked workspace unfurl into My Plan's view of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.errors import NotAMember, NotLinked
from bot.unfurl.links import MAX_LINKS, dashboard_path, linked_feature
from handlers.interaction import Interaction
from handlers.limits import fitted
from handlers.routes import Routes
from handlers.unfurl.views import feature_card, plan_card


def register(routes: Routes) -> None:
    routes.event("link_shared", unfurl_links)


async def unfurl_links(interaction: Interaction[Mapping[str, Any]]) -> None:
    event, settings = interaction.value, interaction.settings
    urls = [
        url
        for link in event.get("links") or []
        if isinstance(link, Mapping) and isinstance(url := link.get("url"), str)
    ]
    paths = {
        url: path for url in urls[:MAX_LINKS] if (path := dashboard_path(url, str(settings.dashboard_url)))
    }
    if not paths:
        return
    try:
        account_id = await interaction.account_id()
    except (NotLinked, NotAMember):
        return  # a link is not a request: nothing to show, and nobody asked
    plan = await interaction.store.accounts.snapshot(account_id)
    unfurls = {}
    for url, path in paths.items():
        feature = linked_feature(path, plan.features)
        blocks = feature_card(plan, feature, settings.dashboard_link) if feature else plan_card(plan)
        unfurls[url] = {"blocks": [fitted(block).to_dict() for block in blocks]}
    client = interaction.client
    if event.get("unfurl_id") and event.get("source"):  # the message being composed, when Slack says so
        await client.chat_unfurl(
            unfurls=unfurls, unfurl_id=str(event["unfurl_id"]), source=str(event["source"])
        )
    else:
        await client.chat_unfurl(
            unfurls=unfurls, channel=str(event.get("channel")), ts=str(event.get("message_ts"))
        )
