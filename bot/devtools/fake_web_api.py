"""The Web API side of the fake Slack (``bot.devtools.fake_slack``): how a call's arguments are read,
and what each method answers.

``FakeWebApi`` holds the fake workspace (team, users, channels, tokens, posted messages, views,
uploaded files) and answers Web API methods from it the way Slack does (``{"ok": true, ...}`` with
plausible fields). It knows nothing of HTTP serving, recording, validation or injected failures:
``FakeSlack`` builds on it and does those.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import web

from bot.devtools.blockkit import truthy
from bot.devtools.signing import APP_ID, BOT_ID, BOT_USER_ID, DEFAULT_CHANNEL_ID

TOKEN_LIFETIME_SECONDS = 12 * 3600  # rotating tokens, as at Slack

# Form-encoded Web API params that carry JSON documents.
_JSON_PARAMS = frozenset({"blocks", "view", "attachments", "files", "metadata", "unfurls", "outputs"})


# --------------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------------


async def read_params(request: web.Request) -> tuple[dict[str, Any], list[str]]:
    """Merge query string and JSON/form body; decode JSON-string params. Returns (params, errors)."""
    method = request.match_info.get("method", "?")
    params: dict[str, Any] = dict(request.query)
    errors: list[str] = []
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                data = await request.json()
            except ValueError as exc:
                errors.append(f"{method}: body is not valid JSON ({exc})")
            else:
                if isinstance(data, dict):
                    params.update(data)
                else:
                    errors.append(f"{method}: JSON body must be an object")
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                params[key] = value.file.read() if isinstance(value, web.FileField) else value
    for key in _JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                errors.append(f"{method}: {key} is not valid JSON")
    return params, errors


def extract_token(request: web.Request, params: dict[str, Any]) -> str | None:
    """Bearer token (or ``token`` param, removed from params); Basic auth fills client_id/secret."""
    param_token = params.pop("token", None)
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    if scheme.lower() == "basic" and credentials:
        with contextlib.suppress(binascii.Error, UnicodeDecodeError):
            client_id, _, client_secret = base64.b64decode(credentials).decode().partition(":")
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", client_secret)
    return str(param_token) if param_token is not None else None


# --------------------------------------------------------------------------------------------------
# Method answers
# --------------------------------------------------------------------------------------------------


class FakeWebApi(ABC):
    """A fake Slack workspace and its answers to Web API methods (``_answer_method``)."""

    def __init__(self, *, team_id: str, team_name: str) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.enterprise_id: str | None = None
        # Settable state that shapes answers.
        self.users: dict[str, dict[str, Any]] = {}
        """users.info: user id -> user object fields (merged over a plain non-admin UTC user)."""
        self.channels: dict[str, dict[str, Any]] = {}
        """conversations.info: channel id -> channel fields (merged over a plain public channel)."""
        self.auth_by_token: dict[str, dict[str, Any]] = {}
        """auth.test: token -> fields overriding the default bot identity (e.g. another team_id)."""
        self.oauth_response: dict[str, Any] | None = None
        """oauth.v2.access answer to a code; None means a plausible bot install into ``team_id``. The
        answer's access token is registered for auth.test (its ``team``), its ``refresh_token`` for refreshes."""
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        """Refresh tokens not yet used -> the team they refresh (``{"id": …, "name": …}``)."""
        self.socket_mode = False
        """When True, apps.connections.open answers with this fake's Socket Mode WebSocket URL."""
        # What the app left at Slack.
        self.uploads: dict[str, bytes] = {}
        """Uploaded file contents, by file id."""
        self.views: dict[str, dict[str, Any]] = {}
        """Views as last opened/pushed/published/updated, by view id."""
        self.messages: dict[str, list[dict[str, Any]]] = {}
        """Messages posted with chat.postMessage, by channel, oldest first (chat.update edits them);
        conversations.history answers from here."""
        self._counter = itertools.count(1)
        """Serial numbers for ids, view hashes and tokens (the server draws from it too)."""
        self._ts_counter = itertools.count(1)
        self._files: dict[str, dict[str, Any]] = {}
        """Files announced with files.getUploadURLExternal: file id -> name and length."""
        self._home_view_ids: dict[str, str] = {}
        self._shared_files: dict[str, dict[str, Any]] = {}
        """Files users uploaded (``add_file``): file id -> the file object files.info answers with."""

    @property
    @abstractmethod
    def base_url(self) -> str:
        """``http://<host>:<port>/`` of the server answering for this workspace."""

    def _answer_method(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """The JSON body Slack answers a valid call to ``method`` with (``{"ok": true}`` if unknown here)."""
        handler = self._method_handlers.get(method)
        return handler(self, params, token) if handler else {"ok": True}

    def _next_ts(self) -> str:
        seconds, micros = divmod(next(self._ts_counter) * 100, 1_000_000)
        return f"{1_700_000_000 + seconds}.{micros:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):010d}"

    @property
    def _domain(self) -> str:
        return f"team-{self.team_id.lower()}"

    @staticmethod
    def _channel_id(channel: Any) -> str:
        """Posting to a user id lands in the DM with that user."""
        channel_id = str(channel or "")
        return "D" + channel_id if channel_id[:1] in ("U", "W") else channel_id

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "text": params.get("text") or "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key) is not None:
                message[key] = params[key]
        return message

    def _auth_test(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "ok": True,
            "url": f"https://{self._domain}.slack.com/",
            "team": self.team_name,
            "user": "myplan",
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            answer["enterprise_id"] = self.enterprise_id
        answer.update(self.auth_by_token.get(token or "", {}))
        return answer

    def _chat_post_message(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        ts = self._next_ts()
        channel = self._channel_id(params.get("channel"))
        message = self._message(params, ts)
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        ts = str(params.get("ts"))
        channel = self._channel_id(params.get("channel"))
        message = self._message(params, ts)
        history = self.messages.get(channel, [])
        for index, posted in enumerate(history):
            if posted["ts"] == ts:
                history[index] = {**posted, **message}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": params.get("text") or "",
            "message": message,
        }

    def _conversations_history(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """The channel's messages, newest first; as at Slack, replies in threads are not among them
        (conversations.replies has those), and a thread's parent says how many replies it has."""
        channel = self._channel_id(params.get("channel"))
        limit = int(params.get("limit") or 100)
        with_metadata = truthy(params.get("include_all_metadata"))
        posted = self.messages.get(channel, [])
        parents = [m for m in posted if m.get("thread_ts") in (None, m["ts"])]
        newest_first = [self._with_replies(m, posted) for m in reversed(parents)][:limit]
        messages = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in newest_first
        ]
        return {"ok": True, "messages": messages, "has_more": len(parents) > limit}

    def _conversations_replies(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """A thread: its parent, then its replies, oldest first."""
        channel = self._channel_id(params.get("channel"))
        ts = str(params.get("ts") or "")
        limit = int(params.get("limit") or 100)
        with_metadata = truthy(params.get("include_all_metadata"))
        posted = self.messages.get(channel, [])
        thread = [m for m in posted if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread or thread[0]["ts"] != ts:
            return {"ok": False, "error": "thread_not_found"}
        thread[0] = self._with_replies(thread[0], posted)
        messages = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in thread[:limit]
        ]
        return {"ok": True, "messages": messages, "has_more": len(thread) > limit}

    @staticmethod
    def _with_replies(message: dict[str, Any], posted: list[dict[str, Any]]) -> dict[str, Any]:
        replies = [m for m in posted if m.get("thread_ts") == message["ts"] and m["ts"] != message["ts"]]
        if not replies:
            return message
        return {
            **message,
            "thread_ts": message["ts"],
            "reply_count": len(replies),
            "latest_reply": replies[-1]["ts"],
        }

    def _chat_delete(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "channel": self._channel_id(params.get("channel")), "ts": params.get("ts")}

    def _chat_schedule_message(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {
            "ok": True,
            "channel": self._channel_id(params.get("channel")),
            "scheduled_message_id": self._next_id("Q"),
            "post_at": int(params.get("post_at") or 0),
            "message": self._message(params, ""),
        }

    def _chat_get_permalink(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = self._channel_id(params.get("channel"))
        ts = str(params.get("message_ts") or "").replace(".", "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{self._domain}.slack.com/archives/{channel}/p{ts}",
        }

    def _store_view(
        self,
        view: dict[str, Any],
        view_id: str,
        *,
        previous_view_id: str | None = None,
        root_view_id: str | None = None,
    ) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks") or [],
            "private_metadata": view.get("private_metadata") or "",
            "callback_id": view.get("callback_id") or "",
            "state": {"values": {}},
            "hash": f"1700000000.{next(self._counter):08d}",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": APP_ID,
            "external_id": view.get("external_id") or "",
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _views_publish(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = str(params.get("user_id"))
        view_id = self._home_view_ids.setdefault(user_id, self._next_id("V"))
        return self._store_view(params["view"], view_id)

    def _views_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return self._store_view(params["view"], self._next_id("V"))

    def _views_push(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return self._store_view(params["view"], self._next_id("V"))

    def _views_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        view_id = params.get("view_id")
        if not view_id:
            external_id = params.get("external_id")
            view_id = next((v["id"] for v in self.views.values() if v["external_id"] == external_id), None)
            if view_id is None:
                return {"ok": False, "error": "not_found"}
        previous = self.views.get(str(view_id), {})
        return self._store_view(
            params["view"],
            str(view_id),
            previous_view_id=previous.get("previous_view_id"),
            root_view_id=previous.get("root_view_id"),
        )

    def _conversations_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(str(user) for user in users)
        if users:
            channel_id = "D" + str(users).split(",")[0].strip()
        elif params.get("channel"):
            channel_id = str(params["channel"])
        else:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel_id}}

    def _conversations_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel_id = str(params.get("channel"))
        channel: dict[str, Any] = {
            "id": channel_id,
            "name": "general" if channel_id == DEFAULT_CHANNEL_ID else channel_id.lower(),
            "is_channel": channel_id.startswith("C"),
            "is_group": False,
            "is_im": channel_id.startswith("D"),
            "is_mpim": False,
            "is_private": channel_id.startswith("G"),
            "is_archived": False,
            "is_general": channel_id == DEFAULT_CHANNEL_ID,
            "is_member": True,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "created": 1_700_000_000,
        }
        if channel_id.startswith("D"):
            channel["user"] = channel_id[1:]
        channel.update(self.channels.get(channel_id, {}))
        return {"ok": True, "channel": channel}

    def _users_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """A member of the workspace whose token asks (set ``users[id]["team_id"]`` for someone from
        another workspace, ``enterprise_user`` for an Enterprise Grid member)."""
        user_id = str(params.get("user"))
        team_id = self.auth_by_token.get(token or "", {}).get("team_id") or self.team_id
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team_id,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "deleted": False,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "profile": {
                "real_name": f"User {user_id}",
                "display_name": user_id.lower(),
                "email": f"{user_id.lower()}@example.com",
                "team": team_id,
            },
        }
        if truthy(params.get("include_locale")):
            user["locale"] = "en-US"
        user.update(self.users.get(user_id, {}))
        return {"ok": True, "user": user}

    def _files_get_upload_url(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        file_id = self._next_id("F")
        self._files[file_id] = {"name": params.get("filename"), "length": params.get("length")}
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list):
            return {"ok": False, "error": "invalid_arguments"}
        channel = params.get("channel_id")
        answered = []
        for item in files:
            file_id = str(item.get("id")) if isinstance(item, dict) else ""
            if file_id not in self._files:
                return {"ok": False, "error": "file_not_found"}
            name = self._files[file_id]["name"]
            answered.append(
                {
                    "id": file_id,
                    "name": name,
                    "title": item.get("title") or name,
                    "size": len(self.uploads.get(file_id, b"")),
                    "user": BOT_USER_ID,
                    "created": int(time.time()),
                    "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{file_id}/{name}",
                    "permalink": f"https://{self._domain}.slack.com/files/{BOT_USER_ID}/{file_id}/{name}",
                    "channels": [channel] if channel else [],
                }
            )
        return {"ok": True, "files": answered}

    def add_file(
        self,
        name: str,
        content: bytes,
        *,
        filetype: str = "csv",
        mimetype: str = "text/csv",
        user: str = "U0USER",
    ) -> dict[str, Any]:
        """A file a user uploaded (in a modal's file input, say): files.info describes it, and its
        ``url_private_download`` serves ``content`` to a request with a bearer token. Returns the file object,
        as Slack puts it in a view's state."""
        file_id = self._next_id("F")
        self.uploads[file_id] = content
        file = {
            "id": file_id,
            "created": 1_700_000_000,
            "timestamp": 1_700_000_000,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "user_team": self.team_id,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "is_public": False,
            "url_private": f"{self.base_url}files-pri/{self.team_id}-{file_id}/{name}",
            "url_private_download": f"{self.base_url}files-pri/{self.team_id}-{file_id}/download/{name}",
            "permalink": f"https://{self._domain}.slack.com/files/{user}/{file_id}/{name}",
        }
        self._shared_files[file_id] = file
        return dict(file)

    def _files_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        file = self._shared_files.get(str(params.get("file") or ""))
        if file is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": file, "comments": [], "response_metadata": {"next_cursor": ""}}

    def _oauth_v2_access(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if params.get("grant_type") == "refresh_token":
            return self._refresh(str(params.get("refresh_token") or ""))
        if self.oauth_response is not None:
            answer = {"ok": True, **self.oauth_response}
        else:
            answer = {
                "ok": True,
                "app_id": APP_ID,
                "authed_user": {"id": "U0INSTALLER"},
                "scope": "commands,chat:write,im:write,users:read",
                "token_type": "bot",
                "access_token": f"xoxb-{self.team_id}-fake",
                "bot_user_id": BOT_USER_ID,
                "team": {"id": self.team_id, "name": self.team_name},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        team = answer.get("team") or {"id": self.team_id, "name": self.team_name}
        if isinstance(answer.get("access_token"), str):
            self.auth_by_token.setdefault(
                answer["access_token"], {"team_id": team.get("id"), "team": team.get("name")}
            )
        if isinstance(answer.get("refresh_token"), str):
            self.refresh_tokens[answer["refresh_token"]] = team
        return answer

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        """A rotating token's refresh: a new access token and a new refresh token; the old one is spent."""
        team = self.refresh_tokens.pop(refresh_token, None)
        if team is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        serial = next(self._counter)
        access_token = f"xoxb-{team.get('id')}-refreshed-{serial}"
        new_refresh_token = f"xoxe-1-{team.get('id')}-{serial}"
        self.refresh_tokens[new_refresh_token] = team
        self.auth_by_token.setdefault(access_token, {"team_id": team.get("id"), "team": team.get("name")})
        return {
            "ok": True,
            "app_id": APP_ID,
            "token_type": "bot",
            "access_token": access_token,
            "refresh_token": new_refresh_token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "scope": "commands,chat:write,im:write,users:read",
            "bot_user_id": BOT_USER_ID,
            "team": team,
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not self.socket_mode:
            return {"ok": False, "error": "not_allowed"}
        return {"ok": True, "url": self.base_url.replace("http://", "ws://", 1) + "socket"}

    _method_handlers: ClassVar[
        dict[str, Callable[[FakeWebApi, dict[str, Any], str | None], dict[str, Any]]]
    ] = {
        "auth.test": _auth_test,
        "chat.postMessage": _chat_post_message,
        "chat.postEphemeral": _chat_post_ephemeral,
        "chat.update": _chat_update,
        "chat.delete": _chat_delete,
        "chat.scheduleMessage": _chat_schedule_message,
        "chat.getPermalink": _chat_get_permalink,
        "views.publish": _views_publish,
        "views.open": _views_open,
        "views.push": _views_push,
        "views.update": _views_update,
        "conversations.open": _conversations_open,
        "conversations.info": _conversations_info,
        "conversations.history": _conversations_history,
        "conversations.replies": _conversations_replies,
        "users.info": _users_info,
        "files.getUploadURLExternal": _files_get_upload_url,
        "files.completeUploadExternal": _files_complete_upload,
        "files.info": _files_info,
        "oauth.v2.access": _oauth_v2_access,
        "apps.connections.open": _apps_connections_open,
    }
