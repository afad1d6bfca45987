"""Errors listeners raise on purpose; the central error handler turns them into messages."""

from __future__ import annotations

from bot.views.common import Message
from bot.views.notices import not_linked_message, plain


class UserFacingError(Exception):
    """An error whose message is meant for the person who acted."""

    def message(self) -> Message:
        return plain(str(self), ":no_entry:")


class NotLinked(UserFacingError):
    def __init__(self, team_id: str) -> None:
        super().__init__(f"workspace {team_id} is not linked")
        self.team_id = team_id

    def message(self) -> Message:
        return not_linked_message(self.team_id)


class NotAdmin(UserFacingError):
    """Only administrators may do this; the message names who they are."""

    def __init__(self, what: str, admins: list[str]) -> None:
        self.what = what
        self.admins = admins
        who = ", ".join(f"<@{a}>" for a in admins) if admins else "a workspace admin"
        super().__init__(f"Only administrators can {what}. Ask {who}.")


class UnknownAlert(UserFacingError):
    """An alert id from a button that is not one of the workspace's account's alerts."""

    def __init__(self) -> None:
        super().__init__("That alert isn't one of this workspace's alerts any more.")
