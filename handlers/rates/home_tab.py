"""The Home's Rate Table tab: the destination picker, the chosen destination, the paged table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    ExternalDataSelectElement,
    MarkdownTextObject,
    Option,
    SectionBlock,
)

from bot.rates import (
    RatePage,
    RateRow,
    format_usd,
)
from handlers.campaign.ids import Action as CampaignAction
from handlers.messages import escape, slack_date, slack_datetime, truncate
from handlers.payloads import PageNumber, Payload
from handlers.rates.ids import PAGE_BUTTON, Action
from handlers.rates.ids import Block as BlockId
from handlers.rates.views import BILLING_NOTE, destination_title, flag, per_minute, rate_fields
from store.domain.rates import RateTableInfo

PAGE_SIZE = 20


class PageValue(Payload):
    """What a Prev/Next button of the Home's table carries: the page to show."""

    page: PageNumber


class DestinationChoice(Payload):
    """A destination picked in the Home's type-ahead picker."""

    iso: str = Field(max_length=8)


def destination_option(row: RateRow) -> Option:
    label = f"{flag(row.iso_code)} {row.destination} (+{row.dial_code})".strip()
    return Option(text=truncate(label, 75), value=DestinationChoice(iso=row.iso_code).encode())


def destination_options(rows: Sequence[RateRow]) -> list[dict[str, object]]:
    """Options for the type-ahead picker, as an `options` listener acks them (Slack allows 100)."""
    return [destination_option(row).to_dict() for row in rows[:100]]


@dataclass(frozen=True)
class RatesTab:
    """What the Rate Table tab shows for one user."""

    table: RateTableInfo
    page: RatePage
    chosen: RateRow | None
    voip_per_min: Decimal


def rates_tab_blocks(tab: RatesTab) -> list[Block]:
    """The Rate Table tab: picker and export, the chosen destination, the table a page at a time."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Rate Table* · {tab.page.total_rows:,} destinations\n"
                "Landline and mobile call rates per minute and SMS rates per message, in USD."
            )
        )
    ]
    if tab.table.sample:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f":test_tube: *{escape(tab.table.label)}*")])
        )
    picker = ExternalDataSelectElement(
        action_id=Action.RATES_PICK,
        placeholder="Find a destination, code or dial code…",
        min_query_length=1,
        initial_option=destination_option(tab.chosen) if tab.chosen else None,
    )
    export = ButtonElement(text="Export CSV", action_id=Action.RATES_EXPORT)
    campaign = ButtonElement(text="Price an SMS campaign", action_id=CampaignAction.CAMPAIGN_OPEN)
    blocks.append(ActionsBlock(block_id=BlockId.RATES_TOOLS, elements=[picker, export, campaign]))
    if tab.chosen is not None:
        row = tab.chosen
        blocks.append(
            SectionBlock(
                block_id=BlockId.RATES_CHOSEN,
                text=MarkdownTextObject(
                    text=f"*{destination_title(row)}*  ·  +{row.dial_code}  ·  {row.iso_code}"
                ),
            )
        )
        blocks.append(rate_fields(row, tab.voip_per_min))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f":blue_book: {BILLING_NOTE} VoIP calls (staff-to-visitor and staff-to-staff) cost "
                    f"*{per_minute(tab.voip_per_min)}* in all countries. "
                    "Look up any phone number with `/rates +44 20 7946 0018`."
                )
            ]
        )
    )
    blocks.append(DividerBlock())
    blocks += _page_blocks(tab)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_table_context(tab.table))]))
    return blocks


def _table_context(table: RateTableInfo) -> str:
    imported = f", imported {slack_datetime(table.imported_at)}" if table.imported_at else ""
    return f"Rate table version {table.version}, effective {slack_date(table.effective_date)}{imported}."


def _page_blocks(tab: RatesTab) -> list[Block]:
    page = tab.page
    first = (page.number - 1) * page.size + 1
    last = first + len(page.rows) - 1
    head = (
        f"*Destinations {first:,}–{last:,} of {page.total_rows:,}* · page {page.number} of {page.total_pages}"
        if page.rows
        else "*The rate table is empty.*"
    )
    blocks: list[Block] = [SectionBlock(block_id=BlockId.RATES_PAGE_HEAD, text=MarkdownTextObject(text=head))]
    chosen = tab.chosen.iso_code if tab.chosen else None
    for row in page.rows:
        marker = ":arrow_forward: " if row.iso_code == chosen else ""
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{marker}*{destination_title(row)}*  `+{row.dial_code}`\n"
                    f"Landline {format_usd(row.landline_per_min)} · Mobile {format_usd(row.mobile_per_min)}"
                    f" · SMS {format_usd(row.sms_per_message)}"
                )
            )
        )
    pager = _pager(page)
    if pager is not None:
        blocks.append(pager)
    return blocks


def _pager(page: RatePage) -> ActionsBlock | None:
    """First/Prev/Next/Last, each only where it leads somewhere (nothing before page 1 or after the last)."""
    targets = [
        ("first", "⏮ First", 1, page.number > 2),
        ("prev", "◀ Prev", page.number - 1, page.number > 1),
        ("next", "Next ▶", page.number + 1, page.number < page.total_pages),
        ("last", "Last ⏭", page.total_pages, page.number < page.total_pages - 1),
    ]
    buttons = [
        ButtonElement(text=text, action_id=PAGE_BUTTON.id(name), value=PageValue(page=target).encode())
        for name, text, target, shown in targets
        if shown
    ]
    return ActionsBlock(block_id=BlockId.RATES_PAGER, elements=buttons) if buttons else None


# -- rate-change announcement -----------------------------------------------------------------------------
