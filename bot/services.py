"""What listeners need beyond the Slack payload: settings, the store, Slack clients per workspace."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.slack_clients import SlackClients
from store import Store

if TYPE_CHECKING:
    from bot.alerts.service import AlertService


@dataclass
class Services:
    settings: Settings
    store: Store
    alerts: AlertService | None = None
    """Quota alerts; call `alerts.on_usage(account_id)` after usage is stored. None in tests that do not need it."""

    @cached_property
    def slack(self) -> SlackClients:
        """Web API clients per workspace (the notifier's `client_for_team`), and the installations."""
        return SlackClients.for_settings(self.settings, self.store)
