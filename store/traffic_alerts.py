"""Spike alerts (an outbox, claimed once per account, area, kind and day), their mutes, and destination
blocks handed to the billing platform (a webhook outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit import add_audit
from store.db import Database
from store.domain.bounds import PLACES
from store.domain.traffic import (
    BlockState,
    DestinationBlock,
    Mute,
    MuteReason,
    SpikeAlert,
    SpikeClaim,
    SpikeStatus,
    WebhookStatus,
)
from store.errors import NotFound
from store.tables import (
    AccountRow,
    DestinationBlockRow,
    TrafficMuteRow,
    TrafficSpikeRow,
    WorkspaceLinkRow,
)
from store.upserts import insert_for

A, B, M = TrafficSpikeRow, DestinationBlockRow, TrafficMuteRow
ACTIVE: Final = (BlockState.REQUESTED.value, BlockState.CONFIRMED.value)
MAX_ERROR: Final = 200
PLATFORM: Final = "billing platform"
DETECTOR: Final = "spike detection"
"""The audit log's actors: the platform (through the API), and the detection that claims a spike."""


class TrafficAlertRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- claiming -------------------------------------------------------------------------------------------

    async def muted(self, account_id: str, now: datetime) -> set[tuple[str, str]]:
        """The (area, kind) pairs whose spike alerts are muted at `now`."""
        async with self._db.session(read_only=True) as session:
            found = await session.execute(
                select(M.area, M.kind).where(M.account_id == account_id, M.until > now)
            )
            return {(area, kind) for area, kind in found}

    async def claim(self, account_id: str, claims: Sequence[SpikeClaim], now: datetime) -> list[int]:
        """Claim each spike once for its account, area, kind and day; the ids of those new now."""
        if not claims:
            return []
        async with self._db.session() as session:
            insert = insert_for(session)
            statement = (
                insert(A)
                .values([_claim_row(account_id, claim, now) for claim in claims])
                .on_conflict_do_nothing(index_elements=["account_id", "area", "kind", "day"])
                .returning(A.id, A.area, A.kind)
            )
            claimed = (await session.execute(statement)).all()
            by_key: dict[tuple[str, str], SpikeClaim] = {(claim.area, claim.kind): claim for claim in claims}
            for spike_id, area, kind in claimed:
                claim = by_key[(area, kind)]
                add_audit(
                    session,
                    account_id=account_id,
                    actor=DETECTOR,
                    action="traffic.spike",
                    after={
                        "spike": spike_id,
                        "area": area,
                        "kind": kind,
                        "quantity": _plain(claim.quantity),
                        "cost": _plain(claim.cost),
                        "baseline": _plain(claim.baseline),
                    },
                    now=now,
                )
            return sorted(spike_id for spike_id, _, _ in claimed)

    # -- delivery -------------------------------------------------------------------------------------------

    async def claim_due(
        self, now: datetime, *, lease: timedelta, limit: int, account_id: str | None = None
    ) -> list[SpikeAlert]:
        """Spike alerts due (pending and due, or sending with a lapsed lease), leased to the caller, with
        their account's alerts channel and workspace as of now."""
        async with self._db.session() as session:
            due = (
                select(A.id)
                .where(
                    or_(
                        (A.status == SpikeStatus.PENDING.value) & (A.next_attempt_at <= now),
                        (A.status == SpikeStatus.SENDING.value) & (A.lease_until <= now),
                    )
                )
                .order_by(A.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            if account_id is not None:
                due = due.where(A.account_id == account_id)
            ids = list(await session.scalars(due))
            if not ids:
                return []
            # Taken over from a process whose lease lapsed mid-post: that post may be in Slack.
            await session.execute(
                update(A)
                .where(A.id.in_(ids), A.status == SpikeStatus.SENDING.value)
                .values(may_be_posted=True)
            )
            await session.execute(
                update(A)
                .where(A.id.in_(ids))
                .values(status=SpikeStatus.SENDING.value, lease_until=now + lease, attempts=A.attempts + 1)
            )
            targets = await _targets(session, ids)
            rows = await session.scalars(select(A).where(A.id.in_(ids)).order_by(A.id))
            return [_alert(row, targets.get(row.id)) for row in rows]

    async def sent(
        self,
        spike_id: int,
        attempt: int,
        *,
        team_id: str,
        channel: str,
        ts: str,
        now: datetime,
        shows: int | None,
    ) -> bool:
        """Attempt `attempt` posted the alert as `ts`, its message showing version `shows` of it (None: not
        known, as for a message found in the channel's history): a later version (a block clicked while
        the post was under way) leaves the message stale, for the worker to update. False, recording
        nothing, when that attempt is no longer the alert's (its lease lapsed and another pass took it
        over: that pass looks the post up)."""
        return await self._finish(
            spike_id,
            attempt,
            status=SpikeStatus.SENT.value,
            team_id=team_id,
            channel=channel,
            message_ts=ts,
            sent_at=now,
            lease_until=None,
            error=None,
            may_be_posted=False,
            shown_version=shows if shows is not None else A.shown_version,
            message_stale=A.version > shows if shows is not None else True,
        )

    async def retry(
        self,
        spike_id: int,
        attempt: int,
        *,
        reason: str,
        at: datetime,
        unknown_outcome_in: tuple[str, str] | None = None,
    ) -> bool:
        """Put back for `at`. `unknown_outcome_in`: the (team, channel) of an attempt whose outcome is
        unknown: the alert may be posted there (it stays so), and is looked up, and posted, there from then
        on, though its account's alerts channel change meanwhile. False as `sent`."""
        values: dict[str, Any] = {
            "status": SpikeStatus.PENDING.value,
            "next_attempt_at": at,
            "lease_until": None,
            "error": reason[:MAX_ERROR],
        }
        if unknown_outcome_in is not None:
            team_id, channel = unknown_outcome_in
            values |= {"may_be_posted": True, "team_id": team_id, "channel": channel}
        return await self._finish(spike_id, attempt, **values)

    async def give_up(self, spike_id: int, attempt: int, status: SpikeStatus, reason: str) -> bool:
        """False as `sent`."""
        return await self._finish(
            spike_id, attempt, status=status.value, lease_until=None, error=reason[:MAX_ERROR]
        )

    async def _finish(self, spike_id: int, attempt: int, **values: Any) -> bool:
        """The outcome of attempt `attempt`, recorded only while that attempt is the alert's (sending, and
        not taken over since), so a late pass never overwrites the pass that took the alert over."""
        async with self._db.session() as session:
            finished = await session.scalar(
                update(A)
                .where(A.id == spike_id, A.status == SpikeStatus.SENDING.value, A.attempts == attempt)
                .values(**values)
                .returning(A.id)
                .execution_options(synchronize_session=False)
            )
            return finished is not None

    # -- what people do -------------------------------------------------------------------------------------

    async def get(self, spike_id: int) -> SpikeAlert:
        async with self._db.session(read_only=True) as session:
            row = await session.get(A, spike_id)
            if row is None:
                raise NotFound(f"spike alert {spike_id}")
            return await _with_state(session, _alert(row, None))

    async def mute(
        self, spike_id: int, *, reason: MuteReason, until: datetime, by: str, now: datetime
    ) -> SpikeAlert:
        """No spike alerts for the alert's area and kind until `until` (the later of this and a mute in
        place), audited; the alert's message is to show it."""
        async with self._db.session() as session:
            spike = await _locked(session, spike_id)
            mute = await session.get(M, (spike.account_id, spike.area, spike.kind))
            if mute is None:
                mute = M(account_id=spike.account_id, area=spike.area, kind=spike.kind, until=until)
                session.add(mute)
            mute.until, mute.reason, mute.by, mute.at = max(mute.until, until), reason.value, by, now
            _changed(spike)
            add_audit(
                session,
                account_id=spike.account_id,
                actor=by,
                action=f"traffic.{reason.value}",
                after={"area": spike.area, "kind": spike.kind, "until": until.isoformat()},
                now=now,
            )
        return await self.get(spike_id)

    async def block(
        self, spike_id: int, *, by: str, now: datetime, webhook: bool
    ) -> tuple[DestinationBlock, bool]:
        """Block the alert's destination (its area and kind, the prefixes it saw), audited; an active block
        of the same area and kind is returned as is. (the block, whether it is new)"""
        async with self._db.session() as session:
            spike = await _locked(session, spike_id)
            active = await session.scalar(
                select(B).where(
                    B.account_id == spike.account_id,
                    B.area == spike.area,
                    B.kind == spike.kind,
                    B.state.in_(ACTIVE),
                )
            )
            if active is not None:
                return _block(active), False
            row = B(
                account_id=spike.account_id,
                spike_id=spike.id,
                area=spike.area,
                place=spike.place,
                kind=spike.kind,
                prefixes=spike.prefixes,
                state=BlockState.REQUESTED.value,
                requested_by=by,
                requested_at=now,
                updated_at=now,
                webhook_status=(WebhookStatus.PENDING if webhook else WebhookStatus.NONE).value,
                webhook_attempts=0,
                webhook_next_at=now,
            )
            session.add(row)
            _changed(spike)
            await session.flush()
            add_audit(
                session,
                account_id=spike.account_id,
                actor=by,
                action="traffic.block",
                after={"block": row.id, "area": spike.area, "kind": spike.kind, "prefixes": spike.prefixes},
                now=now,
            )
            return _block(row), True

    # -- blocks, for the platform ---------------------------------------------------------------------------

    async def blocks(self, account_id: str, state: BlockState | None = None) -> list[DestinationBlock]:
        async with self._db.session(read_only=True) as session:
            if await session.get(AccountRow, account_id) is None:
                raise NotFound(f"account {account_id!r}")
            query = select(B).where(B.account_id == account_id).order_by(B.id)
            if state is not None:
                query = query.where(B.state == state.value)
            return [_block(row) for row in await session.scalars(query)]

    async def set_block_state(
        self, account_id: str, block_id: int, state: BlockState, *, note: str | None, now: datetime
    ) -> DestinationBlock:
        """The platform confirms or lifts a block, audited; its alert's message is to show it. Setting the
        state it has changes nothing."""
        async with self._db.session() as session:
            row = await session.get(B, block_id, with_for_update=True)
            if row is None or row.account_id != account_id:
                raise NotFound(f"destination block {block_id}")
            if row.state == state.value and row.note == note:
                return _block(row)
            before = row.state
            row.state, row.note, row.updated_at = state.value, note, now
            if row.spike_id is not None:
                await session.execute(
                    update(A).where(A.id == row.spike_id).values(version=A.version + 1, message_stale=True)
                )
            add_audit(
                session,
                account_id=account_id,
                actor=PLATFORM,
                action="traffic.block_state",
                before={"block": block_id, "state": before},
                after={"block": block_id, "state": state.value},
                note=note,
                now=now,
            )
            return _block(row)

    async def stale_messages(self, limit: int = 50) -> list[SpikeAlert]:
        """Posted alerts whose message does not show their latest state yet (a block, a mute)."""
        async with self._db.session(read_only=True) as session:
            rows = await session.scalars(
                select(A)
                .where(A.message_stale.is_(True), A.status == SpikeStatus.SENT.value)
                .order_by(A.id)
                .limit(limit)
            )
            return [await _with_state(session, _alert(row, None)) for row in rows]

    async def shown(self, spike_id: int, version: int) -> None:
        """The message shows the alert as of `version` (never moved back by a slower update)."""
        async with self._db.session() as session:
            await session.execute(
                update(A)
                .where(A.id == spike_id, A.shown_version < version)
                .values(shown_version=version, message_stale=A.version > version)
            )

    # -- the webhook outbox ---------------------------------------------------------------------------------

    async def claim_webhooks(
        self, now: datetime, *, lease: timedelta, limit: int
    ) -> list[tuple[DestinationBlock, int]]:
        """Blocks whose webhook delivery is due, leased to the caller, with the attempt this is."""
        async with self._db.session() as session:
            due = (
                select(B)
                .where(B.webhook_status == WebhookStatus.PENDING.value, B.webhook_next_at <= now)
                .where(or_(B.webhook_lease_until.is_(None), B.webhook_lease_until <= now))
                .order_by(B.webhook_next_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            claimed = []
            for row in await session.scalars(due):
                row.webhook_lease_until = now + lease
                row.webhook_attempts += 1
                claimed.append((_block(row), row.webhook_attempts))
            return claimed

    async def webhook_delivered(self, block_id: int, attempt: int, now: datetime) -> None:
        await self._webhook_outcome(
            block_id,
            attempt,
            webhook_status=WebhookStatus.DELIVERED.value,
            webhook_delivered_at=now,
            webhook_lease_until=None,
            webhook_error=None,
        )

    async def webhook_retry(self, block_id: int, attempt: int, *, reason: str, at: datetime) -> None:
        await self._webhook_outcome(
            block_id, attempt, webhook_next_at=at, webhook_lease_until=None, webhook_error=reason[:MAX_ERROR]
        )

    async def _webhook_outcome(self, block_id: int, attempt: int, **values: Any) -> None:
        """Recorded only while attempt `attempt` holds the delivery: a late process does not undo the one
        that took it over (acknowledged stays acknowledged)."""
        async with self._db.session() as session:
            await session.execute(
                update(B)
                .where(
                    B.id == block_id,
                    B.webhook_status == WebhookStatus.PENDING.value,
                    B.webhook_attempts == attempt,
                )
                .values(**values)
            )


def _claim_row(account_id: str, claim: SpikeClaim, now: datetime) -> dict[str, Any]:
    return {
        "account_id": account_id,
        **claim.model_dump(exclude={"prefixes", "baseline"}),
        "baseline": claim.baseline.quantize(Decimal(1).scaleb(-PLACES)),
        "prefixes": ",".join(claim.prefixes)[:200].rsplit(",", 1)[0]
        if len(",".join(claim.prefixes)) > 200
        else ",".join(claim.prefixes),
        "status": SpikeStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "may_be_posted": False,
        "created_at": now,
        "version": 0,
        "shown_version": 0,
        "message_stale": False,
    }


def _plain(value: Decimal) -> str:
    """A figure as the audit log keeps it, alike from both databases (`60`, not `60.00000000`)."""
    return format(value.normalize(), "f")


def _changed(spike: TrafficSpikeRow) -> None:
    """The alert changed: its message, once posted, is to show it (the index on `message_stale` finds it)."""
    spike.version += 1
    spike.message_stale = True


def _joined(prefixes: Sequence[str], limit: int = 200) -> str:
    """As many of `prefixes` (most traffic first) as fit the column, whole."""
    joined = ""
    for prefix in prefixes:
        longer = f"{joined},{prefix}" if joined else prefix
        if len(longer) > limit:
            break
        joined = longer
    return joined


async def _targets(session: AsyncSession, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Where each alert goes now: (team, channel) of its account; none without an alerts channel or a
    linked workspace."""
    found = await session.execute(
        select(A.id, func.min(WorkspaceLinkRow.team_id), AccountRow.alerts_channel)
        .join(AccountRow, AccountRow.id == A.account_id)
        .join(WorkspaceLinkRow, WorkspaceLinkRow.account_id == A.account_id)
        .where(A.id.in_(ids), AccountRow.alerts_channel.is_not(None), AccountRow.alerts_channel != "")
        .group_by(A.id, AccountRow.alerts_channel)
    )
    return {spike_id: (team, channel or "") for spike_id, team, channel in found}


async def _locked(session: AsyncSession, spike_id: int) -> TrafficSpikeRow:
    row = await session.get(A, spike_id, with_for_update=True)
    if row is None:
        raise NotFound(f"spike alert {spike_id}")
    return row


async def _with_state(session: AsyncSession, alert: SpikeAlert) -> SpikeAlert:
    mute = await session.get(M, (alert.account_id, alert.area, alert.kind))
    block = await session.scalar(select(B).where(B.spike_id == alert.id).order_by(B.id.desc()).limit(1))
    return alert.model_copy(
        update={
            "mute": Mute(until=mute.until, reason=MuteReason(mute.reason), by=mute.by) if mute else None,
            "block": _block(block) if block is not None else None,
        }
    )


def _alert(row: TrafficSpikeRow, target: tuple[str, str] | None) -> SpikeAlert:
    team_id, channel = target if target is not None else (row.team_id, row.channel)
    return SpikeAlert(
        id=row.id,
        account_id=row.account_id,
        area=row.area,
        place=row.place,
        kind=row.kind,
        day=row.day,
        window_start=row.window_start,
        window_end=row.window_end,
        quantity=row.quantity,
        cost=row.cost,
        rate=row.rate,
        baseline=row.baseline,
        baseline_days=row.baseline_days,
        high_risk=row.high_risk,
        prefixes=tuple(row.prefixes.split(",")) if row.prefixes else (),
        status=SpikeStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        may_be_posted=row.may_be_posted,
        error=row.error,
        team_id=row.team_id or team_id,
        channel=row.channel or channel,
        message_ts=row.message_ts,
        version=row.version,
    )


def _block(row: DestinationBlockRow) -> DestinationBlock:
    return DestinationBlock(
        id=row.id,
        account_id=row.account_id,
        area=row.area,
        place=row.place,
        kind=row.kind,
        prefixes=row.prefixes.split(",") if row.prefixes else [],
        state=BlockState(row.state),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        updated_at=row.updated_at,
        note=row.note,
        spike_id=row.spike_id,
    )
