"""What listeners need beyond the Slack payload: settings and the store."""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from store import Store


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
