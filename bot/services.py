"""What listeners need beyond the Slack payload: settings and the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.settings import Settings
from store import Store

if TYPE_CHECKING:
    from bot.alerts.service import AlertService


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    alerts: AlertService | None = None
    """Quota alerts; call `alerts.on_usage(account_id)` after usage is stored. None in tests that do not need it."""
