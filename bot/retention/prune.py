"""The prune: the retention policy applied to the database in bounded batches (`myplan prune`, and the
worker once a day). Each batch is a transaction of its own, so a concurrent ingest waits on one batch at
most, and a prune cut off anywhere leaves nothing half-done: the next one carries on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.retention.policy import RetentionPolicy, local_midnight, months_back, periods_back, rollup_end
from bot.retention.rollup import to_drop
from store import Store
from store.domain.bounds import is_sane_date
from store.errors import StoreUnavailable
from store.retention import AccountClock
from store.status import PRUNE_PASS

log = logging.getLogger(__name__)

BATCH: Final = 5000
"""Rows a batch reads or removes: a few milliseconds of the database's time."""
ACCOUNTS_PAGE: Final = 500
DAILY: Final = timedelta(days=1)
"""How often the worker prunes."""


@dataclass
class PruneReport:
    dry_run: bool
    readings_rolled_up: int = 0
    readings_removed: int = 0
    alerts_compacted: int = 0
    traffic_removed: int = 0
    spike_alerts_removed: int = 0
    audit_removed: int = 0
    failed_accounts: list[str] = field(default_factory=list)

    def lines(self, policy: RetentionPolicy) -> list[str]:
        """What was done (with `dry_run`, what would be), a line per kind of data."""
        verb = "would be" if self.dry_run else "were"
        lines = [
            f"usage readings: {self.readings_rolled_up:,} {verb} rolled up to one a day (kept one by one "
            f"for {policy.readings_periods} billing period(s)), {self.readings_removed:,} {verb} removed "
            f"(older than {policy.daily_readings_periods} period(s))",
            f"alerts: {self.alerts_compacted:,} {verb} compacted (periods ended more than "
            f"{policy.alert_periods} period(s) ago keep one per meter)",
            f"traffic: {self.traffic_removed:,} hourly figure(s) and {self.spike_alerts_removed:,} spike "
            f"alert(s) {verb} removed (older than {policy.traffic_months} month(s))",
            f"audit log: {self.audit_removed:,} entr(ies) {verb} removed (older than {policy.audit_years} "
            "year(s))",
        ]
        if self.failed_accounts:
            lines.append(
                f"failed for {len(self.failed_accounts)} account(s), left for the next prune: "
                + ", ".join(self.failed_accounts[:10])
            )
        return lines


async def prune(
    store: Store,
    policy: RetentionPolicy,
    now: datetime,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    stop: asyncio.Event | None = None,
) -> PruneReport:
    """Apply `policy` as of `now`, an account at a time (one account's failure is logged and the rest go
    on). `stop` set: it ends after the batch in hand."""
    run = _Prune(store, policy, now, PruneReport(dry_run=dry_run), batch, stop or asyncio.Event())
    await run.accounts()
    return run.report


async def daily(
    store: Store, policy: RetentionPolicy, now: datetime, stop: asyncio.Event
) -> PruneReport | None:
    """The worker's prune: once a day across all the workers on the database (the first to ask takes the
    day's); None when it is not due."""
    if not await store.status.claim_pass(PRUNE_PASS, now, every=DAILY):
        return None
    return await prune(store, policy, now, stop=stop)


@dataclass
class _Prune:
    store: Store
    policy: RetentionPolicy
    now: datetime
    report: PruneReport
    batch: int
    stop: asyncio.Event

    async def accounts(self) -> None:
        after: str | None = None
        while not self.stop.is_set() and (
            page := await self.store.retention.accounts(after=after, limit=ACCOUNTS_PAGE)
        ):
            for account in page:
                try:
                    await self.by_period(account)
                except StoreUnavailable:
                    raise
                except Exception:
                    log.exception("prune of %s failed", account.account_id)
                    self.report.failed_accounts.append(account.account_id)
            await self.by_time([account.account_id for account in page])
            after = page[-1].account_id

    async def by_time(self, accounts: list[str]) -> None:
        """The accounts' traffic, spike alerts and audit entries older than the policy keeps."""
        retention, report = self.store.retention, self.report
        traffic_from = months_back(self.now, self.policy.traffic_months)
        audit_from = months_back(self.now, 12 * self.policy.audit_years)
        report.traffic_removed += await self.drain(
            lambda n: retention.old_traffic(accounts, traffic_from, limit=n)
        )
        report.spike_alerts_removed += await self.drain(
            lambda n: retention.old_spike_alerts(accounts, traffic_from.date(), limit=n)
        )
        report.audit_removed += await self.drain(lambda n: retention.old_audit(accounts, audit_from, limit=n))

    async def by_period(self, account: AccountClock) -> None:
        """The account's old readings removed, the rest rolled up as far as the policy says, its old alerts
        compacted."""
        period_start, renewal = account.period_start, account.next_payment_date
        if (
            period_start is None
            or renewal is None
            or not (is_sane_date(period_start) and is_sane_date(renewal))
        ):
            return  # no subscription, or one stored before the bounds: no periods to count
        account_id, zone = account.account_id, ZoneInfo(account.time_zone)
        retention, policy, report = self.store.retention, self.policy, self.report

        def kept_from(periods: int) -> date:
            return periods_back(period_start, renewal, periods)

        end = rollup_end(kept_from(policy.readings_periods), zone, self.now)
        removed_before = min(local_midnight(kept_from(policy.daily_readings_periods), zone), end)
        report.readings_removed += await self.drain(
            lambda n: retention.old_readings(account_id, removed_before, limit=n)
        )
        start = max(account.rolled_up_before or removed_before, removed_before)
        if start < end:
            report.readings_rolled_up += await self.roll_up(
                account_id, zone, start, end, oldest=start == removed_before
            )
        ended_by = kept_from(policy.alert_periods)
        report.alerts_compacted += await self.drain(
            lambda n: retention.superseded_alerts(account_id, ended_by, limit=n)
        )

    async def roll_up(
        self, account_id: str, zone: ZoneInfo, start: datetime, end: datetime, *, oldest: bool
    ) -> int:
        """Roll the account's readings from `start` to `end` (local midnights) up to one a day, whole days
        at a time, a batch of readings each; how many went (would go). `oldest`: nothing before `start`
        is kept (a dry run has not removed it yet, but would)."""
        retention, batch = self.store.retention, self.batch
        before = {} if oldest else await retention.last_used_before(account_id, start)
        dropped = 0
        while start < end and not self.stop.is_set():
            readings = await retention.readings(account_id, start=start, end=end, limit=batch)
            reached = end
            if len(readings) == batch:  # a batch ends with whole days: the last, maybe cut short, waits
                reached = local_midnight(readings[-1].at.astimezone(zone).date(), zone)
                if reached <= start:  # one day holds more than a batch: that day alone, whole
                    reached = min(
                        local_midnight(start.astimezone(zone).date() + timedelta(days=1), zone), end
                    )
                    readings = await retention.readings(account_id, start=start, end=reached, limit=None)
                readings = [r for r in readings if r.at < reached]
            drop = to_drop(readings, zone, before)
            before.update((r.meter, r.used) for r in readings)
            if not self.report.dry_run:
                await retention.roll_up(account_id, drop, rolled_up_before=reached)
            dropped += len(drop)
            start = reached
        return dropped

    async def drain(self, remove: Callable[[int | None], Awaitable[int]]) -> int:
        """Batch after batch of `remove` until nothing is left (with `dry_run`, only the count)."""
        if self.report.dry_run:
            return await remove(None)
        total = 0
        while not self.stop.is_set() and (removed := await remove(self.batch)) > 0:
            total += removed
            if removed < self.batch:
                break
        return total
