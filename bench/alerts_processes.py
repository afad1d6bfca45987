"""Quota alerts from several OS processes on one PostgreSQL: every alert posted exactly once, and never
more than one message a second to a channel.

    python -m bench.alerts_processes                            # 40 accounts, 4 shared channels
    python -m bench.alerts_processes --accounts 80 --channels 8 --seconds 170
    python -m bench.alerts_processes --postgres-url postgresql://user@host/postgres

It creates a scratch PostgreSQL database (dropped afterwards), migrates it, and sets up N accounts (the
demo document: licences and two features past 80% from the start, voice minutes just under it), each linked
to its own workspace, their alerts going to C channels shared by about N / C accounts each, so that the
per-channel pacing (`channel_pace`, one message a second: the production default) is what holds delivery
back. The fake Slack runs on loopback in this process, which records when each request arrives. Then four
OS processes (multiprocessing, "spawn"), each with its own `Store` (engine and pool), its own Slack token and
`AlertTuning(channel_interval=1.0)`, real time and the real clock:

* two web processes record voice-minute readings for every account in three steps (82%, 92% and 100% of the
  allowance), taking turns (account i's step k is ingested by web (i + k) % 2, so both ingest every
  account) and calling `on_usage(account)` after each, as the ingest API does; each then waits for its
  background deliveries (`idle()`) and for the outbox to drain before the next step, so that the higher
  crossings go through the meter's thread (chat.update + a reply);
* two workers run `AlertService.run(stop, evaluate_every=1.0, deliver_every=0.2)`.

When the web processes are done and the outbox has had no pending or sending alert for a while (or after
`--seconds`), the workers are stopped and the fake's calls counted: alerts claimed, messages posted (every
chat.postMessage, thread replies included), duplicates (an alert id, from the message metadata, posted
more than once), lost alerts (claimed, not superseded, never posted), the most messages any channel got
within a sliding one-second window and the smallest gap between two messages to one channel, measured
where the fake receives them (the same again counting chat.update and chart shares). Each process also notes
the slots `channel_pace` handed it (the bench wraps `store.pacing`; the application is unchanged), so the
report can tell the pacing from request latency: the smallest gap between two slots of one channel, and how
long after its slot each paced write arrived (the k-th write to a channel against its k-th slot). Exit
status 1 on a duplicate, a lost alert, a process that failed or the time running out.

A channel can show 2 messages within one second although its slots are a second apart: a message that
arrives 100 ms after its slot followed by one that arrives 5 ms after the next. The report says so.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any, Final

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select, text

from bench.alerts import scratch_database
from bench.ingest import add_postgres_url
from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from handlers.alerts.delivery import ALERT_EVENT, AlertTuning
from handlers.alerts.service import AlertService
from store import Store
from store.clock import utcnow
from store.domain.alerts import AlertRules, AlertStatus
from store.domain.plan import Meter
from store.migrate import upgrade_url
from store.pacing import ChannelPaceRepository
from store.tables import AlertRow
from store.usage import Reading

WEBS: Final = 2
WORKERS: Final = 2
STEPS: Final = (Decimal("0.82"), Decimal("0.92"), Decimal("1.00"))
"""Voice minutes used, as a share of the allowance: each step crosses one more threshold (80, 90, 100%)."""
CHANNEL_INTERVAL: Final = 1.0
WINDOW_S: Final = 1.0
JITTER_S: Final = 0.1
"""Pairs closer than `WINDOW_S - JITTER_S` are counted apart: more than plausible latency jitter (the slots
line says what it actually was)."""
EVALUATE_EVERY_S: Final = 1.0
DELIVER_EVERY_S: Final = 0.2
SETTLED_S: Final = 2.5
"""The outbox must stay empty this long (longer than a worker's evaluation interval) to count as done."""
START_TIMEOUT_S: Final = 90.0
ADMIN: Final = "U0BENCHADMIN"
MESSAGE_METHODS: Final = ("chat.postMessage",)
WRITE_METHODS: Final = ("chat.postMessage", "chat.update", "files.completeUploadExternal")
"""Everything that writes to a channel: messages, in-place updates, the burn-down chart's file share."""


def account_id(n: int) -> str:
    return f"bench{n:04d}"


def team_id(n: int) -> str:
    return f"T0BENCH{n:04d}"


def channel_id(n: int, channels: int) -> str:
    return f"C0BENCH{n % channels:02d}"


def token_of(role: str) -> str:
    """Each process posts with its own token, so the fake's records tell who posted what."""
    return f"xoxb-bench-{role}"


# --------------------------------------------------------------------------------------------------
# The child processes
# --------------------------------------------------------------------------------------------------


class RecordingPace(ChannelPaceRepository):
    """`store.pacing` as it is, noting each slot it hands out (channel, epoch seconds): the bench compares
    them with the times the fake received the messages, to tell pacing from latency."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.db)
        self.slots: list[tuple[str, float]] = []

    async def reserve(self, team_id: str, channel: str, *, now: datetime, interval: timedelta) -> datetime:
        slot = await super().reserve(team_id, channel, now=now, interval=interval)
        self.slots.append((channel, slot.timestamp()))
        return slot

    def save(self, folder: str, role: str) -> None:
        Path(folder, f"{role}.json").write_text(json.dumps(self.slots))


def _service(
    store: Store, http: aiohttp.ClientSession, api_url: str, role: str
) -> tuple[AlertService, RecordingPace]:
    """The alert service as a process has it: one client over kept-alive connections, real pacing (its
    slots noted)."""
    client = AsyncWebClient(token=token_of(role), base_url=api_url, session=http)

    async def provider(team: str) -> AsyncWebClient | None:
        return client

    alerts = AlertService(store, provider, tuning=AlertTuning(channel_interval=CHANNEL_INTERVAL))
    pace = RecordingPace(store)
    alerts.pacer.slots = pace
    return alerts, pace


def read_slots(folder: str) -> dict[str, list[float]]:
    """Every slot the processes reserved, by channel, sorted."""
    slots: dict[str, list[float]] = defaultdict(list)
    for saved in Path(folder).glob("*.json"):
        for channel, at in json.loads(saved.read_text()):
            slots[channel].append(at)
    return {channel: sorted(times) for channel, times in slots.items()}


def _configure_logging(role: str) -> None:
    logging.basicConfig(level=logging.WARNING, format=f"[{role}] %(levelname)s %(name)s: %(message)s")


def web_process(
    index: int, url: str, api_url: str, accounts: int, start: Barrier, steps: Barrier, folder: str
) -> None:
    """A web process: ingests its turns of every step, `on_usage` after each reading."""
    role = f"web-{index + 1}"
    _configure_logging(role)
    asyncio.run(_web(index, role, url, api_url, accounts, start, steps, folder))


async def _web(
    index: int,
    role: str,
    url: str,
    api_url: str,
    accounts: int,
    start: Barrier,
    steps: Barrier,
    folder: str,
) -> None:
    store = Store.from_url(url)
    try:
        async with aiohttp.ClientSession() as http:
            alerts, pace = _service(store, http, api_url, role)
            available = demo_document(utcnow()).allowances[Meter.VOICE_MINUTES].available
            await asyncio.to_thread(start.wait, START_TIMEOUT_S)
            for step, share in enumerate(STEPS):
                for n in range(accounts):
                    if (n + step) % WEBS != index:
                        continue
                    reading = Reading(meter=Meter.VOICE_MINUTES.value, used=available * share, at=utcnow())
                    await store.usage.record(account_id(n), [reading])
                    await alerts.on_usage(account_id(n))
                await alerts.idle()
                await _drained(store)
                await asyncio.to_thread(steps.wait, START_TIMEOUT_S)
            await alerts.close()
            pace.save(folder, role)
    finally:
        await store.close()


async def _drained(store: Store, *, timeout: float = 120.0) -> None:
    """Until no alert is pending or sending (the other processes' deliveries included)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await outstanding(store):
            return
        await asyncio.sleep(0.25)


def worker_process(index: int, url: str, api_url: str, start: Barrier, stop: Event, folder: str) -> None:
    """A worker: `AlertService.run` until the parent sets `stop`."""
    role = f"worker-{index + 1}"
    _configure_logging(role)
    asyncio.run(_worker(role, url, api_url, start, stop, folder))


async def _worker(role: str, url: str, api_url: str, start: Barrier, stop: Event, folder: str) -> None:
    store = Store.from_url(url)
    try:
        async with aiohttp.ClientSession() as http:
            alerts, pace = _service(store, http, api_url, role)
            stopping = asyncio.Event()

            async def watch() -> None:
                while True:
                    if stop.is_set():
                        stopping.set()
                        return
                    await asyncio.sleep(0.1)

            await asyncio.to_thread(start.wait, START_TIMEOUT_S)
            watcher = asyncio.create_task(watch())
            await alerts.run(stopping, evaluate_every=EVALUATE_EVERY_S, deliver_every=DELIVER_EVERY_S)
            await watcher
            await alerts.close()
            pace.save(folder, role)
    finally:
        await store.close()


# --------------------------------------------------------------------------------------------------
# The parent: set-up, the run, the count
# --------------------------------------------------------------------------------------------------


async def set_up(url: str, accounts: int, channels: int) -> None:
    store = Store.from_url(url)
    now = utcnow()
    try:
        for n in range(accounts):
            await store.accounts.upsert(account_id(n), demo_document(now), now=now)
            await store.workspaces.link(team_id(n), account_id(n))
            await store.alerts.save_rules(
                account_id(n), AlertRules(channel=channel_id(n, channels)), by=ADMIN, now=now
            )
    finally:
        await store.close()


async def outstanding(store: Store) -> int:
    """Alerts pending or sending."""
    async with store.db.session(read_only=True) as session:
        found = await session.scalar(
            select(func.count())
            .select_from(AlertRow)
            .where(AlertRow.status.in_([AlertStatus.PENDING.value, AlertStatus.SENDING.value]))
        )
    return int(found or 0)


async def outbox(store: Store) -> dict[int, str]:
    """Every alert claimed: id -> status."""
    async with store.db.session(read_only=True) as session:
        rows = await session.execute(select(AlertRow.id, AlertRow.status))
        return {int(row.id): str(row.status) for row in rows}


@dataclass
class Run:
    accounts: int
    channels: int
    statuses: dict[int, str]
    calls: list[RecordedCall]
    roles: dict[str, str]
    """token -> process role."""
    slots: dict[str, list[float]]
    """The slots reserved in `channel_pace`, by channel (epoch seconds, sorted)."""
    total_s: float
    startup_s: float
    failures: list[str] = field(default_factory=list)


async def run(args: argparse.Namespace) -> Run:
    async with scratch_database("postgresql", args.postgres_url) as url:
        await upgrade_url(url)
        await set_up(url, args.accounts, args.channels)
        store = Store.from_url(url)
        try:
            with tempfile.TemporaryDirectory(prefix="myplan-alerts-processes-") as folder:
                async with FakeSlack(check_block_kit=False) as fake:
                    return await _run_processes(args, url, store, fake, folder)
        finally:
            await store.close()


async def _run_processes(
    args: argparse.Namespace, url: str, store: Store, fake: FakeSlack, folder: str
) -> Run:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WEBS + WORKERS + 1)
    steps = context.Barrier(WEBS)
    stop = context.Event()
    webs = [
        context.Process(
            target=web_process,
            args=(i, url, fake.api_url, args.accounts, start, steps, folder),
            name=f"web-{i + 1}",
        )
        for i in range(WEBS)
    ]
    workers = [
        context.Process(
            target=worker_process, args=(i, url, fake.api_url, start, stop, folder), name=f"worker-{i + 1}"
        )
        for i in range(WORKERS)
    ]
    processes = webs + workers
    roles = {token_of(p.name): p.name for p in processes}
    failures: list[str] = []
    launched = time.monotonic()
    for process in processes:
        process.start()
    try:
        await asyncio.to_thread(start.wait, START_TIMEOUT_S)
        started = time.monotonic()
        startup_s = started - launched
        deadline = started + args.seconds
        await _until_exited(webs, deadline)
        for process in webs:
            if process.exitcode != 0:
                failures.append(f"{process.name} exited with {process.exitcode}")
        settled_since: float | None = None
        while time.monotonic() < deadline:
            if any(p.exitcode is not None for p in workers):
                failures.append("a worker exited before it was told to stop")
                break
            if await outstanding(store):
                settled_since = None
            elif settled_since is None:
                settled_since = time.monotonic()
            elif time.monotonic() - settled_since >= SETTLED_S:
                break
            await asyncio.sleep(0.25)
        else:
            failures.append(f"alerts still pending or sending after {args.seconds:.0f} s")
        done = settled_since if settled_since is not None else time.monotonic()
        total_s = done - started
        stop.set()
        await _until_exited(workers, time.monotonic() + 30)
        for process in workers:
            if process.exitcode != 0:
                failures.append(f"{process.name} exited with {process.exitcode}")
    finally:
        stop.set()
        for process in processes:
            if process.is_alive():
                process.terminate()
            await asyncio.to_thread(process.join, 10)
    statuses = await outbox(store)
    return Run(
        accounts=args.accounts,
        channels=args.channels,
        statuses=statuses,
        calls=list(fake.calls),
        roles=roles,
        slots=read_slots(folder),
        total_s=total_s,
        startup_s=startup_s,
        failures=failures,
    )


async def _until_exited(processes: list[SpawnProcess], deadline: float) -> None:
    """Poll (the fake Slack runs on this loop: it must keep answering) until every process exited."""
    while time.monotonic() < deadline:
        if not any(p.is_alive() for p in processes):
            return
        await asyncio.sleep(0.1)


# --------------------------------------------------------------------------------------------------
# The count
# --------------------------------------------------------------------------------------------------


def alert_id_of(call: RecordedCall) -> int | None:
    metadata: Any = call.params.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if not isinstance(metadata, dict) or metadata.get("event_type") != ALERT_EVENT:
        return None
    value = (metadata.get("event_payload") or {}).get("alert_id")
    return int(value) if value is not None and str(value).isdigit() else None


def channel_of(call: RecordedCall) -> str | None:
    channel = call.params.get("channel") or call.params.get("channel_id")
    return str(channel) if channel else None


def busiest_window(times: list[float]) -> int:
    """The most of `times` (sorted) within any sliding window shorter than `WINDOW_S`."""
    best, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= WINDOW_S:
            first += 1
        best = max(best, last - first + 1)
    return best


@dataclass(frozen=True)
class Pacing:
    busiest: int
    busiest_channel: str
    closest: tuple[RecordedCall, RecordedCall] | None
    """The two consecutive writes to one channel nearest each other."""
    close_pairs: int
    """Pairs of consecutive writes to one channel less than `WINDOW_S` apart."""
    too_close: int
    """... of which closer than `WINDOW_S - JITTER_S`."""
    gaps: tuple[float, ...] = ()
    """Every gap between consecutive writes to one channel, sorted."""


def by_channel(calls: Iterable[RecordedCall]) -> dict[str, list[RecordedCall]]:
    """The calls to each channel, in the order the fake received them."""
    found: dict[str, list[RecordedCall]] = defaultdict(list)
    for call in calls:
        if (channel := channel_of(call)) is not None:
            found[channel].append(call)
    return {channel: sorted(calls, key=lambda call: call.at) for channel, calls in sorted(found.items())}


def pacing(calls: list[RecordedCall]) -> Pacing:
    busiest, busiest_channel = 0, "-"
    closest: tuple[RecordedCall, RecordedCall] | None = None
    close = too_close = 0
    gaps: list[float] = []
    for channel, received in by_channel(calls).items():
        if (window := busiest_window([call.at for call in received])) > busiest:
            busiest, busiest_channel = window, channel
        for earlier, later in itertools.pairwise(received):
            apart = later.at - earlier.at
            gaps.append(apart)
            if closest is None or apart < closest[1].at - closest[0].at:
                closest = (earlier, later)
            close += apart < WINDOW_S
            too_close += apart < WINDOW_S - JITTER_S
    return Pacing(busiest, busiest_channel, closest, close, too_close, tuple(sorted(gaps)))


def pacing_line(label: str, found: Pacing, roles: dict[str, str]) -> str:
    line = f"{label}: at most {found.busiest} in any sliding {WINDOW_S:g} s window of one channel ({found.busiest_channel})"
    if found.closest is not None:
        earlier, later = found.closest
        line += (
            f"; smallest gap {(later.at - earlier.at) * 1000:.0f} ms ({channel_of(earlier)}: "
            f"{_who(earlier, roles)} then {_who(later, roles)})"
        )
    if found.gaps:
        p5 = found.gaps[int(len(found.gaps) * 0.05)]
        line += f"; gaps p5 {p5 * 1000:.0f} ms, median {statistics.median(found.gaps) * 1000:.0f} ms"
    if found.busiest > 1:
        line += (
            f"; {found.close_pairs} consecutive pair(s) under {WINDOW_S * 1000:.0f} ms apart, {found.too_close} "
            f"under {(WINDOW_S - JITTER_S) * 1000:.0f} ms"
        )
    return line


def _who(call: RecordedCall, roles: dict[str, str]) -> str:
    return f"{call.method} by {roles.get(call.token or '', '?')}"


@dataclass(frozen=True)
class Slots:
    reserved: int
    smallest_gap_s: float | None
    matched: bool
    """Whether every channel got as many paced writes as slots (each write then matched to a slot in order)."""
    late: tuple[float, ...]
    """Receipt minus slot of each paced write, sorted (negative: received before its slot)."""
    closest_late: tuple[float, float] | None
    """How late the closest two writes arrived after their slots."""
    latest_by_process: dict[str, float] = field(default_factory=dict)
    """The most any write of each process arrived after its slot."""


def slots_against_receipts(result: Run, writes: list[RecordedCall], found: Pacing) -> Slots:
    """The slots `channel_pace` handed out next to the paced writes the fake received (the k-th slot of a
    channel is matched to its k-th write: none is skipped in a run without faults)."""
    gap: float | None = None
    for times in result.slots.values():
        for first, second in itertools.pairwise(times):
            gap = second - first if gap is None else min(gap, second - first)
    received = by_channel(writes)
    matched = set(received) == set(result.slots) and all(
        len(received[channel]) == len(times) for channel, times in result.slots.items()
    )
    late: list[float] = []
    slot_of: dict[int, float] = {}
    latest: dict[str, float] = {}
    if matched:
        for channel, calls in received.items():
            for call, slot in zip(calls, result.slots[channel], strict=True):
                late.append(call.at - slot)
                slot_of[id(call)] = slot
                role = result.roles.get(call.token or "", "?")
                latest[role] = max(latest.get(role, call.at - slot), call.at - slot)
    closest_late = None
    if found.closest is not None and all(id(call) in slot_of for call in found.closest):
        earlier, later = found.closest
        closest_late = (earlier.at - slot_of[id(earlier)], later.at - slot_of[id(later)])
    return Slots(
        reserved=sum(len(times) for times in result.slots.values()),
        smallest_gap_s=gap,
        matched=matched,
        late=tuple(sorted(late)),
        closest_late=closest_late,
        latest_by_process=dict(sorted(latest.items())),
    )


def slots_line(slots: Slots, writes: int) -> str:
    gap = "-" if slots.smallest_gap_s is None else f"{slots.smallest_gap_s * 1000:.0f} ms"
    line = f"channel_pace slots: {slots.reserved} reserved for {writes} paced writes; smallest gap between two slots of one channel {gap}"
    if not slots.matched or not slots.late:
        return line + " (writes and slots do not pair up per channel: no lateness computed)"
    late = slots.late
    line += (
        f"; receipt − slot (k-th write of a channel vs its k-th slot): min {late[0] * 1000:.0f} ms, "
        f"median {statistics.median(late) * 1000:.0f} ms, p99 {late[min(int(len(late) * 0.99), len(late) - 1)] * 1000:.0f} ms, "
        f"max {late[-1] * 1000:.0f} ms"
    )
    if slots.latest_by_process:
        line += (
            " (max by process: "
            + ", ".join(
                f"{role} {seconds * 1000:.0f} ms" for role, seconds in slots.latest_by_process.items()
            )
            + ")"
        )
    if slots.closest_late is not None:
        first, second = slots.closest_late
        line += (
            f"; the closest two arrived {first * 1000:.0f} ms and {second * 1000:.0f} ms after their slots"
        )
    return line


@dataclass(frozen=True)
class Count:
    claimed: int
    by_status: Counter[str]
    messages: int
    replies: int
    posted: Counter[int]
    duplicates: dict[int, int]
    lost: list[int]
    posted_not_recorded: list[int]
    other_messages: int
    updates: int
    charts: int
    per_process: Counter[str]


def count(result: Run) -> Count:
    ok = [call for call in result.calls if call.ok]
    posts = [call for call in ok if call.method == "chat.postMessage"]
    alert_posts = [(call, alert_id_of(call)) for call in posts]
    posted = Counter(alert for _, alert in alert_posts if alert is not None)
    expected = {alert for alert, status in result.statuses.items() if status != AlertStatus.SUPERSEDED.value}
    sent = {alert for alert, status in result.statuses.items() if status == AlertStatus.SENT.value}
    return Count(
        claimed=len(result.statuses),
        by_status=Counter(result.statuses.values()),
        messages=len(posts),
        replies=sum(1 for call in posts if call.params.get("thread_ts")),
        posted=posted,
        duplicates={alert: n for alert, n in posted.items() if n > 1},
        lost=sorted(expected - set(posted)),
        posted_not_recorded=sorted(set(posted) - sent),
        other_messages=sum(1 for _, alert in alert_posts if alert is None),
        updates=sum(1 for call in ok if call.method == "chat.update"),
        charts=sum(1 for call in ok if call.method == "files.completeUploadExternal"),
        per_process=Counter(result.roles.get(call.token or "", "?") for call in posts),
    )


def report(result: Run, machine: str) -> tuple[list[str], bool]:
    counted = count(result)
    ok_calls = [call for call in result.calls if call.ok]
    messages = [call for call in ok_calls if call.method in MESSAGE_METHODS]
    writes = [call for call in ok_calls if call.method in WRITE_METHODS]
    statuses = ", ".join(f"{status} {n}" for status, n in sorted(counted.by_status.items()))
    per_process = ", ".join(f"{role} {n}" for role, n in sorted(counted.per_process.items()))
    first_last = (
        f"; first → last message {max(c.at for c in messages) - min(c.at for c in messages):.1f} s"
        if messages
        else ""
    )
    failed = [c for c in result.calls if not c.ok]
    lines = [
        f"machine: {machine}",
        f"processes: {WEBS + WORKERS} ({WEBS} web, {WORKERS} workers; each its own Store and pool), "
        f"channel_interval {CHANNEL_INTERVAL:g} s through channel_pace",
        f"accounts: {result.accounts}; channels: {result.channels} (about {result.accounts / result.channels:.0f} "
        "accounts each)",
        f"alerts claimed: {counted.claimed} ({statuses})",
        f"messages posted: {counted.messages} chat.postMessage ({counted.messages - counted.replies} new messages, "
        f"{counted.replies} thread replies; {counted.other_messages} without an alert id); "
        f"also {counted.updates} chat.update and {counted.charts} chart shares",
        f"posted by: {per_process}",
        f"duplicates: {len(counted.duplicates)}"
        + (
            f" (alert id → messages: {dict(sorted(counted.duplicates.items()))})"
            if counted.duplicates
            else ""
        ),
        f"lost: {len(counted.lost)}" + (f" (alert ids {counted.lost[:20]})" if counted.lost else ""),
    ]
    if counted.posted_not_recorded:
        lines.append(f"posted but not recorded sent: {counted.posted_not_recorded[:20]}")
    if failed:
        kinds = Counter(f"{c.method} {c.status} {c.error or ''}".strip() for c in failed)
        lines.append(f"failed Slack calls: {dict(kinds)}")
    paced = [
        call
        for call in ok_calls
        if call.method == "chat.update"
        or (call.method == "chat.postMessage" and alert_id_of(call) is not None)
    ]
    all_writes = pacing(writes)
    lines += [
        pacing_line(
            "messages per channel (chat.postMessage, at the fake's receipt)", pacing(messages), result.roles
        ),
        pacing_line("every channel write (+ chat.update and chart shares)", all_writes, result.roles),
        slots_line(slots_against_receipts(result, paced, all_writes), len(paced)),
        f"total: {result.total_s:.1f} s from the first ingest to every alert sent{first_last} "
        f"(process start-up before that: {result.startup_s:.1f} s)",
    ]
    lines += [f"FAILED: {failure}" for failure in result.failures]
    ok = not counted.duplicates and not counted.lost and not result.failures
    return lines, ok


async def machine_notes(postgres_url: str) -> str:
    store = Store.from_url(postgres_url)
    try:
        async with store.db.session(read_only=True) as session:
            version = await session.scalar(text("SHOW server_version"))
    finally:
        await store.close()
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {version}, "
        f"{platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=40, help="accounts (default 40)")
    parser.add_argument("--channels", type=int, default=4, help="alerts channels they share (default 4)")
    parser.add_argument(
        "--seconds", type=float, default=170.0, help="give up this long after the first ingest (default 170)"
    )
    add_postgres_url(parser, "admin URL of a PostgreSQL where a scratch database may be created")
    args = parser.parse_args(argv)
    if args.accounts < 1 or not 1 <= args.channels <= args.accounts:
        parser.error("--accounts must be at least 1 and --channels from 1 to --accounts")
    logging.basicConfig(level=logging.WARNING, format="[parent] %(levelname)s %(name)s: %(message)s")
    machine = asyncio.run(machine_notes(args.postgres_url))
    result = asyncio.run(run(args))
    lines, ok = report(result, machine)
    print("\n".join(lines), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
