"""The service-wide rate table: imported versions, their rows, and the little the bot reads around them.

Every import creates a new version and keeps the old ones; the current table is the newest version. Rows
are stored in file order with their rates exactly as written, so exporting reproduces an imported file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.clock import utcnow
from store.db import Database
from store.domain.rates import (
    AccountRateTerms,
    AlertsTarget,
    RateChanges,
    RateImport,
    RateRow,
    RatesHomeState,
    RateTable,
    RateTableInfo,
    diff_tables,
)
from store.errors import ImportConflict, NotFound
from store.tables import (
    AccountRow,
    CompanyInfoRow,
    RateRowRow,
    RatesHomeStateRow,
    RateTableRow,
    WorkspaceLinkRow,
)

log = logging.getLogger(__name__)


def _info(row: RateTableRow) -> RateTableInfo:
    return RateTableInfo(
        version=row.version,
        effective_date=row.effective_date,
        label=row.label,
        sample=row.sample,
        imported_at=row.imported_at,
    )


def _as_written(rows: Sequence[RateRow]) -> list[tuple[str, ...]]:
    """Rows compared as they would be exported: ``0.01`` and ``0.0100`` differ here (not in `diff_tables`)."""
    return [
        (
            row.dial_code,
            row.iso_code,
            row.destination,
            str(row.landline_per_min),
            str(row.mobile_per_min),
            str(row.sms_per_message),
        )
        for row in rows
    ]


class RateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- tables --------------------------------------------------------------------------------------------

    async def current_version(self) -> int | None:
        """The newest version number: one indexed read, cheap enough to ask on every request."""
        async with self._db.session() as session:
            return await session.scalar(select(func.max(RateTableRow.version)))

    async def current_info(self) -> RateTableInfo | None:
        async with self._db.session() as session:
            row = await _newest(session)
            return _info(row) if row is not None else None

    async def versions(self) -> list[RateTableInfo]:
        """Every imported version, newest first."""
        async with self._db.session() as session:
            rows = await session.scalars(select(RateTableRow).order_by(RateTableRow.version.desc()))
            return [_info(row) for row in rows]

    async def table(self, version: int | None = None) -> RateTable | None:
        """A version with its rows in file order (the current one when `version` is None), or None."""
        async with self._db.session() as session:
            if version is None:
                head = await _newest(session)
            else:
                head = await session.get(RateTableRow, version)
            if head is None:
                return None
            rows = await _rows(session, head.version)
            return RateTable(**_info(head).model_dump(), rows=tuple(rows))

    async def import_table(
        self,
        rows: Sequence[RateRow],
        *,
        effective_date: date,
        label: str,
        sample: bool = False,
        now: datetime | None = None,
    ) -> RateImport:
        """Store `rows` as the new current version and say what changed against the previous one.

        Rows must already be checked (`bot.rates.parse_csv` / `check_rows`): the store keeps them as given.
        Importing exactly the current table again (same rows as written, label, date and sample flag)
        creates nothing, so a retried import is harmless. All or nothing: one transaction.
        """
        try:
            async with self._db.session() as session:
                return await self._import(session, rows, effective_date, label, sample, now or utcnow())
        except IntegrityError as error:
            raise ImportConflict("another rate table import ran at the same time; run it again") from error

    async def _import(
        self,
        session: AsyncSession,
        rows: Sequence[RateRow],
        effective_date: date,
        label: str,
        sample: bool,
        now: datetime,
    ) -> RateImport:
        head = await _newest(session)
        previous = _info(head) if head is not None else None
        old_rows = await _rows(session, head.version) if head is not None else []
        if (
            previous is not None
            and (previous.effective_date, previous.label, previous.sample) == (effective_date, label, sample)
            and _as_written(old_rows) == _as_written(rows)
        ):
            return RateImport(
                table=previous, previous=previous, changes=RateChanges(), created=False, row_count=len(rows)
            )
        version = previous.version + 1 if previous is not None else 1
        table = RateTableRow(
            version=version, effective_date=effective_date, label=label, sample=sample, imported_at=now
        )
        session.add(table)
        await session.flush()
        if rows:
            await session.execute(
                insert(RateRowRow),
                [
                    {"version": version, "position": position, **row.model_dump()}
                    for position, row in enumerate(rows, start=1)
                ],
            )
        return RateImport(
            table=_info(table),
            previous=previous,
            changes=diff_tables(old_rows, rows),
            created=True,
            row_count=len(rows),
        )

    # -- around the table ----------------------------------------------------------------------------------

    async def account_terms(self, account_id: str) -> AccountRateTerms:
        """The account's fixed VoIP rate and company country; NotFound for an unknown account."""
        async with self._db.session() as session:
            found = (
                await session.execute(
                    select(AccountRow.voip_rate_per_min, CompanyInfoRow.country)
                    .outerjoin(CompanyInfoRow, CompanyInfoRow.account_id == AccountRow.id)
                    .where(AccountRow.id == account_id)
                )
            ).first()
            if found is None:
                raise NotFound(f"account {account_id!r}")
            return AccountRateTerms(voip_rate_per_min=found[0], country=found[1])

    async def alerts_targets(self) -> list[AlertsTarget]:
        """Every account linked to a workspace that has an alerts channel (one workspace each: the first)."""
        async with self._db.session() as session:
            found = await session.execute(
                select(AccountRow.id, func.min(WorkspaceLinkRow.team_id), AccountRow.alerts_channel)
                .join(WorkspaceLinkRow, WorkspaceLinkRow.account_id == AccountRow.id)
                .where(AccountRow.alerts_channel.is_not(None), AccountRow.alerts_channel != "")
                .group_by(AccountRow.id, AccountRow.alerts_channel)
                .order_by(AccountRow.id)
            )
            return [
                AlertsTarget(account_id=account, team_id=team, channel=channel)
                for account, team, channel in found
            ]

    async def home_state(self, team_id: str, user_id: str) -> RatesHomeState:
        """The user's place in the Rate Table tab (page 1, nothing chosen, the first time)."""
        async with self._db.session() as session:
            row = await session.get(RatesHomeStateRow, (team_id, user_id))
            if row is None:
                return RatesHomeState()
            return RatesHomeState(iso_code=row.iso_code, page=max(1, row.page))

    async def remember_home_state(self, team_id: str, user_id: str, state: RatesHomeState) -> None:
        async with self._db.session() as session:
            row = await session.get(RatesHomeStateRow, (team_id, user_id))
            if row is None:
                row = RatesHomeStateRow(team_id=team_id, user_id=user_id)
                session.add(row)
            row.iso_code = state.iso_code
            row.page = state.page
            row.updated_at = utcnow()


async def _newest(session: AsyncSession) -> RateTableRow | None:
    newest = await session.scalars(select(RateTableRow).order_by(RateTableRow.version.desc()).limit(1))
    return newest.first()


async def _rows(session: AsyncSession, version: int) -> list[RateRow]:
    """The version's rows in file order. A row stored before the bounds were enforced (a rate of
    ``1E+30``, say) is left out and logged: lookups, the Home tab and change notices read the rest."""
    found = await session.scalars(
        select(RateRowRow).where(RateRowRow.version == version).order_by(RateRowRow.position)
    )
    rows: list[RateRow] = []
    for row in found:
        try:
            rows.append(
                RateRow(
                    dial_code=row.dial_code,
                    iso_code=row.iso_code,
                    destination=row.destination,
                    landline_per_min=row.landline_per_min,
                    mobile_per_min=row.mobile_per_min,
                    sms_per_message=row.sms_per_message,
                )
            )
        except ValidationError as error:
            log.warning(
                "rate table version %d: row %d (%s) is out of bounds and left out: %s",
                version,
                row.position,
                row.iso_code,
                "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in error.errors()),
            )
    return rows
