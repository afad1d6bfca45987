"""The campaign modal's form: the metadata binding it to its account (and to where the answer goes), and the
checks a submission passes before the ack — cheap ones only: the message, which recipients were given, the
file's type and size as Slack states them, and the pasted numbers (at most 3,000 characters)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import Field

from bot.campaign.recipients import (
    MAX_FILE_BYTES,
    MAX_FILE_MB,
    MAX_MESSAGE_CHARS,
    MAX_PASTED_CHARS,
    MAX_RECIPIENTS,
    PASTED_FIELD,
    RecipientsProblem,
    read_recipients,
)
from bot.campaign.segments import SegmentCount, count_segments
from handlers.campaign.ids import Action
from handlers.campaign.ids import Block as BlockId
from handlers.payloads import ModalMetadata, ViewState

FILE_TYPES: Final = frozenset({"csv", "text"})
"""Slack's `filetype` of a .csv and of a .txt file."""
FILE_EXTENSIONS: Final = (".csv", ".txt")
MAX_SHOWN_NAME: Final = 60
MAX_RESPONSE_URL: Final = 500


class CampaignMetadata(ModalMetadata):
    """The modal's private metadata: its account, and the response_url of the `/rates campaign` that opened
    it (the answer goes back there, ephemeral, with Share); empty from the Home tab (the answer comes by DM)."""

    response_url: str = Field(default="", max_length=MAX_RESPONSE_URL)


@dataclass(frozen=True)
class CampaignRequest:
    """A submission that passed the checks: what the work after the ack prices."""

    account_id: str
    message: str
    segments: SegmentCount
    pasted: str | None
    """The pasted numbers; None when a file was uploaded instead."""
    file_id: str | None
    response_url: str


def read_campaign_form(
    state: ViewState, metadata: CampaignMetadata
) -> tuple[CampaignRequest | None, dict[str, str]]:
    """The request, or the errors by block to show under the fields."""
    errors: dict[str, str] = {}
    message = state.text(BlockId.CAMPAIGN_MESSAGE, Action.CAMPAIGN_MESSAGE)
    if message is None:
        errors[BlockId.CAMPAIGN_MESSAGE] = "Enter the message you will send."
    elif len(message) > MAX_MESSAGE_CHARS:
        errors[BlockId.CAMPAIGN_MESSAGE] = (
            f"Keep the message to {MAX_MESSAGE_CHARS:,} characters (it has {len(message):,})."
        )
    pasted = state.text(BlockId.CAMPAIGN_NUMBERS, Action.CAMPAIGN_NUMBERS)
    files = uploaded_files(state)
    errors.update(_recipients_errors(files, pasted))
    if errors or message is None:
        return None, errors
    file_id = str(files[0].get("id") or "") if files else None
    request = CampaignRequest(
        account_id=metadata.account_id,
        message=message,
        segments=count_segments(message),
        pasted=pasted if not files else None,
        file_id=file_id,
        response_url=metadata.response_url,
    )
    return request, {}


def uploaded_files(state: ViewState) -> list[Mapping[str, Any]]:
    """The file input's files, as Slack describes them (id, name, filetype, size…)."""
    files = state.element(BlockId.CAMPAIGN_FILE, Action.CAMPAIGN_FILE).get("files")
    return [f for f in files if isinstance(f, Mapping)] if isinstance(files, list) else []


def _recipients_errors(files: Sequence[Mapping[str, Any]], pasted: str | None) -> dict[str, str]:
    """Exactly one list: the file (one, of the right type and size, with an id) or the pasted numbers."""
    if not files and pasted is None:
        return {BlockId.CAMPAIGN_FILE: "Upload a CSV file of phone numbers, or paste the numbers below."}
    if files and pasted is not None:
        return {BlockId.CAMPAIGN_NUMBERS: "Upload a file or paste numbers, not both: clear one of them."}
    if len(files) > 1:
        return {BlockId.CAMPAIGN_FILE: "Upload one file."}
    if files:
        problem = file_problem(files[0])
        if problem is None and not files[0].get("id"):
            problem = "Upload the file again: Slack did not say which file it is."
        return {BlockId.CAMPAIGN_FILE: problem} if problem else {}
    assert pasted is not None
    if len(pasted) > MAX_PASTED_CHARS:
        return {
            BlockId.CAMPAIGN_NUMBERS: f"Paste at most {MAX_PASTED_CHARS:,} characters; upload more as a file."
        }
    try:
        read_recipients(pasted, PASTED_FIELD)
    except RecipientsProblem as problem:  # a field error, for the modal that is still open
        return {BlockId.CAMPAIGN_NUMBERS: problem.sentence}
    return {}


def file_problem(file: Mapping[str, Any]) -> str | None:
    """What is wrong with an uploaded file as Slack describes it (type, size); None when it may be read."""
    name = shown_name(file)
    extension_ok = name.lower().endswith(FILE_EXTENSIONS)
    if str(file.get("filetype") or "") not in FILE_TYPES and not extension_ok:
        return f"{name} is not a CSV or text file. Save the list as CSV and upload that."
    size = file.get("size")
    if isinstance(size, int) and size > MAX_FILE_BYTES:
        return (
            f"{name} is {size / 2**20:.1f} MB; the file can be at most {MAX_FILE_MB} MB "
            f"(about {MAX_RECIPIENTS:,} numbers)."
        )
    return None


def shown_name(file: Mapping[str, Any]) -> str:
    """The file's name, short, without the characters Slack's mrkdwn would read as a mention or link."""
    name = str(file.get("name") or "The file").translate({ord(char): None for char in "<>&*`"})
    return name[:MAX_SHOWN_NAME] or "The file"
