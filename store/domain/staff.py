"""Staff-account activity, as the billing platform sends it (`PUT /api/v1/accounts/{id}/staff`): who has a
staff account, whether it holds a licence, and when it was last active. Licence hygiene reads it.

The list is the store's own document, so what the API accepts is exactly what the store writes and `GET`
returns.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from store.domain.bounds import MAX_DISPLAY_NAME, MAX_STAFF, PlainText, StaffId, Timestamp
from store.domain.plan import Frozen


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaffAccountDoc(_Doc):
    """One staff account."""

    id: StaffId
    display_name: PlainText = Field(
        min_length=1, max_length=MAX_DISPLAY_NAME, description="The name the dashboard shows (one line)."
    )
    licensed: bool = Field(description="Whether the account holds one of the plan's staff licences.")
    last_active_at: Timestamp | None = Field(
        default=None,
        description="When the staff member was last active (from 2000 on, at most 5 minutes ahead of the "
        "server's clock); null: never active.",
    )


class StaffList(_Doc):
    """Every staff account of the service account; `PUT` replaces the stored list with it, whole."""

    staff: list[StaffAccountDoc] = Field(
        max_length=MAX_STAFF, description="Each staff account once (ids are unique), in any order."
    )

    def repeated_ids(self) -> list[int]:
        """The positions of accounts whose id an earlier one already has."""
        seen: set[str] = set()
        repeated = []
        for index, account in enumerate(self.staff):
            if account.id in seen:
                repeated.append(index)
            seen.add(account.id)
        return repeated


class StaffActivity(Frozen):
    """The stored list and when it arrived (None: the billing platform has sent none yet)."""

    received_at: datetime | None = None
    staff: tuple[StaffAccountDoc, ...] = ()


class LicenceNoticeClaim(Frozen):
    """The licence hygiene notice of one account's billing period, claimed before it is sent."""

    account_id: str
    period_start: date
    renewal: date


class LicenceNoticeDm(Frozen):
    """One administrator's DM of a claimed notice, leased to the pass delivering it: `attempts` is this
    attempt's number (what fences its outcome)."""

    account_id: str
    period_start: date
    renewal: date
    claimed_at: datetime
    admin_id: str
    team_id: str
    attempts: int
    may_be_posted: bool


__all__ = ["LicenceNoticeClaim", "LicenceNoticeDm", "StaffAccountDoc", "StaffActivity", "StaffList"]
