"""A message someone wrote to the app, and where its answer goes: in the app's Messages tab (a DM, or a
thread of Slack's assistant panel) or an @-mention in a channel.

- A DM is answered in the DM, in its thread when it is in one; an @-mention, in the mention's thread.
- In a channel shared with another organisation (Slack Connect), the answer goes to the asker only
  (an ephemeral message in the thread): the account is shown only to its workspace's members.
- What went wrong goes where the answer would have, to the asker only in a channel
  (`handlers.errors.report_error`).

Edits, deletions and other subtypes, edited @-mentions, and messages from bots (the app's own included)
are no questions: `Asked.of` gives None, and the app never answers itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from slack_sdk.web.async_client import AsyncWebClient

from handlers.messages import Message

QUESTION_SUBTYPES: Final = (None, "file_share")
"""A person's new message (a file shared with a comment is one too); other subtypes are edits, deletions,
joins, bot posts."""


@dataclass(frozen=True)
class Asked:
    """Who asked what, and where the answer goes."""

    user: str
    channel: str
    text: str
    ts: str
    thread_ts: str | None
    """The thread the answer goes in; None for a message at the top of the DM."""
    in_channel: bool
    """Asked by @-mentioning the app in a channel, not in the DM with it."""
    shared: bool
    """In a channel shared with another organisation."""

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Asked | None:
        """The question an event carries: a person's new message in the DM with the app, or an
        @-mention; None for anything else."""
        event = body.get("event")
        if not isinstance(event, Mapping):
            return None
        kind = event.get("type")
        if kind == "app_mention":
            in_channel = True
        elif kind == "message" and event.get("channel_type") == "im":
            in_channel = False
        else:
            return None
        if event.get("subtype") not in QUESTION_SUBTYPES or event.get("bot_id") or event.get("edited"):
            return None
        user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
        if not (
            isinstance(user, str) and user and isinstance(channel, str) and channel and isinstance(ts, str)
        ):
            return None
        thread = event.get("thread_ts")
        thread_ts = thread if isinstance(thread, str) and thread else (ts if in_channel else None)
        return cls(
            user=user,
            channel=channel,
            text=str(event.get("text") or ""),
            ts=ts,
            thread_ts=thread_ts,
            in_channel=in_channel,
            shared=body.get("is_ext_shared_channel") is True,
        )

    async def answer(self, client: AsyncWebClient, message: Message, *, private: bool = False) -> None:
        """Post `message` where the question was asked; `private`: to the asker only, in a channel."""
        if self.in_channel and (private or self.shared):
            await client.chat_postEphemeral(
                channel=self.channel, user=self.user, thread_ts=self.thread_ts, **message.as_kwargs()
            )
            return
        await client.chat_postMessage(
            channel=self.channel,
            thread_ts=self.thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **message.as_kwargs(),
        )
