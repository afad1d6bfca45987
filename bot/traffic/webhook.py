"""Destination blocks handed to the billing platform by webhook: an outbox, delivered until acknowledged.

Each block made in Slack is stored with its webhook pending, in the transaction that records it. Delivery
leases it (so two processes never send it at once: a send that could not be answered within the lease
is put back instead, and an outcome is recorded only for the attempt holding the lease), POSTs it signed, and records it delivered on a 2xx;
anything else (a refusal, a 5xx, a timeout, no connection) is retried with backoff, from 10 seconds to
an hour, for as long as it takes. A delivery whose answer is lost is sent again: every one carries the
same `Idempotency-Key` (`destination-block-<id>`), by which the platform keeps it once.

The signature is HMAC-SHA256, keyed with `BLOCKS_WEBHOOK_SECRET` (else `INGEST_TOKEN`), of
``v1:<timestamp>:<body>``, sent as ``X-MyPlan-Signature: v1=<hex>`` with ``X-MyPlan-Timestamp``; the
platform recomputes it and refuses a timestamp more than 5 minutes old (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp

from bot.alerts.rules import answered_in_lease, backoff
from bot.settings import Settings
from store import Store
from store.clock import utcnow
from store.domain.traffic import DestinationBlock

log = logging.getLogger(__name__)

RETRY_BASE: Final = timedelta(seconds=10)
RETRY_CAP: Final = timedelta(hours=1)
LEASE: Final = timedelta(minutes=2)
TIMEOUT: Final = 10.0
BATCH: Final = 50
EVENT: Final = "destination_block.requested"
LEASE_RUNNING_OUT: Final = "deferred: the lease was running out before the send"


def signature(key: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key.encode(), f"v1:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def block_document(block: DestinationBlock) -> dict[str, Any]:
    """A block as the API lists it and the webhook sends it."""
    return block.model_dump(mode="json")


class BlockWebhook:
    def __init__(
        self,
        store: Store,
        url: str,
        key: str,
        session: aiohttp.ClientSession | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.url = url
        self.key = key
        self.session = session
        self.clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Store, session: aiohttp.ClientSession | None = None, **kwargs: Any
    ) -> BlockWebhook | None:
        """None without `BLOCKS_WEBHOOK_URL` (or a key to sign with)."""
        key = settings.blocks_webhook_key
        if settings.blocks_webhook_url is None or key is None:
            return None
        return cls(store, str(settings.blocks_webhook_url), key, session, **kwargs)

    async def deliver_due(self) -> int:
        """Send every block whose webhook is due; how many the platform acknowledged."""
        acknowledged = 0
        while due := await self.store.traffic_alerts.claim_webhooks(
            claimed_at := self.clock(), lease=LEASE, limit=BATCH
        ):
            for block, attempt in due:
                acknowledged += await self._send(block, attempt, claimed_at)
            if len(due) < BATCH:
                break
        return acknowledged

    async def _send(self, block: DestinationBlock, attempt: int, claimed_at: datetime) -> int:
        now = self.clock()
        if not answered_in_lease(now, claimed_at, LEASE, TIMEOUT):
            # Not answered before the lease lapses, when another process may send it too: put back.
            await self.store.traffic_alerts.webhook_retry(block.id, attempt, reason=LEASE_RUNNING_OUT, at=now)
            return 0
        body = json.dumps({"event": EVENT, "block": block_document(block)}).encode()
        stamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-MyPlan-Timestamp": str(stamp),
            "X-MyPlan-Signature": signature(self.key, stamp, body),
            "Idempotency-Key": f"destination-block-{block.id}",
        }
        failure = await self._post(body, headers)
        if failure is None:
            await self.store.traffic_alerts.webhook_delivered(block.id, attempt, now)
            log.info("destination block %s delivered to the billing platform", block.id)
            return 1
        wait = backoff(attempt, base=RETRY_BASE, cap=RETRY_CAP)
        log.warning(
            "destination block %s: webhook attempt %d failed (%s); again in %s",
            block.id,
            attempt,
            failure,
            wait,
        )
        await self.store.traffic_alerts.webhook_retry(block.id, attempt, reason=failure, at=now + wait)
        return 0

    async def _post(self, body: bytes, headers: dict[str, str]) -> str | None:
        """None when acknowledged (a 2xx); otherwise why not."""
        session = self.session or aiohttp.ClientSession()
        try:
            async with session.post(
                self.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT)
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return f"unreachable: {type(error).__name__}"
        finally:
            if session is not self.session:
                await session.close()
        return None if 200 <= status < 300 else f"HTTP {status}"
