"""The licence hygiene notice: `NOTICE_DAYS_BEFORE_RENEWAL` days before each renewal, every administrator
of the account gets it by DM, once per billing period however many workers run.

Once: the period's row is inserted and committed (`store.staff.claim_notice`) before anything is posted;
a process that loses the insert sends nothing. A DM whose answer is lost is not sent again (no doubles);
the administrators can still see the same figures with `/plan usage`. An account with nothing to report
is not claimed, so a licence that falls idle later in the week is still reported before the renewal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.licences.hygiene import notice_window
from handlers import periodic
from handlers.licences.report import Dashboard, licence_report
from handlers.messages import Message
from handlers.slack_calls import error_code
from handlers.slack_clients import ClientForTeam
from store import Store
from store.clock import utcnow
from store.domain.staff import LicenceNoticeClaim

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
NO_ADMINISTRATORS = "no administrators"
NO_WORKSPACE = "no workspace the app can post in"


@dataclass
class LicenceNotices:
    store: Store
    provider: ClientForTeam
    dashboard: Dashboard
    clock: Clock = utcnow

    async def send_due(self) -> int:
        """One pass: every account whose notice is due and not yet claimed; how many notices were sent."""
        now = self.clock()
        first, last = notice_window(now.date())
        due = await self.store.staff.notices_due(renewing_from=first, renewing_until=last)
        return await periodic.count_each(
            due,
            lambda claim: self._notify(claim, now),
            account=lambda claim: claim.account_id,
            what="licence notice",
        )

    async def run(self, stop: asyncio.Event, *, every: float) -> None:
        """`myplan worker`: a pass every `every` seconds until `stop` is set."""
        await periodic.every(every, self.send_due, stop, what="licence notices")

    async def _notify(self, claim: LicenceNoticeClaim, now: datetime) -> bool:
        report = await licence_report(
            self.store, claim.account_id, now=now, dashboard=self.dashboard, before_renewal=True
        )
        if not report.hygiene.has_findings:
            return False
        if not await self.store.staff.claim_notice(claim, now=now):
            return False  # another process has it
        admins = await self.store.admins.list(claim.account_id)
        client = await self._client(claim.account_id)
        if not admins or client is None:
            why = NO_ADMINISTRATORS if not admins else NO_WORKSPACE
            log.warning("licence notice for %s not sent: %s", claim.account_id, why)
            await self.store.staff.record_notice(claim, sent_to=0, error=why, now=self.clock())
            return False
        sent, errors = await _tell(client, admins, report.message)
        error = "; ".join(errors) or None
        await self.store.staff.record_notice(claim, sent_to=sent, error=error, now=self.clock())
        log.info(
            "licence notice for %s sent to %d of %d administrator(s)", claim.account_id, sent, len(admins)
        )
        return sent > 0

    async def _client(self, account_id: str) -> AsyncWebClient | None:
        """A client of the first linked workspace the app can post in (administrators are its members)."""
        for team_id in await self.store.workspaces.teams_of(account_id):
            if (client := await self.provider(team_id)) is not None:
                return client
        return None


async def _tell(client: AsyncWebClient, admins: list[str], message: Message) -> tuple[int, list[str]]:
    """A DM to each administrator, each at most once; how many arrived, and why the others did not."""
    sent, errors = 0, []
    for admin in admins:
        try:
            await client.chat_postMessage(channel=admin, **message.as_kwargs())
            sent += 1
        except SlackApiError as error:
            errors.append(f"{admin}: {error_code(error)[1]}")
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
            errors.append(f"{admin}: {type(error).__name__}")
    return sent, errors
