"""Link codes: how a workspace admin links their Slack workspace to a service account from Slack.

The operator (`myplan link-code ACCOUNT`) or the billing platform (the ingest API) issues a one-time
code for an account and hands it to the customer; a workspace admin runs `/plan link CODE`. Codes are
8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as `K7QX-M2PD`, typed in any
case with or without the dash; only their SHA-256 is stored. They expire after 24 hours and work once.
A workspace that tries 5 wrong codes within 15 minutes must wait until the oldest of them is 15 minutes old.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.errors import TimeFormat, UserFacingError
from store import Store
from store.clock import utcnow
from store.domain.linking import LinkOutcome

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(hours=24)
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(minutes=15)
_IGNORED = str.maketrans("", "", "- \t")


def new_code() -> str:
    """A fresh code (normalized form: `K7QXM2PD`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    """How a code is shown, easier to read aloud and type: `K7QX-M2PD`."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalized(text: str) -> str | None:
    """The code as typed, upper-cased without dashes or spaces; None when it cannot be a code at all."""
    code = text.translate(_IGNORED).upper()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def code_hash(code: str) -> str:
    """What is stored and looked up: the SHA-256 of the normalized code."""
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    code: str
    """Shown once, grouped (`K7QX-M2PD`); only its hash is stored."""
    account_id: str
    expires_at: datetime


async def issue_link_code(
    store: Store, account_id: str, *, by: str, now: datetime | None = None
) -> IssuedCode:
    """A new one-time code for the account (raises store.errors.NotFound for an unknown account)."""
    now = now or utcnow()
    code = new_code()
    expires_at = now + CODE_LIFETIME
    await store.link_codes.add(account_id, code_hash(code), created_by=by, expires_at=expires_at, now=now)
    return IssuedCode(code=grouped(code), account_id=account_id, expires_at=expires_at)


@dataclass(frozen=True)
class Linked:
    account_id: str
    already_linked: bool


async def redeem_link_code(
    store: Store, *, team_id: str, user_id: str, text: str, now: datetime | None = None
) -> Linked:
    """Link the workspace with the code the user typed; raises a LinkError saying what went wrong.

    The caller has checked that the user is a workspace owner or admin.
    """
    now = now or utcnow()
    attempt = await store.link_codes.attempt(
        team_id, user_id, now=now, window=WRONG_CODE_WINDOW, limit=MAX_WRONG_CODES
    )
    if attempt.retry_at is not None:
        raise TooManyWrongCodes(attempt.retry_at)
    code = normalized(text)
    if code is None:
        raise WrongCode()
    redemption = await store.link_codes.redeem(code_hash(code), team_id=team_id, user_id=user_id, now=now)
    if redemption.outcome is not LinkOutcome.UNKNOWN:
        await store.link_codes.forgive(attempt)  # only unknown codes are guesses
    match redemption.outcome:
        case LinkOutcome.LINKED:
            assert redemption.account_id is not None
            return Linked(redemption.account_id, redemption.already_linked)
        case LinkOutcome.UNKNOWN:
            raise WrongCode()
        case LinkOutcome.EXPIRED:
            raise CodeExpired()
        case LinkOutcome.USED:
            raise CodeUsed()
        case LinkOutcome.LINKED_ELSEWHERE:
            raise LinkedElsewhere(team_id, redemption.account_id or "another account")


class LinkError(UserFacingError):
    """A link code that cannot be used; the text says why and what to do."""


class WrongCode(LinkError):
    def __init__(self) -> None:
        super().__init__(
            "That link code isn't right. Check it and try again: it looks like `K7QX-M2PD` "
            f"({CODE_LENGTH} letters and digits)."
        )


class CodeExpired(LinkError):
    emoji = ":hourglass:"

    def __init__(self) -> None:
        super().__init__(
            "That link code has expired (codes work for 24 hours). Ask for a new one and run `/plan link CODE` again."
        )


class CodeUsed(LinkError):
    def __init__(self) -> None:
        super().__init__("That link code has already been used (each code works once). Ask for a new one.")


class LinkedElsewhere(LinkError):
    def __init__(self, team_id: str, account_id: str) -> None:
        super().__init__(
            f"This workspace is already linked to the service account `{account_id}`, so the code was not used. "
            f"To move it to another account, ask the operator to run `myplan link {team_id} ACCOUNT_ID`."
        )


class TooManyWrongCodes(LinkError):
    emoji = ":lock:"

    def __init__(self, retry_at: datetime) -> None:
        self.retry_at = retry_at
        super().__init__(f"Too many wrong link codes were tried from this workspace (retry at {retry_at}).")

    def text(self, when: TimeFormat) -> str:
        return f"Too many wrong link codes were tried from this workspace. Try again after {when(self.retry_at)}."


class NotWorkspaceAdmin(LinkError):
    def __init__(self) -> None:
        super().__init__(
            "Only a workspace owner or admin can link this workspace to a service account. "
            "Ask one of them to run `/plan link CODE`."
        )
