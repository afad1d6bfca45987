"""What the rest of the service asks of quota alerting: evaluate an account after its usage or its
alert settings changed. The Slack layer's `AlertService` is the real one; `NoAlerts` does nothing
(tests and tools that do not alert)."""

from __future__ import annotations

from typing import Protocol


class AlertNotifier(Protocol):
    async def on_usage(self, account_id: str) -> None:
        """Evaluate `account_id` now (its usage, plan or alert settings changed); never raises."""

    async def close(self) -> None:
        """Stop any background work."""


class NoAlerts:
    async def on_usage(self, account_id: str) -> None:
        return None

    async def close(self) -> None:
        return None
