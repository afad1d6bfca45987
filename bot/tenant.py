"""Which service account a request acts on, resolved lazily and at most once per request."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotAdmin, NotLinked
from store import Store

CONTEXT_KEY = "tenant"


class Tenant:
    """The requesting workspace's account. Nothing is read until a listener asks, after it has acked."""

    def __init__(self, store: Store, team_id: str, client: AsyncWebClient) -> None:
        self._store = store
        self._client = client
        self.team_id = team_id
        self._account_id: str | None = None
        self._admin: dict[str, bool] = {}

    async def account_id(self) -> str:
        """The linked account; raises NotLinked so the error handler can explain how to link."""
        if self._account_id is None:
            self._account_id = await self._store.workspaces.account_for_team(self.team_id)
            if self._account_id is None:
                raise NotLinked(self.team_id)
        return self._account_id

    async def is_admin(self, user_id: str) -> bool:
        """Stored administrators of the account, and the workspace's own owners and admins."""
        if user_id not in self._admin:
            account_id = await self.account_id()
            self._admin[user_id] = await self._store.admins.is_admin(account_id, user_id) or (
                await self.is_workspace_admin(user_id)
            )
        return self._admin[user_id]

    async def require_admin(self, user_id: str, what: str) -> None:
        if not await self.is_admin(user_id):
            raise NotAdmin(what, await self._store.admins.list(await self.account_id()))

    async def is_workspace_admin(self, user_id: str) -> bool:
        """A Slack owner or admin of this workspace (asked with users.info; needs no linked account)."""
        response = await self._client.users_info(user=user_id)
        user: dict[str, Any] = response.get("user") or {}
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def tenant_of(context: AsyncBoltContext) -> Tenant:
    tenant = context[CONTEXT_KEY]
    assert isinstance(tenant, Tenant)
    return tenant
