"""Licence hygiene of one account, read from the store and drawn: shared by `/plan usage` and the notice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.licences.hygiene import LicenceHygiene, licence_hygiene, staff_page
from handlers.licences.views import licence_hygiene_message
from handlers.messages import Message
from store import Store

Dashboard = Callable[[str], str]
"""Turns a dashboard path ("/staff") into the full URL of the vendor dashboard."""


@dataclass(frozen=True)
class LicenceReport:
    hygiene: LicenceHygiene
    message: Message


async def licence_report(
    store: Store, account_id: str, *, now: datetime, dashboard: Dashboard, before_renewal: bool = False
) -> LicenceReport:
    plan = await store.accounts.snapshot(account_id)
    hygiene = licence_hygiene(plan, await store.staff.activity(account_id), now)
    message = licence_hygiene_message(
        hygiene,
        company=plan.account.company_name,
        renewal=plan.subscription.next_payment_date,
        manage_url=dashboard(staff_page(plan)),
        before_renewal=before_renewal,
    )
    return LicenceReport(hygiene, message)
