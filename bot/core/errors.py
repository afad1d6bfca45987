"""Errors raised on purpose, for the person who acted to read. No Slack here: the Slack layer's one
error mapping (`handlers.errors.message_for`) turns each into a message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

TimeFormat = Callable[[datetime], str]
"""How a time is written for the reader (the Slack layer shows it in the reader's own time zone)."""


class UserFacingError(Exception):
    """An error whose text is meant for the person who acted."""

    emoji = ":no_entry:"

    def text(self, when: TimeFormat) -> str:
        """The text to show; `when` writes any time it mentions."""
        return str(self)


class NotLinked(UserFacingError):
    """The workspace is not linked to a service account (the Slack layer explains how to link it)."""

    def __init__(self, team_id: str) -> None:
        super().__init__(f"workspace {team_id} is not linked")
        self.team_id = team_id


class NotAdmin(UserFacingError):
    """Only administrators may do this; the text names who they are."""

    def __init__(self, what: str, admins: list[str]) -> None:
        self.what = what
        self.admins = admins
        who = ", ".join(f"<@{a}>" for a in admins) if admins else "a workspace admin"
        super().__init__(f"Only administrators can {what}. Ask {who}.")


class ExpiredForm(UserFacingError):
    """A submitted form no longer matches what it was opened for (or was not one of ours)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"This form has expired. Please open {what} again.")


class NoticeNotPosted(UserFacingError):
    """The change was saved, but the notice about it could not be posted to the channel."""

    def __init__(self, what: str, channel_id: str, reason: str) -> None:
        self.channel_id = channel_id
        self.reason = reason
        super().__init__(
            f"{what} was saved, but I couldn't post the notice to <#{channel_id}> ({reason})."
            " Invite me to that channel, or ask an administrator to choose another alerts channel."
        )


class NotFoundHere(UserFacingError):
    """A payload names something that is not the requesting workspace's (or no longer exists).

    Said the same way whether it belongs to another account or never existed, so nothing leaks."""

    def __init__(self, what: str) -> None:
        super().__init__(f"I can't find {what} in this workspace's account.")
        self.what = what


class StaleAction(UserFacingError):
    """A button or menu whose value cannot be read any more (a message drawn by an older version)."""

    def __init__(self, again: str) -> None:
        super().__init__(f"That button is out of date. {again}")


class UnknownAlert(UserFacingError):
    """An alert id from a button that is not one of the workspace's account's alerts."""

    def __init__(self) -> None:
        super().__init__("That alert isn't one of this workspace's alerts any more.")


class NotAMember(UserFacingError):
    """The person acting is not a member of the workspace the account is linked to, nor of its Enterprise
    Grid organisation: someone from another organisation in a Slack Connect channel, say. Said without
    naming the account or anything of it."""

    emoji = ":lock:"

    def __init__(self) -> None:
        super().__init__(
            "Sorry, this app's plan and company details are only for members of the workspace that uses it."
            " Ask someone there if you need them."
        )


class WorkspaceUnknown(UserFacingError):
    """Slack's request names no workspace this app can serve (an organisation-wide install that did not say
    which of its workspaces the request came from)."""

    def __init__(self) -> None:
        super().__init__(
            "I couldn't tell which workspace this came from. Please try again from a channel or the app's"
            " Home in your workspace."
        )


class NotSalesWorkspace(UserFacingError):
    """A Sales button (Acknowledge, Done) clicked outside the vendor's Sales workspace, or by someone who is
    not a member of it: a copied or forged button. Nothing is changed."""

    emoji = ":lock:"

    def __init__(self) -> None:
        super().__init__(
            "Only the Sales team can acknowledge or complete upgrade requests, from the Sales workspace's"
            " channel. Nothing was changed."
        )


class InvalidInput(UserFacingError):
    """Input that cannot be taken as given (a Workflow Builder step's, say); the text says what to fix."""
