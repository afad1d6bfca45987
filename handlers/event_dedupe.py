"""The same request from Slack is applied once: a replayed or redelivered body is acked, not handled again.

Slack retries an event it thinks we missed, and a signed request stays valid for five minutes, so the same
body can arrive again: an event delivered twice, a modal submitted "again" two minutes later, a click or a
command replayed. Each request that can create or change something has a replay key, recorded with one
INSERT … ON CONFLICT DO NOTHING before it is dispatched; a request whose key is already recorded is
answered with an empty 200 and never reaches a listener.

| request           | replay key                                                                      |
|-------------------|---------------------------------------------------------------------------------|
| event_callback    | `event_id` (whatever the retry headers say)                                     |
| view_submission   | view id + view hash, with the person, the metadata and the values submitted       |
| block_actions     | the action's `action_ts` + `action_id` (and block id, trigger id and response URL), |
|                   | with the person                                                                 |
| slash command     | `trigger_id` + `response_url`, with the person and the command                   |

Options requests (type-ahead) change nothing and carry their answer in the ack: they are never keyed.

A claim is given back (`Replays.settle`) when the request was not applied after all, so that trying again
works: a submission answered with field errors (the modal stays open, with the same view id and hash), and
any request answered 5xx (Slack retries events that failed).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from store import Store
from store.clock import utcnow
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)

# A signed request is replayable for 5 minutes and Slack retries events within minutes: a day of keys is
# plenty, pruned at most hourly (in the background, so no ack waits for it).
REMEMBER = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)
FIRST_PRUNE = timedelta(minutes=1)  # not in the first moments of a process, among its first requests' writes
KEY_CONTEXT = "replay_key"
_PLAIN_EVENT_ID = re.compile(r"[A-Za-z0-9]{1,40}", re.ASCII)


def replay_key(body: Mapping[str, Any]) -> str | None:
    """The key under which this request is applied once; None for requests that change nothing."""
    kind = body.get("type")
    if kind == "event_callback":
        event_id = body.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            return None
        return event_id if _PLAIN_EVENT_ID.fullmatch(event_id) else _digest("event", event_id)
    user = _mapping(body.get("user")).get("id")
    team = _team_of(body)
    if kind == "view_submission":
        view = _mapping(body.get("view"))
        values = _mapping(view.get("state")).get("values")
        return _digest(
            "view", team, user, view.get("id"), view.get("hash"), view.get("private_metadata"), values
        )
    if kind == "block_actions":
        actions = body.get("actions")
        action = _mapping(actions[0]) if isinstance(actions, list) and actions else {}
        return _digest(
            "action",
            team,
            user,
            action.get("action_id"),
            action.get("block_id"),
            action.get("action_ts"),
            body.get("trigger_id"),
            body.get("response_url"),
        )
    if isinstance(body.get("command"), str):
        return _digest(
            "command",
            body.get("team_id"),
            body.get("user_id"),
            body.get("command"),
            body.get("trigger_id"),
            body.get("response_url"),
        )
    return None


class Replays:
    """A global middleware (run before authorization, after the signature check): records the request's
    replay key and answers a request whose key is already recorded with an empty 200, undispatched.

    The check is one INSERT before the request is dispatched, so a replay arriving while the first
    delivery is still being handled is recognised too. Without the database a request is handled rather
    than dropped (the risk of doing it twice is the lesser one)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._next_prune = utcnow() + FIRST_PRUNE
        self._background: set[asyncio.Task[None]] = set()

    async def __call__(
        self,
        body: dict[str, Any],
        request: AsyncBoltRequest,
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        key = replay_key(body)
        if key is not None:
            if not await self._claim(key, _team_of(body)):
                retry = request.headers.get("x-slack-retry-num", [None])[0]
                log.info(
                    "%s %s was already handled; acknowledged again%s",
                    body.get("type") or "command",
                    key,
                    f" (retry {retry})" if retry is not None else "",
                )
                return BoltResponse(status=200, body="")
            context[KEY_CONTEXT] = key
        await next()
        return None

    async def settle(self, request: AsyncBoltRequest, response: BoltResponse) -> None:
        """Give the claim back when the request was not applied: answered 5xx, or a submission answered
        with field errors. Called with the request's response (`bot.app.SlackApp.async_dispatch`)."""
        key = request.context.get(KEY_CONTEXT)
        if not isinstance(key, str) or not _not_applied(request.body, response):
            return
        try:
            await self._store.handled_events.forget(key)
        except StoreUnavailable as error:
            log.warning("could not give back replay key %s: %s", key, error)

    async def _claim(self, key: str, team_id: str | None) -> bool:
        now = utcnow()
        try:
            first = await self._store.handled_events.first_delivery(key, team_id, now=now)
        except StoreUnavailable as error:
            log.warning("could not check %s against handled requests: %s", key, error)
            return True
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY
            task = asyncio.create_task(self._prune(now - REMEMBER))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return first

    async def _prune(self, before: datetime) -> None:
        try:
            await self._store.handled_events.forget_before(before)
        except Exception as error:  # a background chore: logged, tried again within the hour
            log.warning("could not prune handled requests: %s", error)


def _not_applied(body: Mapping[str, Any], response: BoltResponse) -> bool:
    if response.status >= 500:
        return True
    if body.get("type") != "view_submission" or not response.body.startswith("{"):
        return False
    try:
        answer = json.loads(response.body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("response_action") == "errors"


def _team_of(body: Mapping[str, Any]) -> str | None:
    for candidate in (
        _mapping(body.get("team")).get("id"),
        body.get("team_id"),
        _mapping(body.get("view")).get("team_id"),
        _mapping(body.get("user")).get("team_id"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate[:32]
    return None


def _digest(kind: str, *parts: object) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=True)
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()[:48]}"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
