"""How listeners are wired: ack first, then work, with failures going to the one error handler.

Bolt's asyncio runner loses an ack when a listener raises within ~10 ms of acking (it resets the
acknowledged response to None), so a listener's work must not raise into bolt. Listeners built
with `ack_then` ack, do their work (in one of the app's work slots, see `bot.work_slots`), and route
any error to `report_error`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot.errors import UserFacingError
from bot.views.common import Message
from bot.views.notices import failure_message, notice_modal, unavailable_message
from bot.work_slots import work_slot
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)

Work = Callable[[AsyncArgs], Awaitable[None]]
Listener = Callable[[AsyncArgs], Awaitable[None]]


def message_for(error: Exception) -> Message:
    """The one mapping from known errors to what the user is told; anything else is a bug and is logged."""
    if isinstance(error, UserFacingError):
        log.info("told the user: %s", error)
        return error.message()
    if isinstance(error, StoreUnavailable):
        log.warning("database unavailable: %s", error)
        return unavailable_message()
    log.error("unhandled error in a listener", exc_info=error)
    return failure_message()


async def report_error(error: Exception, args: AsyncArgs) -> None:
    """Tell the user what went wrong: ephemerally via response_url; for a click on the App Home, in a
    modal where they are looking; else in their DM with the app."""
    message = message_for(error)
    if (respond := responder(args)) is not None:
        await respond(**message.as_response())
    elif await _explain_in_modal(args, message):
        return
    elif (user_id := _user_id(args.body)) is not None:
        await args.client.chat_postMessage(channel=user_id, **message.as_kwargs())


def responder(args: AsyncArgs) -> AsyncRespond | None:
    """`respond` when the payload carries a response_url (bolt provides one that raises otherwise)."""
    respond: AsyncRespond | None = args.respond
    return respond if respond is not None and respond.response_url else None


async def _explain_in_modal(args: AsyncArgs, message: Message) -> bool:
    """Open a modal with the explanation when the click came from the App Home (which has no
    response_url). False when that is not the case, or the trigger has expired."""
    body = args.body or {}
    view = body.get("view")
    trigger_id = body.get("trigger_id")
    if body.get("type") != "block_actions" or not isinstance(view, dict) or view.get("type") != "home":
        return False
    if not trigger_id:
        return False
    try:
        await args.client.views_open(trigger_id=trigger_id, view=notice_modal(message).to_dict())
    except SlackApiError as failure:
        log.info("could not explain in a modal (%s); sending a DM instead", failure.response.get("error"))
        return False
    return True


def _user_id(body: dict[str, Any] | None) -> str | None:
    user = (body or {}).get("user")
    return user.get("id") if isinstance(user, dict) else (body or {}).get("user_id")


async def handle_error(error: Exception, respond: AsyncRespond | None) -> BoltResponse | None:
    """Bolt's global error handler (middleware failures, such as the database being down while a request
    is authorized, and anything raised into bolt). Once the user has been told, Slack gets a plain 200, so
    it does not show an error of its own on top; without anyone to tell, Slack gets the 500 (and retries
    events later)."""
    message = message_for(error)
    if respond is None or not respond.response_url:
        return None
    await respond(**message.as_response())
    return BoltResponse(status=200, body="")


def ack_then(work: Work, **ack_kwargs: Any) -> Listener:
    """A listener that acks at once (Slack's 3-second limit), then does `work`."""

    async def listener(args: AsyncArgs) -> None:
        await args.ack(**ack_kwargs)
        async with work_slot(args.context):
            try:
                await work(args)
            except Exception as error:  # every failure reaches the user and the log, via report_error
                await report_error(error, args)

    listener.__name__ = listener.__qualname__ = getattr(work, "__name__", "listener")
    return listener


Check = Callable[[AsyncArgs], Awaitable[dict[str, Any]]]


def check_then(check: Check, work: Work | None = None) -> Listener:
    """For view submissions: `check` validates and returns the ack's arguments (`{}` closes the modal,
    `{"response_action": "errors", "errors": {block_id: message}}` shows errors on fields); `work`
    runs after the ack. A failure in `check` replaces the modal with the explanation."""

    async def listener(args: AsyncArgs) -> None:
        try:
            response = await check(args)
        except Exception as error:  # shown in the modal the user is looking at
            await args.ack(response_action="update", view=notice_modal(message_for(error)).to_dict())
            return
        await args.ack(**response)
        if work is not None and response.get("response_action") in (None, "clear"):
            async with work_slot(args.context):
                try:
                    await work(args)
                except Exception as error:
                    await report_error(error, args)

    listener.__name__ = listener.__qualname__ = getattr(check, "__name__", "listener")
    return listener
