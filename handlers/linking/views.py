"""Messages of `/plan link`."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from handlers.messages import Message


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
