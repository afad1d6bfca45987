"""What the worker's periodic passes share: a pass on an interval until stopped, and per-account work in
which one account's failure never stops the others'."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from typing import TypeVar

from store.errors import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


async def every(
    seconds: float, one_pass: Callable[[], Awaitable[object]], stop: asyncio.Event, *, what: str
) -> None:
    """`one_pass` every `seconds` until `stop` is set; a failed pass does not stop the next (`logged`)."""
    while not stop.is_set():
        await logged(what, one_pass())
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def logged(what: str, work: Awaitable[object]) -> None:
    """Run one pass of the worker: a database outage is waited out and any other failure logged, so the
    next pass tries again."""
    try:
        await work
    except StoreUnavailable as error:
        log.warning("%s skipped, database unavailable: %s", what, error)
    except Exception:
        log.exception("%s failed", what)


async def count_each(
    items: Iterable[T], work: Callable[[T], Awaitable[bool]], *, account: Callable[[T], str], what: str
) -> int:
    """`work` on each item, how many did something. One account's failure is logged and the rest go on;
    a database outage stops the pass (every account would fail the same way)."""
    done = 0
    for item in items:
        try:
            done += await work(item)
        except StoreUnavailable:
            raise
        except Exception:
            log.exception("%s for %s failed", what, account(item))
    return done
