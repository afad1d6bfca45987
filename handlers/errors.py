"""The one error mapping: what the user is told for each known error, and where they are told it.

Listeners never catch to log: every failure after the ack reaches `report_error` (see
`handlers.interaction`), or `fail_step` for a Workflow Builder step; every failure inside bolt reaches
`handle_error`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.fail.async_fail import AsyncFail
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import NotLinked, UserFacingError
from handlers.limits import view_dict
from handlers.messages import (
    Message,
    failure_message,
    not_linked_message,
    notice_modal,
    plain,
    slack_datetime,
    unavailable_message,
)
from handlers.questions import Asked
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)


def message_for(error: Exception) -> Message:
    """The one mapping from known errors to what the user is told; anything else is a bug and is logged."""
    if isinstance(error, NotLinked):
        log.info("told the user: %s", error)
        return not_linked_message(error.team_id)
    if isinstance(error, UserFacingError):
        log.info("told the user: %s", error)
        return plain(error.text(slack_datetime), error.emoji)
    if isinstance(error, StoreUnavailable):
        log.warning("database unavailable: %s", error)
        return unavailable_message()
    log.error("unhandled error in a listener", exc_info=error)
    return failure_message()


async def report_error(
    error: Exception,
    *,
    client: AsyncWebClient,
    respond: AsyncRespond | None,
    body: dict[str, Any],
    user_id: str | None,
) -> None:
    """Tell the user what went wrong: ephemerally via response_url; for a click on the App Home, in a
    modal where they are looking; for a question asked in a message, where it would have been answered
    (to the asker only in a channel); else in their DM with the app."""
    message = message_for(error)
    if respond is not None:
        await respond(**message.as_response())
    elif await _explain_in_modal(client, body, message):
        return
    elif (asked := Asked.of(body)) is not None:
        await asked.answer(client, message, private=True)
    elif user_id:
        await client.chat_postMessage(channel=user_id, **message.as_kwargs())


async def fail_step(error: Exception, fail: AsyncFail) -> None:
    """A Workflow Builder step that could not be done fails (functions.completeError) with what the user
    would be told of `error`: Slack shows it to the person who ran the workflow, and stops the workflow."""
    await fail(error=message_for(error).text)


async def _explain_in_modal(client: AsyncWebClient, body: dict[str, Any], message: Message) -> bool:
    """Open a modal with the explanation when the click came from the App Home (which has no
    response_url). False when that is not the case, or the trigger has expired."""
    view = body.get("view")
    trigger_id = body.get("trigger_id")
    if body.get("type") != "block_actions" or not isinstance(view, dict) or view.get("type") != "home":
        return False
    if not trigger_id:
        return False
    try:
        await client.views_open(trigger_id=trigger_id, view=view_dict(notice_modal(message)))
    except SlackApiError as failure:
        log.info("could not explain in a modal (%s); sending a DM instead", failure.response.get("error"))
        return False
    return True


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
