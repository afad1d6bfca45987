"""A campaign's recipients as the user gives them: a CSV or text file, or numbers pasted one per line.

Both go through one reader. A list whose first line has a comma, semicolon or tab is CSV: the column is the one
its header names (phone, mobile, number, msisdn…), else the first that holds a phone number in the first data
row. Otherwise each line is one number. A first line without a digit is a header and is skipped. Every
recipient keeps its line number in the file, so an invalid one can be pointed at.

The bounds are checked before anything is parsed: a file of a million lines is refused by counting them.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from bot.core.errors import UserFacingError

MAX_RECIPIENTS: Final = 100_000
MAX_FILE_BYTES: Final = 5 * 1024 * 1024
MAX_FILE_MB: Final = MAX_FILE_BYTES // (1024 * 1024)
MAX_PASTED_CHARS: Final = 3000
"""Slack's own limit on a plain-text input: about 200 numbers; more go in a file."""
MAX_MESSAGE_CHARS: Final = 1600
"""The longest message priced: what SMS APIs commonly accept in one request (Twilio's limit)."""
MAX_CELL_CHARS: Final = 100
"""Of a recipient's text, what is kept (a number is never longer; the rest of a stray essay is dropped)."""

FILE_FIELD: Final = "Recipients file"
PASTED_FIELD: Final = "Pasted numbers"
MESSAGE_FIELD: Final = "Message text"

_DELIMITERS: Final = ",;\t"
_HEADER_WORDS: Final = re.compile(
    r"phone|mobile|number|msisdn|tel|cell|recipient|e\.?164|^to$", re.IGNORECASE
)
_PHONE_LIKE: Final = re.compile(r"^\s*(?:\+|00)?[\d\s\-().]{6,}$")


class RecipientsProblem(UserFacingError):
    """Recipients that cannot be priced (none, too many, not text); the text names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

    @property
    def sentence(self) -> str:
        """The problem alone, as a sentence (for an error shown under the field itself)."""
        return self.problem[:1].upper() + self.problem[1:]


@dataclass(frozen=True, slots=True)
class Recipient:
    """What one line gave as a recipient, and the line's number (1-based, as an editor shows it)."""

    line: int
    text: str


def read_recipients(text: str, field: str) -> list[Recipient]:
    """The recipients in `text` (a file's content or the pasted numbers), in order; RecipientsProblem when
    there are none or more than `MAX_RECIPIENTS`."""
    lines = text.splitlines()
    first = next((number for number, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise RecipientsProblem(field, "there are no phone numbers in it.")
    header = not any(char.isdigit() for char in lines[first])
    _check_count(sum(1 for line in lines if line.strip()) - header, field)
    delimiter = next((d for d in _DELIMITERS if d in lines[first]), None)
    if delimiter is None:
        found = [
            Recipient(number + 1, line.strip()[:MAX_CELL_CHARS])
            for number, line in enumerate(lines)
            if line.strip() and not (header and number == first)
        ]
    else:
        found = list(_csv_recipients(lines, first, delimiter, header, field))
    if not found:
        raise RecipientsProblem(field, "there are no phone numbers in it, only a header.")
    _check_count(len(found), field)
    return found


def _check_count(count: int, field: str) -> None:
    if count > MAX_RECIPIENTS:
        raise RecipientsProblem(
            field,
            f"it has {count:,} recipients; I price at most {MAX_RECIPIENTS:,} at a time. "
            "Split the list and price each part.",
        )


def _csv_recipients(
    lines: Sequence[str], first: int, delimiter: str, header: bool, field: str
) -> Iterator[Recipient]:
    """The chosen column of each row, numbered by the line the row starts on; a row without that column
    gives an empty recipient (reported as invalid)."""
    reader = csv.reader(iter(lines[first:]), delimiter=delimiter)
    column: int | None = None
    while True:
        start = first + reader.line_num + 1  # csv counts the lines it has read, from the first non-empty one
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RecipientsProblem(field, f"line {start} is not valid CSV ({error}).") from error
        if not any(cell.strip() for cell in row):
            continue
        if column is None:
            column = _column(row, header)
            if header:
                continue
        cell = row[column].strip() if column < len(row) else ""
        yield Recipient(start, cell[:MAX_CELL_CHARS])


def _column(row: Sequence[str], header: bool) -> int:
    """The header's phone column, or the first cell that looks like a number, or the first column."""
    if header:
        return next((index for index, cell in enumerate(row) if _HEADER_WORDS.search(cell.strip())), 0)
    return next((index for index, cell in enumerate(row) if _PHONE_LIKE.match(cell)), 0)


def text_of(data: bytes, field: str) -> str:
    """A file's bytes as text: UTF-16 with its byte-order mark, UTF-8 (with or without one), else
    Windows-1252 (Excel's "CSV" on Windows). Anything with NUL characters is not text (a spreadsheet, say)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise RecipientsProblem(field, "it is not a CSV or text file. Save it as CSV and upload it again.")
    return text
