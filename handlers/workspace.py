"""The requesting workspace and the service account it is linked to, resolved lazily and at most once
per request; who among its members is an administrator."""

from __future__ import annotations

from typing import Any

from cachetools import TTLCache
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import NotAdmin, NotLinked
from store import Store

CONTEXT_KEY = "workspace"

# Whether a user is a workspace owner or admin, by (team id, user id): users.info is asked at most once a
# minute per person, which keeps Home tab opens fast and well inside users.info's rate limit.
WorkspaceAdmins = TTLCache[tuple[str, str], bool]


def workspace_admins_cache(seconds: float = 60, max_entries: int = 10_000) -> WorkspaceAdmins:
    return TTLCache(max_entries, seconds)


class Workspace:
    """The requesting workspace's account. Nothing is read until a listener asks, after it has acked."""

    def __init__(
        self,
        store: Store,
        team_id: str,
        client: AsyncWebClient,
        workspace_admins: WorkspaceAdmins,
        enterprise_id: str | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._workspace_admins = workspace_admins
        self.team_id = team_id
        self.enterprise_id = enterprise_id
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
        key = (self.team_id, user_id)
        admin = self._workspace_admins.get(key)
        if admin is None:
            response = await self._client.users_info(user=user_id)
            user: dict[str, Any] = response.get("user") or {}
            admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
            self._workspace_admins[key] = admin
        return admin


def workspace_of(context: AsyncBoltContext) -> Workspace:
    workspace = context[CONTEXT_KEY]
    assert isinstance(workspace, Workspace)
    return workspace
