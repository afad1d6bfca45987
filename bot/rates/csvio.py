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

from bot.rates.regions import is_known_region
from store.domain.rates import RATE_PLACES, RateRow

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
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_DESTINATION: Final = 100

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
        return f"{column} {raw!r} is negative"
    if not _DECIMAL.match(raw):
        return f"{column} {raw!r} is not a decimal number like 0.0123"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return f"{column} {raw!r} is not a decimal number like 0.0123"
    if -int(value.as_tuple().exponent) > RATE_PLACES:
        return f"{column} {raw!r} has more than {RATE_PLACES} decimal places"
    return value


def _check_cells(cells: list[str]) -> tuple[dict[str, object], list[str]]:
    """Field values ready for `RateRow`, and every reason this row is wrong."""
    dial, iso, destination = cells[0], cells[1].upper(), cells[2]
    values: dict[str, object] = {"dial_code": dial, "iso_code": iso, "destination": destination}
    reasons: list[str] = []
    if not _DIAL.match(dial):
        reasons.append(f"dial_code {dial!r} must be 1–4 digits, without + or 00")
    if not (_ISO.match(iso) and is_known_region(iso)):
        reasons.append(f"iso_code {cells[1]!r} is not a known ISO 3166-1 alpha-2 code")
    if not destination:
        reasons.append("destination is empty")
    elif _CONTROL.search(destination):
        reasons.append("destination contains a line break or control character")
    elif len(destination) > _MAX_DESTINATION:
        reasons.append(f"destination is longer than {_MAX_DESTINATION} characters")
    for column, raw in zip(_RATE_COLUMNS, cells[3:], strict=True):
        checked = _check_rate(column, raw)
        if isinstance(checked, str):
            reasons.append(checked)
        else:
            values[column] = checked
    return values, reasons


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """(first line number, cells) per CSV record; quoted fields may span lines, blank lines are skipped."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    line = 1
    for record in reader:
        if any(cell.strip() for cell in record):
            yield line, record
        line = reader.line_num + 1


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
                problems += [(line, str(detail["msg"])) for detail in error.errors()]
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
