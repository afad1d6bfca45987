"""What a dashboard link unfurls into: the feature's status card, or the plan summary.

An unfurl is seen by everyone who can read the channel, so it shows what any member sees (no
administrator's links or actions)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from handlers.messages import slack_datetime, truncate
from handlers.plan.views import Dashboard, feature_status_text, summary_blocks
from handlers.unfurl.ids import Block as BlockId
from store.domain.plan import Feature, PlanSnapshot


def feature_card(plan: PlanSnapshot, feature: Feature, dashboard: Dashboard) -> list[Block]:
    text = feature_status_text(feature, currency=plan.account.currency, is_admin=False, dashboard=dashboard)
    note = f"My Plan · {plan.account.company_name} · data as of {slack_datetime(plan.account.data_as_of)}"
    return [
        SectionBlock(
            block_id=BlockId.UNFURL_FEATURE,
            text=MarkdownTextObject(text=truncate(text, 3000)),
        ),
        ContextBlock(block_id=BlockId.UNFURL_NOTE, elements=[MarkdownTextObject(text=truncate(note, 3000))]),
    ]


def plan_card(plan: PlanSnapshot) -> list[Block]:
    return summary_blocks(plan)
