"""Rate table CSV import/export.

Import checks every row and rejects a bad file whole, listing every problem with its line number, so an
operator fixes the file in one pass. Export writes the canonical form (the exact header, ``\\n`` line endings,
minimal quoting, rates exactly as parsed), so importing a canonical file and exporting it again gives the same
bytes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.core.bounds import MAX_RATE, MAX_RATE_ROWS, PLACES
from bot.rates.regions import is_known_region
from store.domain.rates import MAX_DESTINATION, RateRow

HEADER: Final = (
    "dial_code",
    "iso_code",
    "destination",
    "landline_per_min",
    "mobile_per_min",
    "sms_per_message",
)
HEADER_LINE: Final = ",".join(HEADER)
_RATE_COLUMNS: Final = HEADER[3:]
_DIAL = re.compile(r"^[0-9]{1,4}$")
_ISO = re.compile(r"^[A-Z]{2}$")
_DECIMAL = re.compile(r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

Problem = tuple[int, str]
"""(line number, reason). Line 1 is the header."""


class RateFileError(ValueError):
    """The whole file was rejected; `problems` lists every (line number, reason), in line order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems)
        first = "; ".join(f"line {line}: {reason}" for line, reason in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"rate file rejected: {first}{more}")


def _check_rate(column: str, raw: str) -> Decimal | str:
    """The parsed rate, keeping its exponent ("0.0100" stays 0.0100), or the reason it is not acceptable."""
    if raw.startswith("-"):
        return f"{column} {_shown(raw)} is negative"
    if not _DECIMAL.match(raw):
        return f"{column} {_shown(raw)} is not a decimal number like 0.0123"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return f"{column} {_shown(raw)} is not a decimal number like 0.0123"
    if -int(value.as_tuple().exponent) > PLACES:
        return f"{column} {_shown(raw)} has more than {PLACES} decimal places"
    if value > MAX_RATE:
        return f"{column} {_shown(raw)} is too high: rates are USD per minute or message, at most {MAX_RATE}"
    return value


def _shown(raw: str) -> str:
    """A cell as a problem quotes it: a cell of thousands of characters is cut short."""
    return repr(raw) if len(raw) <= 40 else repr(raw[:40]) + f"… ({len(raw)} characters)"


def _check_cells(cells: list[str]) -> tuple[dict[str, object], list[str]]:
    """Field values ready for `RateRow`, and every reason this row is wrong."""
    # Upper-cased only when ASCII: str.upper() folds "ﬁ" to "FI" and "ſe" to "SE".
    dial, iso, destination = cells[0], cells[1].upper() if cells[1].isascii() else cells[1], cells[2]
    values: dict[str, object] = {"dial_code": dial, "iso_code": iso, "destination": destination}
    reasons: list[str] = []
    if not _DIAL.match(dial):
        reasons.append(f"dial_code {_shown(dial)} must be 1–4 digits, without + or 00")
    if not (_ISO.match(iso) and is_known_region(iso)):
        reasons.append(f"iso_code {_shown(cells[1])} is not a known ISO 3166-1 alpha-2 code")
    if not destination:
        reasons.append("destination is empty")
    elif _CONTROL.search(destination):
        reasons.append("destination contains a line break or control character")
    elif len(destination) > MAX_DESTINATION:
        reasons.append(f"destination is longer than {MAX_DESTINATION} characters")
    for column, raw in zip(_RATE_COLUMNS, cells[3:], strict=True):
        checked = _check_rate(column, raw)
        if isinstance(checked, str):
            reasons.append(checked)
        else:
            values[column] = checked
    return values, reasons


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """(first line number, cells) per CSV record; quoted fields may span lines, blank lines are skipped.

    A record the csv module cannot read (a cell over its 131,072-character limit, say) rejects the file,
    naming the line it starts on."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RateFileError([(line, _unreadable(error))]) from None
        if any(cell.strip() for cell in record):
            yield line, record
        line = reader.line_num + 1


def _unreadable(error: csv.Error) -> str:
    if "field limit" in str(error):
        return f"a cell is longer than {csv.field_size_limit():,} characters (is a closing quote missing?)"
    return f"the line cannot be read as CSV ({error})"


def _pydantic_problem(detail: ErrorDetails) -> str:
    where = ".".join(str(part) for part in detail["loc"])
    message = detail["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _duplicates(keys: Iterable[tuple[int, str]]) -> list[Problem]:
    """One problem per repeated ISO code, pointing at the first occurrence."""
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for number, iso in keys:
        if iso in first:
            problems.append((number, f"duplicate destination {iso} (first on line {first[iso]})"))
        else:
            first[iso] = number
    return problems


def parse_csv(text: str) -> list[RateRow]:
    """Parse and check a whole rate file; raise `RateFileError` listing every problem if anything is wrong."""
    records = list(_records(text))
    if not records:
        raise RateFileError([(1, f"the file is empty; the first line must be {HEADER_LINE}")])
    if len(records) - 1 > MAX_RATE_ROWS:  # refused before checking each one: that is the costly part
        line = records[MAX_RATE_ROWS + 1][0]
        raise RateFileError(
            [(line, f"a rate table has at most {MAX_RATE_ROWS:,} rows; this is row {MAX_RATE_ROWS + 1:,}")]
        )
    problems: list[Problem] = []
    header_line, header = records[0]
    if header_line != 1 or tuple(header) != HEADER:
        problems.append((header_line, f"the header must be exactly {HEADER_LINE}"))
    rows: list[RateRow] = []
    keys: list[tuple[int, str]] = []
    for line, record in records[1:]:
        if len(record) != len(HEADER):
            problems.append((line, f"expected {len(HEADER)} columns, found {len(record)}"))
            continue
        values, reasons = _check_cells([cell.strip() for cell in record])
        problems += [(line, reason) for reason in reasons]
        keys.append((line, str(values["iso_code"])))
        if not reasons:
            try:
                rows.append(RateRow.model_validate(values))
            except ValidationError as error:
                problems += [(line, _pydantic_problem(detail)) for detail in error.errors()]
    problems += _duplicates(keys)
    if len(records) == 1:
        problems.append((1, "the file has a header but no rates"))
    if problems:
        raise RateFileError(problems)
    return rows


def check_rows(rows: Sequence[RateRow]) -> list[Problem]:
    """Table-level checks for rows that arrived another way (e.g. JSON): known regions, no duplicates.

    Numbers are 1-based row positions. Field formats are already enforced by `RateRow` itself.
    """
    problems = [
        (number, f"iso_code {row.iso_code!r} is not a known ISO 3166-1 alpha-2 code")
        for number, row in enumerate(rows, start=1)
        if not is_known_region(row.iso_code)
    ]
    problems += _duplicates((number, row.iso_code) for number, row in enumerate(rows, start=1))
    if not rows:
        problems.append((0, "the table has no rates"))
    return sorted(problems)


def to_csv(rows: Iterable[RateRow]) -> str:
    """Canonical CSV: exact header, ``\\n`` endings, minimal quoting, each rate with its own exponent."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            (
                row.dial_code,
                row.iso_code,
                row.destination,
                format(row.landline_per_min, "f"),
                format(row.mobile_per_min, "f"),
                format(row.sms_per_message, "f"),
            )
        )
    return buffer.getvalue()
