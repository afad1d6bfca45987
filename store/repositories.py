"""`Store`: the repositories over one database."""

from __future__ import annotations

from store.accounts import AccountRepository
from store.admins import AdminRepository
from store.alerts import AlertRepository
from store.audit import AuditRepository
from store.cache import HotReads
from store.company import CompanyRepository
from store.db import POOL_SIZE, Database
from store.digests import DigestRepository
from store.events import HandledEventRepository
from store.home import HomeStateRepository
from store.idempotency import IdempotencyRepository
from store.link_codes import LinkCodeRepository
from store.pacing import ChannelPaceRepository
from store.rates import RateRepository
from store.retention import RetentionRepository
from store.staff import StaffRepository
from store.status import StatusRepository
from store.traffic import TrafficRepository
from store.traffic_alerts import TrafficAlertRepository
from store.upgrades import UpgradeRepository
from store.usage import UsageRepository
from store.workspaces import WorkspaceRepository


class Store:
    """The repositories over one database."""

    def __init__(self, db: Database, hot_reads: HotReads | None = None) -> None:
        self.db = db
        self.hot_reads = hot_reads or HotReads()
        self.accounts = AccountRepository(db)
        self.workspaces = WorkspaceRepository(db, self.hot_reads)
        self.admins = AdminRepository(db, self.hot_reads)
        self.usage = UsageRepository(db)
        self.audit = AuditRepository(db)
        self.company = CompanyRepository(db)
        self.home = HomeStateRepository(db)
        self.upgrades = UpgradeRepository(db)
        self.link_codes = LinkCodeRepository(db, self.hot_reads)
        self.handled_events = HandledEventRepository(db)
        self.rates = RateRepository(db)
        self.idempotency = IdempotencyRepository(db)
        self.alerts = AlertRepository(db)
        self.staff = StaffRepository(db)
        self.digests = DigestRepository(db)
        self.pacing = ChannelPaceRepository(db)
        self.traffic = TrafficRepository(db)
        self.traffic_alerts = TrafficAlertRepository(db)
        self.status = StatusRepository(db)
        self.retention = RetentionRepository(db)

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = POOL_SIZE) -> Store:
        return cls(Database.from_url(url, pool_size=pool_size))

    async def close(self) -> None:
        await self.db.dispose()
