"""What the person who installed the app is told next."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from handlers.messages import Message


def welcome_message(*, linked: bool) -> Message:
    """The DM to whoever installed the app: what to do next."""
    if linked:
        text = (
            "My Plan is installed, and this workspace is still linked to its service account. "
            "Try `/plan`, or open the My Plan app's Home tab."
        )
    else:
        text = (
            "Thanks for installing My Plan. To see your contact-centre plan here, link this workspace to your "
            "service account: ask your maaiiconnect administrator for a link code, then a workspace owner or "
            "admin runs `/plan link CODE`."
        )
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":wave: {text}"))])
