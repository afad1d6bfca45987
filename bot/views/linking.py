"""Messages of `/plan link`."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.views.common import Message


def linked_message(company_name: str, account_id: str, *, already_linked: bool) -> Message:
    """The workspace is linked (the user who linked it is now one of the account's administrators)."""
    if already_linked:
        text = f"This workspace was already linked to {company_name} (`{account_id}`); you are now one of its administrators."
    else:
        text = (
            f"This workspace is now linked to {company_name} (`{account_id}`), and you are its administrator."
        )
    return Message(
        text=text,
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f":white_check_mark: {text}")),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Everyone here can now run `/plan` and open the *My Plan* app's Home tab. "
                        "Workspace owners and admins are administrators too."
                    )
                ]
            ),
        ],
    )


def link_usage_message() -> Message:
    text = (
        "Link this workspace to your service account with the code you were given: `/plan link K7QX-M2PD`. "
        "A workspace owner or admin has to run it."
    )
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f":link: {text}"))])


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
