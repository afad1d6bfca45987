"""Short messages for people: help, not linked, errors."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.views.common import Message


def help_message(subcommands: Sequence[tuple[str, str]], *, unknown: str | None = None) -> Message:
    """The list of `/plan` subcommands; `unknown` is what the user typed that we did not understand."""
    lines = [f"• `{usage}` — {summary}" for usage, summary in subcommands]
    intro = f"I don't know `/plan {unknown}`. " if unknown else ""
    blocks = [
        SectionBlock(
            text=MarkdownTextObject(text=f"{intro}*My Plan* brings your subscription plan into Slack.")
        ),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ContextBlock(
            elements=[MarkdownTextObject(text="Replies are only visible to you unless you share them.")]
        ),
    ]
    return Message(text=f"{intro}Try /plan help for what My Plan can do.", blocks=blocks)


def not_linked_message(team_id: str) -> Message:
    text = (
        "This Slack workspace isn't linked to a My Plan service account yet.\n"
        "Ask your maaiiconnect administrator for a link code and run `/plan link CODE`, "
        f"or have the operator run `myplan link {team_id} ACCOUNT_ID`."
    )
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":link: {text}"))])


def unavailable_message() -> Message:
    text = (
        "My Plan is temporarily unavailable — its data store can't be reached. Please try again in a minute."
    )
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":hourglass: {text}"))])


def failure_message() -> Message:
    text = "Sorry, something went wrong on our side and it has been logged. Please try again."
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":warning: {text}"))])


def plain(text: str, emoji: str = "") -> Message:
    shown = f"{emoji} {text}" if emoji else text
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=shown))])


def notice_modal(message: Message, title: str = "My Plan") -> View:
    """A modal that only explains something (replaces a modal whose submission could not be taken)."""
    return View(type="modal", title=title, close="Close", blocks=list(message.blocks))
