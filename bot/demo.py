"""`myplan demo`: a realistic sample account, clearly sample data, loaded the same way every time."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from store import Store
from store.domain.account import AccountDocument, AllowanceDoc, CompanyDoc, FeatureDoc
from store.domain.plan import FeatureKey, FeatureStatus, Meter
from store.usage import Reading

DEMO_ACCOUNT = "demo"
DEMO_TEAM = "T0DEMO"
DEMO_ADMIN = "U0DEMOADMIN"
DAYS_INTO_PERIOD = 18


def add_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def demo_document(now: datetime) -> AccountDocument:
    """The sample account as of `now`: every feature status present, voice minutes just under 80%."""
    as_of = now.replace(minute=0, second=0, microsecond=0)
    period_start = as_of.date() - timedelta(days=DAYS_INTO_PERIOD)
    return AccountDocument(
        company_name="Harbour Lights Trading Ltd (sample data)",
        plan_name="BUSINESS",
        monthly_fee=Decimal("1299.00"),
        period_start=period_start,
        next_payment_date=add_month(period_start),
        staff_licences_purchased=50,
        staff_licences_assigned=42,
        voip_rate_per_min=Decimal("0.0040"),
        data_as_of=as_of,
        allowances={
            Meter.VOICE_MINUTES: AllowanceDoc(available=Decimal(5000), used=Decimal(3960)),
            Meter.VIDEO_MINUTES: AllowanceDoc(available=Decimal(2000), used=Decimal(640)),
            Meter.STORAGE_GB: AllowanceDoc(available=Decimal(100), used=Decimal("37.5")),
        },
        features=_demo_features(as_of),
        company=CompanyDoc(
            country="HK",
            address="18/F, 8 Harbour Road, Wan Chai, Hong Kong",
            website="https://harbourlights.example",
            contact_person="Mei Ling Chan",
            contact_number="+85223456789",
            email="it-admin@harbourlights.example",
        ),
    )


def _demo_features(as_of: datetime) -> dict[FeatureKey, FeatureDoc]:
    def paths(slug: str) -> dict[str, str]:
        return {"create_path": f"/{slug}/new", "manage_path": f"/{slug}"}

    return {
        FeatureKey.VIRTUAL_NUMBERS: FeatureDoc(
            status=FeatureStatus.AVAILABLE,
            used=8,
            limit=10,
            unit="numbers",
            monthly_fee=Decimal("40.00"),
            **paths("virtual-numbers"),
        ),
        FeatureKey.DIRECTORY: FeatureDoc(
            status=FeatureStatus.AVAILABLE, used=164, limit=500, unit="contacts", **paths("directory")
        ),
        FeatureKey.OMNICHANNELS: FeatureDoc(
            status=FeatureStatus.PENDING,
            used=2,
            limit=5,
            unit="channels",
            monthly_fee=Decimal("25.00"),
            pending_reason="Connect your WhatsApp Business account to finish setting up.",
            configure_path="/omnichannels/whatsapp/setup",
            **paths("omnichannels"),
        ),
        FeatureKey.EXTERNAL_CONTACTS: FeatureDoc(
            status=FeatureStatus.PROCESSING,
            used=0,
            limit=2000,
            unit="contacts",
            status_since=as_of - timedelta(days=2),
            **paths("external-contacts"),
        ),
        FeatureKey.DESTINATIONS: FeatureDoc(
            status=FeatureStatus.AVAILABLE, used=12, limit=20, unit="destinations", **paths("destinations")
        ),
        FeatureKey.STAFF_ACCOUNTS: FeatureDoc(
            status=FeatureStatus.AVAILABLE, used=42, limit=50, unit="accounts", **paths("staff")
        ),
        FeatureKey.CAMPAIGNS: FeatureDoc(status=FeatureStatus.LOCKED, unit="campaigns", **paths("campaigns")),
    }


def demo_readings(doc: AccountDocument) -> list[Reading]:
    """One reading a day per allowance, rising steadily to today's figure (a busier mid-period week)."""
    assert doc.data_as_of is not None
    start = datetime.combine(doc.period_start, time(), tzinfo=UTC)
    days = (doc.data_as_of - start).days
    weights = [1 + (3 <= day % 7 <= 5) for day in range(1, days + 1)]  # Weds–Fris are busier.
    readings = []
    for meter, allowance in doc.allowances.items():
        for day in range(1, days + 1):
            share = Decimal(sum(weights[:day])) / Decimal(sum(weights))
            used = (allowance.used * share).quantize(Decimal("0.1"))
            readings.append(Reading(meter=meter.value, used=used, at=start + timedelta(days=day)))
    return readings


async def load_demo(
    store: Store, *, team_id: str = DEMO_TEAM, admin: str = DEMO_ADMIN, now: datetime
) -> None:
    """Load (or reload) the sample account, link it to `team_id` and make `admin` its administrator."""
    doc = demo_document(now)
    await store.accounts.upsert(DEMO_ACCOUNT, doc, now=doc.data_as_of)
    await store.usage.clear(DEMO_ACCOUNT)
    await store.usage.record(DEMO_ACCOUNT, demo_readings(doc), now=doc.data_as_of)
    await store.workspaces.link(team_id, DEMO_ACCOUNT, by="myplan demo", now=doc.data_as_of)
    await store.admins.add(DEMO_ACCOUNT, admin, by="myplan demo", now=doc.data_as_of)
    await load_sample_rates(store, now=now)


async def load_sample_rates(store: Store, *, now: datetime) -> bool:
    """Make the sample rate table current, unless a real table was imported (that is never replaced).

    Returns True when the sample table is current afterwards. Idempotent: the same sample again creates no
    new version (its effective date stays the one it was first loaded with).
    """
    # Here, not at the top: the OpenAPI examples import this module in `myplan serve`, and the sample
    # imports phonenumbers (1 MB).
    from bot.rates import SAMPLE_LABEL, sample_rows

    current = await store.rates.current_info()
    if current is not None and not current.sample:
        return False
    effective = current.effective_date if current is not None else now.date()
    await store.rates.import_table(
        sample_rows(), effective_date=effective, label=SAMPLE_LABEL, sample=True, now=now
    )
    return True
