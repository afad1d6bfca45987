"""Everything a listener needs beyond the Slack payload, complete at construction: settings, the store,
a clock, quota alerting, Web API clients per workspace, the work slots, the administrators cache, and the
mailer of upgrade requests to Sales."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import aiohttp

from bot.alerts.notifier import AlertNotifier, NoAlerts
from bot.rates.cache import RateCache
from bot.settings import Settings
from bot.upgrade.sales_email import SalesMailer
from handlers.slack_clients import SlackClients
from handlers.work_slots import WorkSlots
from handlers.workspace import WorkspaceAdmins, workspace_admins_cache
from store import Store
from store.clock import utcnow

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    slack: SlackClients
    """Web API clients per workspace (`client_for_team`), and the OAuth installations."""
    alerts: AlertNotifier
    """Call `alerts.on_usage(account_id)` after an account's usage or alert settings change."""
    clock: Clock = utcnow
    work_slots: WorkSlots = field(default_factory=lambda: WorkSlots(10))
    """How many listeners work at once after acking (`LISTENER_CONCURRENCY`)."""
    workspace_admins: WorkspaceAdmins = field(default_factory=workspace_admins_cache)
    sales_mailer: SalesMailer | None = None
    """Emails each upgrade request to Sales (`SALES_EMAIL`, `SMTP_URL`); None: requests are not emailed."""

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store,
        session: aiohttp.ClientSession | None = None,
        *,
        alerts: Callable[[Store, SlackClients], AlertNotifier] | None = None,
        clock: Clock = utcnow,
    ) -> Services:
        """Services for `settings`; Web API calls share `session`'s kept-alive connections when given.
        `alerts` builds the alerting from the store and the clients (default: no alerting)."""
        slack = SlackClients.for_settings(settings, store, session)
        return cls(
            settings=settings,
            store=store,
            slack=slack,
            alerts=alerts(store, slack) if alerts is not None else NoAlerts(),
            clock=clock,
            work_slots=WorkSlots(settings.listener_concurrency),
            sales_mailer=SalesMailer.from_settings(settings),
        )

    @cached_property
    def rates(self) -> RateCache:
        """The rate table's indexes, one per version, shared by lookups, campaigns and traffic pricing."""
        return RateCache(self.store)

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The kept-alive connections every Web API call shares (None: a connection per call)."""
        return self.slack.session
