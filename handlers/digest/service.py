"""Sending the weekly digest: to each linked account's alerts channel when it is due on the account's own
clock, once per week however many workers run; by hand with `myplan digest send`.

    digests = DigestService(store, clients.client_for_team)
    await digests.send_due()               # the worker's periodic pass
    await digests.send_now("acme")         # `myplan digest send acme`

Once: the week's row is inserted and committed (`store.digests.claim`) before anything is posted; a process
that loses the insert posts nothing. The post carries the digest id in its metadata. After an answer that
may have come after Slack stored it (a 5xx, a timeout, a dropped connection) the channel's history is read
once, at once: found, the digest is recorded sent; otherwise it is recorded failed and not posted again (at
most once; next week's digest follows). Only a 429 (certainly not posted) puts the week back, for the
next pass to claim while the digest is still due. docs/delivery.md has the argument.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.burndown import plan_burn_downs
from bot.alerts.chart import BurnDown, burndown_png
from bot.alerts.local_time import zone_of
from bot.digest.changes import week_changes
from bot.digest.schedule import DigestWeek, due_week, week_ending
from handlers import periodic
from handlers.digest.ids import DIGEST_EVENT
from handlers.digest.views import digest_message, digest_text
from handlers.messages import Message
from handlers.slack_calls import HistoryUnreadable, error_code, find_in_history, may_have_taken_effect
from handlers.slack_clients import ClientForTeam
from handlers.time_zone import learned_rules
from store import Store
from store.clock import utcnow
from store.domain.alerts import AlertRules
from store.domain.digests import DigestAccount, DigestStatus
from store.domain.plan import Meter, PlanSnapshot

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
POST_TIMEOUT: Final = 15.0
NO_CHANNEL_NOTE: Final = (
    ":information_source: No alerts channel is set, so this digest came to each administrator by DM. "
    "Choose one with `/plan alerts`."
)
_FAILURES = (SlackApiError, SlackClientError, aiohttp.ClientError, OSError, TimeoutError)


@dataclass(frozen=True)
class _Composed:
    message: Message
    charts: dict[Meter, BurnDown]
    company: str


@dataclass(frozen=True)
class _Outcome:
    status: DigestStatus
    channel: str | None = None
    ts: str | None = None
    error: str | None = None


@dataclass
class DigestService:
    store: Store
    provider: ClientForTeam
    clock: Clock = utcnow
    post_timeout: float = POST_TIMEOUT

    # ----------------------------------------------------------------------------- on schedule

    async def send_due(self) -> int:
        """One pass: every linked account whose digest is due now and not yet claimed; how many were sent."""
        accounts = [a for a in await self.store.digests.linked_accounts() if a.schedule.enabled]
        return await periodic.count_each(
            accounts, self._send_if_due, account=lambda a: a.account_id, what="weekly digest"
        )

    async def run(self, stop: asyncio.Event, *, every: float) -> None:
        """`myplan worker`: a pass every `every` seconds until `stop` is set."""
        await periodic.every(every, self.send_due, stop, what="weekly digests")

    async def _send_if_due(self, account: DigestAccount) -> bool:
        account_id, now = account.account_id, self.clock()
        client = await self._client(account_id)
        if client is None:
            return False
        rules = await learned_rules(self.store, client, account_id)
        week = due_week(account.schedule, zone_of(rules), now)
        if week is None:
            return False
        digest_id = await self.store.digests.claim(account_id, week.week, now=now)
        if digest_id is None:
            return False  # another process has it, or it went out already
        return await self._send(digest_id, account_id, rules, week, client)

    # ---------------------------------------------------------------------------------- by hand

    async def send_now(self, account_id: str) -> str:
        """`myplan digest send`: the digest of the seven days to now, posted at once (an extra copy: the
        scheduled digest still goes out); what happened, in one line."""
        client = await self._client(account_id)
        if client is None:
            return f"not sent: no workspace linked to {account_id} that the app can post in"
        rules = await learned_rules(self.store, client, account_id)
        now = self.clock()
        week = week_ending(zone_of(rules), now)
        digest_id = await self.store.digests.start_by_hand(account_id, week.week, now=now)
        await self._send(digest_id, account_id, rules, week, client)
        (digest,) = [d for d in await self.store.digests.all_of(account_id) if d.id == digest_id]
        where = f"#{digest.channel}" if digest.channel else "the administrators by DM"
        if digest.status == DigestStatus.SENT:
            return f"sent the weekly digest of {account_id} to {where}" + (
                f" ({digest.error})" if digest.error else ""
            )
        return f"weekly digest of {account_id} not sent: {digest.error}"

    async def preview(self, account_id: str) -> str:
        """`myplan digest send --dry-run`: where it would go and the digest as text; nothing is posted
        and Slack is not asked (the time zone is the stored one)."""
        rules = await self.store.alerts.rules(account_id)
        week = week_ending(zone_of(rules), self.clock())
        composed = await self._compose(account_id, rules, week, chart=True)
        where = f"#{rules.channel}" if rules.channel else "(no alerts channel set: the administrators, by DM)"
        charts = ", ".join(chart.label for chart in composed.charts.values()) or "none"
        return (
            f"would post to {where} for {account_id} (time zone {rules.time_zone}):\n\n"
            f"{digest_text(composed.message)}\n\n[burn-down chart in the thread: {charts}]"
        )

    # ---------------------------------------------------------------------------------- sending

    async def _send(
        self, digest_id: int, account_id: str, rules: AlertRules, week: DigestWeek, client: AsyncWebClient
    ) -> bool:
        try:
            composed = await self._compose(account_id, rules, week, chart=rules.channel is not None)
        except Exception as error:
            await self.store.digests.finish(
                digest_id, DigestStatus.FAILED, now=self.clock(), error=f"not composed: {error!r}"
            )
            raise
        if rules.channel is None:
            outcome = await self._tell_admins(client, account_id, composed)
        else:
            outcome = await self._post(client, rules.channel, composed.message, digest_id)
        await self.store.digests.finish(
            digest_id,
            outcome.status,
            now=self.clock(),
            channel=outcome.channel,
            ts=outcome.ts,
            error=outcome.error,
        )
        if outcome.status != DigestStatus.SENT:
            log.warning("weekly digest %s for %s not sent: %s", digest_id, account_id, outcome.error)
            return False
        if outcome.channel is not None and outcome.ts is not None and composed.charts:
            await self._attach_chart(client, outcome.channel, outcome.ts, composed)
        log.info("weekly digest %s for %s sent", digest_id, account_id)
        return True

    async def _compose(
        self, account_id: str, rules: AlertRules, week: DigestWeek, *, chart: bool
    ) -> _Composed:
        plan: PlanSnapshot = await self.store.accounts.snapshot(account_id)
        charts = await plan_burn_downs(self.store, plan)
        changes = await week_changes(self.store, plan, zone_of(rules), since=week.since, until=week.until)
        forecasts = {meter: burn.forecast for meter, burn in charts.items()}
        message = digest_message(
            plan,
            forecasts,
            changes,
            week,
            chart=chart and bool(charts),
            note="" if rules.channel else NO_CHANNEL_NOTE,
        )
        return _Composed(message, charts, plan.account.company_name)

    async def _post(self, client: AsyncWebClient, channel: str, message: Message, digest_id: int) -> _Outcome:
        """One post. A 429 puts the week back; an answer lost after Slack may have stored the post is
        looked up once, never posted blind."""
        try:
            async with asyncio.timeout(self.post_timeout):
                response = await client.chat_postMessage(
                    channel=channel,
                    **message.as_kwargs(),
                    metadata={"event_type": DIGEST_EVENT, "event_payload": {"digest_id": digest_id}},
                    unfurl_links=False,
                    unfurl_media=False,
                )
        except _FAILURES as error:
            reason = error_code(error)[1] if isinstance(error, SlackApiError) else type(error).__name__
            if not may_have_taken_effect(error):
                status = DigestStatus.RETRY if reason == "ratelimited" else DigestStatus.FAILED
                return _Outcome(status, channel, error=reason)
            return await self._look_up(client, channel, digest_id, reason)
        return _Outcome(DigestStatus.SENT, str(response.get("channel") or channel), str(response["ts"]))

    async def _look_up(self, client: AsyncWebClient, channel: str, digest_id: int, reason: str) -> _Outcome:
        found = await find_in_history(client, channel, DIGEST_EVENT, "digest_id", within=self.post_timeout)
        if isinstance(found, HistoryUnreadable):
            return _Outcome(DigestStatus.FAILED, channel, error=f"unconfirmed: {reason} ({found.reason})")
        message = found.get(str(digest_id))
        if message is None:
            return _Outcome(DigestStatus.FAILED, channel, error=f"not posted: {reason}")
        log.info("weekly digest %s: no answer from Slack (%s), but it was posted", digest_id, reason)
        return _Outcome(DigestStatus.SENT, channel, str(message["ts"]))

    async def _tell_admins(self, client: AsyncWebClient, account_id: str, composed: _Composed) -> _Outcome:
        """No alerts channel: each administrator by DM, at most once each (as alerts do)."""
        admins = await self.store.admins.list(account_id)
        sent, errors = 0, []
        for admin in admins:
            try:
                await client.chat_postMessage(channel=admin, **composed.message.as_kwargs())
                sent += 1
            except _FAILURES as error:
                reason = error_code(error)[1] if isinstance(error, SlackApiError) else type(error).__name__
                errors.append(f"{admin}: {reason}")
        summary = f"no_alerts_channel: sent by DM to {sent} of {len(admins)} administrator(s)"
        if errors:
            summary += f" ({'; '.join(errors)})"
        return _Outcome(DigestStatus.SENT if sent else DigestStatus.FAILED, error=summary)

    async def _attach_chart(self, client: AsyncWebClient, channel: str, ts: str, composed: _Composed) -> None:
        """The burn-down chart of every allowance, in the digest's thread. Best effort, never repeated:
        the digest itself is posted and recorded."""
        try:
            png = await asyncio.to_thread(
                burndown_png,
                list(composed.charts.values()),
                title=f"{composed.company}: allowances this billing period",
            )
            async with asyncio.timeout(self.post_timeout * 2):
                await client.files_upload_v2(
                    channel=channel,
                    thread_ts=ts,
                    file=png,
                    filename="weekly-digest-burn-down.png",
                    title="Allowances this billing period",
                    alt_txt="Burn-down chart of each allowance with the run-out forecast and the renewal date",
                )
        except _FAILURES as error:
            log.warning("weekly digest posted to %s, but its chart was not: %s", channel, error)

    async def _client(self, account_id: str) -> AsyncWebClient | None:
        """A client of the account's alerts channel's workspace, else of its first linked workspace the app
        can post in."""
        rules = await self.store.alerts.rules(account_id)
        teams = await self.store.workspaces.teams_of(account_id)
        if rules.channel_team_id in teams:
            teams.remove(rules.channel_team_id)
            teams.insert(0, rules.channel_team_id)
        for team_id in teams:
            if (client := await self.provider(team_id)) is not None:
                return client
        return None
