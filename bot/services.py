"""What listeners need beyond the Slack payload: settings, the store, Slack clients per workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import aiohttp

from bot.settings import Settings
from bot.slack_clients import SlackClients
from bot.tenant import WorkspaceAdmins, workspace_admins_cache
from bot.work_slots import WorkSlots
from store import Store

if TYPE_CHECKING:
    from bot.alerts.service import AlertService


@dataclass
class Services:
    settings: Settings
    store: Store
    alerts: AlertService | None = None
    """Quota alerts; call `alerts.on_usage(account_id)` after usage is stored. None in tests that do not need it."""
    workspace_admins: WorkspaceAdmins = field(default_factory=workspace_admins_cache)
    slack_session: aiohttp.ClientSession | None = None
    """Kept-alive connections for every Web API call (the server opens one); None: a connection per call."""

    @cached_property
    def work_slots(self) -> WorkSlots:
        """How many listeners work at once after acking (`LISTENER_CONCURRENCY`)."""
        return WorkSlots(self.settings.listener_concurrency)

    @cached_property
    def slack(self) -> SlackClients:
        """Web API clients per workspace (the notifier's `client_for_team`), and the installations."""
        return SlackClients.for_settings(self.settings, self.store, self.slack_session)
