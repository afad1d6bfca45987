"""The licence hygiene notice: `NOTICE_DAYS_BEFORE_RENEWAL` days before each renewal, every administrator
of the account gets it by DM, exactly once per billing period however many workers run (docs/delivery.md).

Once per period: the period's row is inserted with one pending DM row per administrator, in one transaction
(`store.staff.claim_notice`); a process that loses the insert sends nothing. Each DM is then delivered as
spike alerts are (`handlers.posting.post`): leased, its outcome fenced by its attempt. A 429 (nothing was
posted) is retried after Slack's Retry-After. After a 5xx, a timeout or a lost connection, or when a pass
that died is taken over, the DM may be in Slack: the DM's history is read (`im:history`) before it is
posted again, and a DM whose history cannot be read is never posted blind. An account with nothing to report is not claimed, so a licence that falls idle later in the week is
still reported before the renewal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.rules import answered_in_lease, backoff
from bot.licences.hygiene import notice_window
from handlers import periodic
from handlers.licences.report import Dashboard, licence_report
from handlers.posting import LEASE_RUNNING_OUT, UNCONFIRMED, OutboxTuning, Outcome, Posted, Retry, post
from handlers.slack_calls import (
    HISTORY_REFUSALS,
    HistoryBudget,
    HistoryUnreadable,
    error_code,
    find_in_history,
)
from handlers.slack_clients import ClientForTeam
from store import Store
from store.clock import utcnow
from store.domain.staff import LicenceNoticeClaim, LicenceNoticeDm

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
NO_ADMINISTRATORS = "no administrators"
NO_WORKSPACE = "no workspace the app can post in"
NOTICE_EVENT: Final = "myplan_licence_notice"
"""Message metadata event type: each notice DM carries its account and period, so a lost outcome can be
looked up in the DM."""
RENEWED: Final = "the plan renewed before the DM could be sent"
NOT_ADMIN: Final = "no longer an administrator"
UNREADABLE_NOW: Final = f"{UNCONFIRMED}: the DM's history is not readable yet"


def notice_key(dm: LicenceNoticeDm) -> str:
    """What a notice DM's metadata names: an administrator of two accounts gets one notice of each."""
    return f"{dm.account_id}/{dm.period_start.isoformat()}"


@dataclass
class LicenceNotices:
    store: Store
    provider: ClientForTeam
    dashboard: Dashboard
    clock: Clock = utcnow
    tuning: OutboxTuning = field(default_factory=OutboxTuning)
    history: HistoryBudget = field(init=False)

    def __post_init__(self) -> None:
        self.history = HistoryBudget(self.tuning.unconfirmed_delay)

    async def send_due(self) -> int:
        """One pass: claim every notice now due, then send the DMs due (new, put back, or left by a pass
        that died); how many DMs were sent."""
        now = self.clock()
        first, last = notice_window(now.date())
        due = await self.store.staff.notices_due(renewing_from=first, renewing_until=last)
        await periodic.count_each(
            due,
            lambda claim: self._claim(claim, now),
            account=lambda claim: claim.account_id,
            what="licence notice",
        )
        return await self.deliver_due()

    async def run(self, stop: asyncio.Event, *, every: float) -> None:
        """`myplan worker`: a pass every `every` seconds until `stop` is set."""
        await periodic.every(every, self.send_due, stop, what="licence notices")

    async def deliver_due(self) -> int:
        """Send every notice DM due; how many were sent."""
        sent = 0
        while due := await self.store.staff.claim_notice_dms(
            claimed_at := self.clock(), lease=self.tuning.lease, limit=self.tuning.batch
        ):
            sent += await periodic.count_each(
                due,
                lambda dm: self._deliver(dm, claimed_at),
                account=lambda dm: dm.account_id,
                what="licence notice DM",
            )
            if len(due) < self.tuning.batch:
                break
        return sent

    async def _claim(self, claim: LicenceNoticeClaim, now: datetime) -> bool:
        report = await licence_report(
            self.store, claim.account_id, now=now, dashboard=self.dashboard, before_renewal=True
        )
        if not report.hygiene.has_findings:
            return False
        admins = await self.store.admins.list(claim.account_id)
        team_id = await self._team(claim.account_id)
        why = NO_ADMINISTRATORS if not admins else NO_WORKSPACE if team_id is None else None
        if why is not None:
            log.warning("licence notice for %s not sent: %s", claim.account_id, why)
        return await self.store.staff.claim_notice(claim, team_id=team_id, admins=admins, error=why, now=now)

    async def _team(self, account_id: str) -> str | None:
        """The first linked workspace the app can post in (administrators are its members)."""
        for team_id in await self.store.workspaces.teams_of(account_id):
            if await self.provider(team_id) is not None:
                return team_id
        return None

    async def _deliver(self, dm: LicenceNoticeDm, claimed_at: datetime) -> bool:
        now = self.clock()
        if now.date() >= dm.renewal:  # as `notices_due`: of no use once the plan has renewed
            return await self._give_up(dm, RENEWED)
        client = await self.provider(dm.team_id)
        if client is None:
            return await self._give_up(dm, NO_WORKSPACE)
        if dm.may_be_posted:
            found = await self._look_up(client, dm, now)
            if isinstance(found, datetime):
                return await self._put_back(dm, UNREADABLE_NOW, at=found, may_be_posted=True)
            if isinstance(found, HistoryUnreadable):  # for good (no im:history): never posted blind
                return await self._give_up(dm, f"{UNCONFIRMED}: {found.reason}")
            if found is not None:
                return await self._sent(dm, found)
        if dm.admin_id not in await self.store.admins.list(dm.account_id):
            return await self._give_up(dm, NOT_ADMIN)  # it names staff: for administrators only
        if not self._in_lease(claimed_at):  # another pass may take the DM over and post it meanwhile
            return await self._put_back(dm, LEASE_RUNNING_OUT, at=self.clock(), may_be_posted=False)
        report = await licence_report(
            self.store, dm.account_id, now=dm.claimed_at, dashboard=self.dashboard, before_renewal=True
        )
        metadata = {"event_type": NOTICE_EVENT, "event_payload": {"notice": notice_key(dm)}}
        outcome = await post(
            client, dm.admin_id, report.message, metadata=metadata, within=self.tuning.post_timeout
        )
        return await self._settle(dm, outcome)

    async def _look_up(
        self, client: AsyncWebClient, dm: LicenceNoticeDm, now: datetime
    ) -> Posted | datetime | HistoryUnreadable | None:
        """The DM if an earlier attempt posted it; None if not; when to look again if the DM's history
        cannot be read now (the workspace's read budget, Slack trouble); why, if it never can be."""
        if (later := self.history.take(dm.team_id, now)) is not None:
            return later
        found = await _dm_history(client, dm.admin_id, within=self.tuning.post_timeout)
        if isinstance(found, HistoryUnreadable):
            if found.refused:
                return found
            if found.retry_after is not None:
                self.history.wait(dm.team_id, now + timedelta(seconds=found.retry_after))
            return now + self.tuning.unconfirmed_delay
        channel, ours = found
        message = ours.get(notice_key(dm))
        return Posted(channel=channel, ts=str(message["ts"])) if message is not None else None

    def _in_lease(self, claimed_at: datetime) -> bool:
        """Whether a post made now is answered before the lease taken at `claimed_at` runs out."""
        return answered_in_lease(self.clock(), claimed_at, self.tuning.lease, self.tuning.post_timeout)

    async def _settle(self, dm: LicenceNoticeDm, outcome: Outcome) -> bool:
        if isinstance(outcome, Posted):
            return await self._sent(dm, outcome)
        if isinstance(outcome, Retry) and dm.attempts < self.tuning.max_attempts:
            wait = timedelta(seconds=outcome.after) if outcome.after is not None else backoff(dm.attempts)
            if outcome.uncertain:  # looked up first, once Slack's history shows it
                wait = max(wait, self.tuning.unconfirmed_delay)
            at = self.clock() + wait
            return await self._put_back(dm, outcome.reason, at=at, may_be_posted=outcome.uncertain)
        return await self._give_up(dm, outcome.reason)

    async def _sent(self, dm: LicenceNoticeDm, posted: Posted) -> bool:
        if not await self.store.staff.notice_dm_sent(
            dm, channel=posted.channel, ts=posted.ts, now=self.clock()
        ):
            log.warning("licence notice DM to %s was sent after another pass took it over", dm.admin_id)
        return True

    async def _put_back(self, dm: LicenceNoticeDm, reason: str, *, at: datetime, may_be_posted: bool) -> bool:
        await self.store.staff.notice_dm_retry(dm, reason=reason, at=at, may_be_posted=may_be_posted)
        return False

    async def _give_up(self, dm: LicenceNoticeDm, reason: str) -> bool:
        log.warning("licence notice for %s not sent to %s: %s", dm.account_id, dm.admin_id, reason)
        await self.store.staff.notice_dm_failed(dm, reason)
        return False


async def _dm_history(
    client: AsyncWebClient, user: str, *, within: float
) -> tuple[str, dict[str, dict[str, Any]]] | HistoryUnreadable:
    """The DM's id and the notices among its newest messages, by `notice_key`; or why they cannot be read.
    conversations.history needs the DM's id, which conversations.open (idempotent) gives."""
    try:
        async with asyncio.timeout(within):
            opened = await client.conversations_open(users=user)
    except SlackApiError as error:
        code = error_code(error)[1]
        return HistoryUnreadable(code, refused=code in HISTORY_REFUSALS)
    except (SlackClientError, TimeoutError, aiohttp.ClientError, OSError) as error:
        return HistoryUnreadable(f"unreachable: {type(error).__name__}")
    channel = str(opened["channel"]["id"])
    found = await find_in_history(client, channel, NOTICE_EVENT, "notice", within=within)
    return found if isinstance(found, HistoryUnreadable) else (channel, found)
