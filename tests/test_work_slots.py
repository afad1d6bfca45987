"""Post-ack work runs a bounded number at a time (LISTENER_CONCURRENCY); no job waits for a turn longer
than its patience, and a queued job is never lost."""

from __future__ import annotations

import asyncio

import pytest

from bot.settings import Settings
from handlers.work_slots import WorkSlots
from tests.support.slackdriver import SlackDriver

WAIT = 5.0  # seconds to wait for something that must happen


class Job:
    """Enters its slot, then holds it until released."""

    def __init__(self, slots: WorkSlots) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.task = asyncio.create_task(self._run(slots))

    async def _run(self, slots: WorkSlots) -> None:
        async with slots.slot():
            self.entered.set()
            await self.release.wait()

    async def finish(self) -> None:
        self.release.set()
        await asyncio.wait_for(self.task, WAIT)


async def settle() -> None:
    """Let every task that can run, run (loop turns, not time)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_at_most_size_jobs_run_at_once_and_the_next_gets_a_freed_slot() -> None:
    slots = WorkSlots(2, patience=60)
    first, second, third = Job(slots), Job(slots), Job(slots)
    await asyncio.wait_for(asyncio.gather(first.entered.wait(), second.entered.wait()), WAIT)
    await settle()
    assert not third.entered.is_set()

    await first.finish()
    await asyncio.wait_for(third.entered.wait(), WAIT)
    await second.finish()
    await third.finish()


async def test_a_job_that_waited_its_patience_runs_beside_the_others() -> None:
    slots = WorkSlots(1, patience=0.05)
    holder = Job(slots)
    await asyncio.wait_for(holder.entered.wait(), WAIT)
    late = Job(slots)
    await asyncio.wait_for(late.entered.wait(), WAIT)  # while `holder` still holds the only slot
    assert not holder.task.done()
    await late.finish()
    await holder.finish()

    # The slot that `late` never took is not given back twice: one job at a time again.
    one, two = Job(slots), Job(slots)
    await asyncio.wait_for(one.entered.wait(), WAIT)
    await settle()
    assert not two.entered.is_set()
    await one.finish()
    await asyncio.wait_for(two.entered.wait(), WAIT)
    await two.finish()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"listener_concurrency": 1})


@pytest.mark.usefixtures("demo")
async def test_requests_beyond_the_limit_are_acked_and_answered(slack: SlackDriver) -> None:
    replies = await asyncio.gather(*(slack.command("") for _ in range(6)))
    assert [reply.status for reply in replies] == [200] * 6
    for reply in replies:
        assert "BUSINESS" in str((await slack.reply_to(reply)).params)
