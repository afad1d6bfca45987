"""Service accounts and their plan: read as one snapshot, replaced as one document."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.clock import utcnow
from store.db import Database
from store.domain.account import AccountDocument, CompanyDoc
from store.domain.plan import Account, Allowance, Feature, FeatureKey, PlanSnapshot, Subscription
from store.errors import NotFound
from store.tables import AccountRow, AllowanceRow, CompanyInfoRow, FeatureRow, SubscriptionRow

FEATURE_ORDER = list(FeatureKey)


class AccountRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def exists(self, account_id: str) -> bool:
        async with self._db.session(read_only=True) as session:
            return await session.get(AccountRow, account_id) is not None

    async def snapshot(self, account_id: str) -> PlanSnapshot:
        """The account's plan as of now; raises NotFound for an unknown account."""
        async with self._db.session(read_only=True) as session:
            account = await session.get(AccountRow, account_id)
            subscription = await session.get(SubscriptionRow, account_id)
            if account is None or subscription is None:
                raise NotFound(f"account {account_id!r}")
            allowances = await session.scalars(
                select(AllowanceRow).where(AllowanceRow.account_id == account_id).order_by(AllowanceRow.meter)
            )
            features = await session.scalars(select(FeatureRow).where(FeatureRow.account_id == account_id))
            return PlanSnapshot(
                account=Account.model_validate(account, from_attributes=True),
                subscription=Subscription.model_validate(subscription, from_attributes=True),
                allowances=tuple(Allowance.model_validate(a, from_attributes=True) for a in allowances),
                features=tuple(
                    sorted(
                        (Feature.model_validate(f, from_attributes=True) for f in features),
                        key=lambda f: FEATURE_ORDER.index(f.key),
                    )
                ),
            )

    async def upsert(self, account_id: str, doc: AccountDocument, *, now: datetime | None = None) -> None:
        """Create the account or replace it with `doc`, keeping what the document does not own."""
        now = now or utcnow()
        async with self._db.session() as session:
            await _upsert_account(session, account_id, doc, now)
            await _upsert_subscription(session, account_id, doc)
            await _replace_allowances(session, account_id, doc, now)
            await _replace_features(session, account_id, doc, now)
            if doc.company is not None:
                await _upsert_company(session, account_id, doc.company, now)


async def _upsert_account(
    session: AsyncSession, account_id: str, doc: AccountDocument, now: datetime
) -> None:
    row = await session.get(AccountRow, account_id)
    if row is None:
        row = AccountRow(id=account_id, created_at=now)
        session.add(row)
    row.company_name = doc.company_name
    row.currency = doc.currency
    row.voip_rate_per_min = doc.voip_rate_per_min
    row.data_as_of = doc.data_as_of or now
    row.updated_at = now
    await session.flush()


async def _upsert_subscription(session: AsyncSession, account_id: str, doc: AccountDocument) -> None:
    row = await session.get(SubscriptionRow, account_id) or SubscriptionRow(account_id=account_id)
    row.plan_name = doc.plan_name
    row.monthly_fee = doc.monthly_fee
    row.period_start = doc.period_start
    row.next_payment_date = doc.next_payment_date
    row.staff_licences_purchased = doc.staff_licences_purchased
    row.staff_licences_assigned = doc.staff_licences_assigned
    session.add(row)


async def _replace_allowances(
    session: AsyncSession, account_id: str, doc: AccountDocument, now: datetime
) -> None:
    await session.execute(delete(AllowanceRow).where(AllowanceRow.account_id == account_id))
    session.add_all(
        AllowanceRow(
            account_id=account_id, meter=meter.value, available=a.available, used=a.used, used_at=None
        )
        for meter, a in doc.allowances.items()
    )


async def _replace_features(
    session: AsyncSession, account_id: str, doc: AccountDocument, now: datetime
) -> None:
    existing = {
        row.key: row
        for row in await session.scalars(select(FeatureRow).where(FeatureRow.account_id == account_id))
    }
    for key in set(existing) - {k.value for k in doc.features}:
        await session.delete(existing[key])
    for key, feature in doc.features.items():
        row = existing.get(key.value)
        if row is None:
            row = FeatureRow(account_id=account_id, key=key.value)
            session.add(row)
        if row.status != feature.status.value or feature.status_since is not None:
            # Keep "since when" unless the status really changed (or the sender says).
            row.status_since = feature.status_since or now
        row.status = feature.status.value
        for field in ("used", "limit", "unit", "monthly_fee", "create_path", "manage_path"):
            setattr(row, field, getattr(feature, field))
        row.configure_path = feature.configure_path
        row.pending_reason = feature.pending_reason


async def _upsert_company(session: AsyncSession, account_id: str, company: CompanyDoc, now: datetime) -> None:
    row = await session.get(CompanyInfoRow, account_id)
    if row is None:
        row = CompanyInfoRow(account_id=account_id, version=0)
        session.add(row)
    values = company.model_dump()
    if any(getattr(row, field, None) != value for field, value in values.items()):
        for field, value in values.items():
            setattr(row, field, value)
        row.version = (row.version or 0) + 1
        row.updated_at = now
        row.updated_by = None
