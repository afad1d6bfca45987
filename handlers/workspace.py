"""The requesting workspace and the service account it is linked to, resolved lazily and at most once
per request; whether the person acting belongs to that workspace, and who among its members is an
administrator.

Which workspace: the one bolt authorized the request for; for an organisation-wide (Enterprise Grid)
install, whose requests name no installed workspace, the workspace the payload says it came from.

Who belongs: the account is shown, and acted on, only for members of its workspace or of that workspace's
Enterprise Grid organisation. Someone from another organisation in a Slack Connect channel is refused
(`NotAMember`), with nothing of the account said. The person's team is the one Slack states in the signed
payload (`user.team_id` of interactions; `team_id` of a slash command, which only the workspace's own
members can run), else the one users.info gives (`team_id`; `enterprise_user.enterprise_id` for Grid).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import log_context
from bot.core.errors import NotAdmin, NotAMember, NotLinked, WorkspaceUnknown
from store import Store

CONTEXT_KEY = "workspace"


@dataclass(frozen=True)
class SlackUser:
    """What users.info says of a person: their workspace, their Enterprise Grid organisation, and whether
    they administer their workspace (or, on Grid, the organisation)."""

    team_id: str | None
    enterprise_id: str | None
    admin: bool
    name: str | None = None
    """Their full name (else display name), for where a mention does not render: the email to Sales."""

    @classmethod
    def of(cls, user: Mapping[str, Any]) -> SlackUser:
        grid = user.get("enterprise_user")
        grid = grid if isinstance(grid, Mapping) else {}
        profile = user.get("profile")
        profile = profile if isinstance(profile, Mapping) else {}
        return cls(
            team_id=_text(user.get("team_id")),
            enterprise_id=_text(grid.get("enterprise_id")),
            name=_text(user.get("real_name"))
            or _text(profile.get("real_name"))
            or _text(profile.get("display_name")),
            admin=bool(
                user.get("is_admin")
                or user.get("is_owner")
                or user.get("is_primary_owner")
                or grid.get("is_admin")
                or grid.get("is_owner")
            ),
        )


NOBODY = SlackUser(team_id=None, enterprise_id=None, admin=False)
"""users.info knows no such user (from our workspace's point of view)."""

# users.info's answer by (team id, user id): asked at most once a minute per person, which keeps Home tab
# opens fast and well inside users.info's rate limit.
WorkspaceAdmins = TTLCache[tuple[str, str], SlackUser]


def workspace_admins_cache(seconds: float = 60, max_entries: int = 10_000) -> WorkspaceAdmins:
    return TTLCache(max_entries, seconds)


class Workspace:
    """The requesting workspace's account. Nothing is read until a listener asks, after it has acked.

    `team_id` is "" when the request named no workspace (see `workspace_team`): its account is then
    `WorkspaceUnknown`. `requester` is the person acting and `requester_team` the team Slack's payload says
    they belong to (None when it does not say)."""

    def __init__(
        self,
        store: Store,
        team_id: str | None,
        client: AsyncWebClient,
        workspace_admins: WorkspaceAdmins,
        enterprise_id: str | None = None,
        *,
        organisation_id: str | None = None,
        requester: str | None = None,
        requester_team: str | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._slack_users = workspace_admins
        self.team_id = team_id or ""
        self.enterprise_id = enterprise_id
        """The Enterprise Grid organisation the request names (the installation's, for events)."""
        self.organisation_id = organisation_id if organisation_id is not None else enterprise_id
        """The Grid organisation this workspace belongs to, as its own installation says (auth.test):
        its members from other workspaces of it are members too."""
        self._requester = requester
        self._requester_team = requester_team
        self._account_id: str | None = None
        self._admin: dict[str, bool] = {}
        self._member: dict[str, bool] = {}

    @classmethod
    def for_request(
        cls,
        store: Store,
        context: AsyncBoltContext,
        body: Mapping[str, Any],
        client: AsyncWebClient,
        workspace_admins: WorkspaceAdmins,
    ) -> Workspace:
        authorized = context.authorize_result
        return cls(
            store,
            workspace_team(context, body),
            client,
            workspace_admins,
            context.enterprise_id,
            organisation_id=authorized.enterprise_id if authorized is not None else None,
            requester=context.user_id,
            requester_team=requester_team(body),
        )

    async def account_id(self) -> str:
        """The linked account; raises NotLinked so the error handler can explain how to link, NotAMember
        when the person acting does not belong to the workspace."""
        if self._account_id is None:
            if not self.team_id:
                raise WorkspaceUnknown()
            account_id = await self._store.workspaces.account_for_team(self.team_id)
            if account_id is None:
                raise NotLinked(self.team_id)
            if self._requester and not await self.is_member(self._requester):
                raise NotAMember()
            self._account_id = account_id
            log_context.bind(account=account_id)
        return self._account_id

    async def is_member(self, user_id: str) -> bool:
        """The person belongs to this workspace, or to its Enterprise Grid organisation."""
        if user_id not in self._member:
            self._member[user_id] = await self._belongs(user_id)
        return self._member[user_id]

    async def _belongs(self, user_id: str) -> bool:
        if not self.team_id:
            return False
        stated = self._requester_team if user_id == self._requester else None
        if stated == self.team_id:
            return True
        if stated is not None and self.organisation_id is None:
            return False  # another workspace, and this one is in no organisation: an outsider
        user = await self.slack_user(user_id)
        if stated is None and user.team_id == self.team_id:
            return True
        return self.organisation_id is not None and user.enterprise_id == self.organisation_id

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
        """A Slack owner or admin of this workspace (or of its Grid organisation): users.info says so, and
        the person belongs here, so an admin of some other workspace is none of ours. Needs no linked
        account."""
        return await self.is_member(user_id) and (await self.slack_user(user_id)).admin

    async def slack_user(self, user_id: str) -> SlackUser:
        """users.info's answer, kept a minute per (workspace, person)."""
        key = (self.team_id, user_id)
        user = self._slack_users.get(key)
        if user is None:
            try:
                response = await self._client.users_info(user=user_id)
            except SlackApiError as error:
                if error.response.get("error") != "user_not_found":
                    raise
                user = NOBODY
            else:
                found = response.get("user")
                user = SlackUser.of(found) if isinstance(found, Mapping) else NOBODY
            self._slack_users[key] = user
        return user


def workspace_of(context: AsyncBoltContext) -> Workspace:
    workspace = context.get(CONTEXT_KEY)
    if not isinstance(workspace, Workspace):
        raise WorkspaceUnknown()
    return workspace


def workspace_team(context: AsyncBoltContext, body: Mapping[str, Any]) -> str | None:
    """The workspace a request is for: the one bolt found (the installed workspace of an event, the view's
    installed workspace or the payload's team of an interaction, a command's team). An organisation-wide
    install's requests name no installed workspace (`authorizations[0].team_id` is null, interactions may
    carry `team: null`): then the workspace the payload says it happened in."""
    if context.team_id and context.team_id.startswith("T"):
        return context.team_id  # not an organisation's id, as an org-wide view's installed team can be
    event = _mapping(body.get("event"))
    shared = body.get("is_ext_shared_channel") is True  # then an event's `team_id` is the actor's team
    for candidate in (
        _mapping(body.get("team")).get("id"),
        body.get("context_team_id"),
        None if shared else body.get("team_id"),
        _mapping(event.get("view")).get("team_id"),
        _mapping(body.get("view")).get("team_id"),
        _mapping(body.get("user")).get("team_id"),
    ):
        if isinstance(candidate, str) and candidate.startswith("T"):
            return candidate
    return None


def requester_team(body: Mapping[str, Any]) -> str | None:
    """The team the person acting belongs to, as the signed payload states it; None when it does not."""
    if isinstance(body.get("command"), str):
        return _text(body.get("team_id"))  # Slack lets only a workspace's members run its commands
    stated = _text(_mapping(body.get("user")).get("team_id"))
    if stated is not None:
        return stated
    user_team = _text(_mapping(body.get("event")).get("user_team"))
    return user_team if user_team is not None and user_team.startswith("T") else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
