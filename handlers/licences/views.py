"""Licence hygiene as a message: counts, who is inactive, the monthly cost, and Manage (the staff page)."""

from __future__ import annotations

from datetime import date
from typing import Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.licences.hygiene import INACTIVE_AFTER, LicenceHygiene, PriceSource
from handlers.licences.ids import Action
from handlers.licences.ids import Block as BlockId
from handlers.messages import INVOICE_NOTE, Message, escape, money, slack_date, slack_datetime
from store.domain.staff import StaffAccountDoc

MAX_NAMED: Final = 25
"""Inactive staff named one per line; the rest are counted (a section holds 3,000 characters)."""
INACTIVE_DAYS: Final = INACTIVE_AFTER.days


def licence_hygiene_message(
    hygiene: LicenceHygiene,
    *,
    company: str,
    renewal: date,
    manage_url: str,
    before_renewal: bool = False,
) -> Message:
    """What administrators see on demand (`/plan usage`) and in the DM `before_renewal`."""
    blocks: list[Block] = [
        SectionBlock(
            block_id=BlockId.LICENCES_SUMMARY,
            text=MarkdownTextObject(text=_summary(hygiene, company, renewal, before_renewal)),
        )
    ]
    if hygiene.inactive:
        blocks.append(
            SectionBlock(block_id=BlockId.LICENCES_INACTIVE, text=MarkdownTextObject(text=_named(hygiene)))
        )
    blocks.append(
        ActionsBlock(
            block_id=BlockId.LICENCES_ACTIONS,
            elements=[ButtonElement(text="Manage", action_id=Action.LICENCES_MANAGE, url=manage_url)],
        )
    )
    blocks.append(
        ContextBlock(block_id=BlockId.LICENCES_NOTE, elements=[MarkdownTextObject(text=_as_of(hygiene))])
    )
    return Message(text=_fallback(hygiene, company, renewal), blocks=blocks)


def _summary(hygiene: LicenceHygiene, company: str, renewal: date, before_renewal: bool) -> str:
    when = "renews" if before_renewal else "next renewal"
    title = f":broom: *Licence hygiene* for *{escape(company)}* ({when} {slack_date(renewal)})"
    if not hygiene.has_findings:
        return (
            f"{title}\nEvery licence is assigned, and nobody holding one has been inactive for "
            f"{INACTIVE_DAYS} days or more."
        )
    lines = [
        title,
        f"• *{_licences(hygiene.unassigned)} unassigned* of {hygiene.purchased} purchased: "
        f"{_cost(hygiene, hygiene.unassigned)}",
        f"• *{_licences(len(hygiene.inactive))} held by staff inactive for {INACTIVE_DAYS} days or more*: "
        f"{_cost(hygiene, len(hygiene.inactive))}",
        f"*Together {_cost(hygiene, hygiene.unused)}* {_price_basis(hygiene)}",
    ]
    return "\n".join(lines)


def _named(hygiene: LicenceHygiene) -> str:
    lines = [f"*Inactive for {INACTIVE_DAYS} days or more* (holding a licence)"]
    lines += [f"• {escape(m.display_name)} — {_last_active(m)}" for m in hygiene.inactive[:MAX_NAMED]]
    if (more := len(hygiene.inactive) - MAX_NAMED) > 0:
        lines.append(f"…and {more} more: see the staff page.")
    return "\n".join(lines)


def _last_active(member: StaffAccountDoc) -> str:
    if member.last_active_at is None:
        return "never active"
    return f"last active {slack_datetime(member.last_active_at, '{date_short_pretty}')}"


def _licences(count: int) -> str:
    return f"{count} licence{'' if count == 1 else 's'}"


def _cost(hygiene: LicenceHygiene, licences: int) -> str:
    cost = hygiene.cost(licences)
    return "price not known" if cost is None else f"{money(cost, hygiene.currency)} a month"


def _price_basis(hygiene: LicenceHygiene) -> str:
    price = hygiene.price
    if price is None:
        return "(no price per licence: the plan has no licences purchased)"
    each = money(price.amount, hygiene.currency)
    if price.source == PriceSource.STATED:
        return f"at {each} a licence a month."
    return f"at {each} a licence a month (the plan's monthly fee ÷ {hygiene.purchased} licences)."


def _as_of(hygiene: LicenceHygiene) -> str:
    if hygiene.staff_as_of is None:
        staff = "The billing platform has not sent staff activity yet, so inactive staff are not counted."
    else:
        staff = f"Staff activity as of {slack_datetime(hygiene.staff_as_of)}."
    return f":information_source: {staff} {INVOICE_NOTE}"


def _fallback(hygiene: LicenceHygiene, company: str, renewal: date) -> str:
    if not hygiene.has_findings:
        return f"Licence hygiene for {company}: every licence is in use (renewal {renewal.isoformat()})."
    total = hygiene.cost(hygiene.unused)
    cost = "" if total is None else f", {money(total, hygiene.currency)} a month"
    return (
        f"Licence hygiene for {company}: {hygiene.unassigned} unassigned, {len(hygiene.inactive)} held by "
        f"inactive staff{cost} (renewal {renewal.isoformat()})."
    )
