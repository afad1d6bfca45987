"""Service accounts and their plan: read as one snapshot, replaced as one document."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.alert_marks import mark_due
from store.clock import utcnow
from store.company import audit_company_changes
from store.db import Database
from store.domain.account import (
    AccountDocument,
    AllowanceDoc,
    CompanyDoc,
    FeatureDoc,
    FeatureStatusChange,
    FeatureUpdate,
    UpsertResult,
)
from store.domain.company import CompanyDetails, diff_company
from store.domain.plan import (
    Account,
    Allowance,
    Feature,
    FeatureKey,
    FeatureStatus,
    Meter,
    PlanSnapshot,
    Subscription,
)
from store.errors import NotFound
from store.tables import AccountRow, AllowanceRow, CompanyInfoRow, FeatureRow, SubscriptionRow

BILLING_PLATFORM = "billing platform"  # the audit log's actor for changes pushed through the ingest API
FEATURE_ORDER = list(FeatureKey)


class AccountRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ids(self) -> list[str]:
        """Every account's id, in order."""
        async with self._db.session(read_only=True) as session:
            return list(await session.scalars(select(AccountRow.id).order_by(AccountRow.id)))

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

    async def document(self, account_id: str) -> AccountDocument:
        """The account as the document `upsert` accepts; upserting it again changes nothing."""
        async with self._db.session() as session:
            account = await session.get(AccountRow, account_id)
            subscription = await session.get(SubscriptionRow, account_id)
            if account is None or subscription is None:
                raise NotFound(f"account {account_id!r}")
            allowances = await session.scalars(
                select(AllowanceRow).where(AllowanceRow.account_id == account_id)
            )
            features = await session.scalars(select(FeatureRow).where(FeatureRow.account_id == account_id))
            company = await session.get(CompanyInfoRow, account_id)
            # Built without validation: a row stored before a rule was tightened still reads back.
            return AccountDocument.model_construct(
                company_name=account.company_name,
                currency=account.currency,
                plan_name=subscription.plan_name,
                monthly_fee=subscription.monthly_fee,
                period_start=subscription.period_start,
                next_payment_date=subscription.next_payment_date,
                staff_licences_purchased=subscription.staff_licences_purchased,
                staff_licences_assigned=subscription.staff_licences_assigned,
                licence_price=subscription.licence_price,
                voip_rate_per_min=account.voip_rate_per_min,
                allowances={
                    Meter(row.meter): AllowanceDoc.model_construct(available=row.available, used=row.used)
                    for row in sorted(allowances, key=lambda row: list(Meter).index(Meter(row.meter)))
                },
                features={
                    FeatureKey(row.key): _feature_doc(row)
                    for row in sorted(features, key=lambda row: FEATURE_ORDER.index(FeatureKey(row.key)))
                },
                company=None if company is None else _company_doc(company),
                data_as_of=account.data_as_of,
                sales_channel=account.sales_channel,
                account_manager=account.account_manager,
            )

    async def upsert(
        self, account_id: str, doc: AccountDocument, *, now: datetime | None = None
    ) -> UpsertResult:
        """Create the account or replace it with `doc`, keeping what the document does not own.

        The document's usage figures count as measured at its `data_as_of`, so a usage reading taken
        before then does not overwrite them.
        """
        now = now or utcnow()
        as_of = doc.data_as_of or now
        async with self._db.session() as session:
            created = await _upsert_account(session, account_id, doc, now)
            await _upsert_subscription(session, account_id, doc, as_of)
            await _replace_allowances(session, account_id, doc, as_of)
            changes = await _replace_features(session, account_id, doc, now, as_of)
            if doc.company is not None:
                await _upsert_company(session, account_id, doc.company, now)
            await mark_due(session, [account_id], now)
            return UpsertResult(created=created, status_changes=tuple(changes))

    async def update_feature(
        self, account_id: str, key: FeatureKey, update: FeatureUpdate, *, now: datetime | None = None
    ) -> tuple[FeatureDoc, FeatureStatusChange | None]:
        """Apply a status or usage change to one feature; NotFound when the account lacks it."""
        now = now or utcnow()
        at = update.at or now
        async with self._db.session() as session:
            account = await session.get(AccountRow, account_id)
            row = await session.get(FeatureRow, (account_id, key.value))
            if account is None:
                raise NotFound(f"account {account_id!r}")
            if row is None:
                raise NotFound(f"feature {key.value!r} of account {account_id!r}")
            change = None
            if update.status is not None and update.status.value != row.status:
                change = FeatureStatusChange(
                    account_id=account_id,
                    key=key,
                    before=FeatureStatus(row.status),
                    after=update.status,
                    at=at,
                )
                row.status, row.status_since = update.status.value, at
            if update.used is not None and (row.used_at is None or at >= row.used_at):
                row.used, row.used_at = update.used, at
                account.data_as_of = max(account.data_as_of, at)
            for field in ("limit", "monthly_fee", "pending_reason", "configure_path"):
                if field in update.model_fields_set:
                    setattr(row, field, getattr(update, field))
            account.updated_at = now
            await mark_due(session, [account_id], now)
            return _feature_doc(row), change


def _feature_doc(row: FeatureRow) -> FeatureDoc:
    return FeatureDoc.model_construct(
        status=FeatureStatus(row.status),
        used=row.used,
        limit=row.limit,
        unit=row.unit,
        monthly_fee=row.monthly_fee,
        create_path=row.create_path,
        manage_path=row.manage_path,
        configure_path=row.configure_path,
        pending_reason=row.pending_reason,
        status_since=row.status_since,
    )


def _company_doc(row: CompanyInfoRow) -> CompanyDoc:
    return CompanyDoc.model_construct(
        country=row.country,
        address=row.address,
        website=row.website,
        contact_person=row.contact_person,
        contact_number=row.contact_number,
        email=row.email,
    )


async def _upsert_account(
    session: AsyncSession, account_id: str, doc: AccountDocument, now: datetime
) -> bool:
    """True when the account is new."""
    row = await session.get(AccountRow, account_id)
    created = row is None
    if row is None:
        row = AccountRow(id=account_id, created_at=now)
        session.add(row)
    row.company_name = doc.company_name
    row.currency = doc.currency
    row.voip_rate_per_min = doc.voip_rate_per_min
    row.data_as_of = doc.data_as_of or now
    row.sales_channel = doc.sales_channel
    row.account_manager = doc.account_manager
    row.updated_at = now
    await session.flush()
    return created


async def _upsert_subscription(
    session: AsyncSession, account_id: str, doc: AccountDocument, as_of: datetime
) -> None:
    row = await session.get(SubscriptionRow, account_id) or SubscriptionRow(account_id=account_id)
    row.plan_name = doc.plan_name
    row.monthly_fee = doc.monthly_fee
    row.period_start = doc.period_start
    row.next_payment_date = doc.next_payment_date
    row.staff_licences_purchased = doc.staff_licences_purchased
    row.staff_licences_assigned = doc.staff_licences_assigned
    row.licence_price = doc.licence_price
    row.staff_licences_at = as_of
    session.add(row)


async def _replace_allowances(
    session: AsyncSession, account_id: str, doc: AccountDocument, as_of: datetime
) -> None:
    await session.execute(delete(AllowanceRow).where(AllowanceRow.account_id == account_id))
    session.add_all(
        AllowanceRow(
            account_id=account_id, meter=meter.value, available=a.available, used=a.used, used_at=as_of
        )
        for meter, a in doc.allowances.items()
    )


async def _replace_features(
    session: AsyncSession, account_id: str, doc: AccountDocument, now: datetime, as_of: datetime
) -> list[FeatureStatusChange]:
    changes: list[FeatureStatusChange] = []
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
        elif row.status != feature.status.value:
            changes.append(
                FeatureStatusChange(
                    account_id=account_id,
                    key=key,
                    before=FeatureStatus(row.status),
                    after=feature.status,
                    at=feature.status_since or now,
                )
            )
        if row.status != feature.status.value or feature.status_since is not None:
            # Keep "since when" unless the status really changed (or the sender says).
            row.status_since = feature.status_since or now
        row.status = feature.status.value
        for field in ("used", "limit", "unit", "monthly_fee", "create_path", "manage_path"):
            setattr(row, field, getattr(feature, field))
        row.configure_path = feature.configure_path
        row.pending_reason = feature.pending_reason
        row.used_at = as_of
    return changes


async def _upsert_company(session: AsyncSession, account_id: str, company: CompanyDoc, now: datetime) -> None:
    """Replace the company information; a change is versioned (an open edit form then conflicts) and
    audited like an edit from Slack, by the billing platform."""
    row = await session.get(CompanyInfoRow, account_id)
    before = None if row is None else CompanyDetails.model_validate(row, from_attributes=True)
    if row is None:
        row = CompanyInfoRow(account_id=account_id, version=0)
        session.add(row)
    values = company.model_dump()
    changes = diff_company(before, CompanyDetails.model_validate(values))
    if not changes:
        return
    for field, value in values.items():
        setattr(row, field, value)
    row.version = (row.version or 0) + 1
    row.updated_at = now
    row.updated_by = None
    if before is None:
        return  # the company's first details, as registered: nothing changed yet
    audit_company_changes(session, account_id, BILLING_PLATFORM, changes, now)
