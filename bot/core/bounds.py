"""The bounds of what enters the service, for the entrances above the store: the ingest API, the rate CSV
reader and the command line.

The types themselves are defined once, in `store.domain.bounds`, because the documents the API accepts
are the store's own and the store is the lowest layer; this module hands them on and checks a single value
(a command-line argument, a CSV cell) against one of them with a message a person can act on.
docs/ingest-bounds.md lists every bound, where it is enforced and what a violation answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from store.domain.bounds import (
    ACCOUNT_ID_PATTERN,
    EARLIEST,
    EARLIEST_DATE,
    LATEST,
    LATEST_DATE,
    MAX_AHEAD,
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_FEE,
    MAX_LABEL,
    MAX_RATE,
    MAX_RATE_ROWS,
    PLACES,
    TEAM_ID_PATTERN,
    USER_ID_PATTERN,
    AccountId,
    Amount,
    BoundedDate,
    Count,
    Fee,
    Label,
    PlainText,
    Price,
    Rate,
    TeamId,
    Timestamp,
    UserId,
    is_sane_date,
    is_sane_moment,
    is_sane_number,
    validation_context,
)


class OutOfBounds(ValueError):
    """A value outside its bounds; the message says what the bound is (without the value itself)."""


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def check(kind: Any, value: object, *, now: datetime | None = None) -> Any:
    """`value` validated as `kind` (one of the types above), or `OutOfBounds` saying why not; "ahead of now"
    means ahead of `now` (default: the real clock: this is an entrance)."""
    context = validation_context(now or datetime.now(UTC))
    try:
        return _adapter(kind).validate_python(value, context=context)
    except ValidationError as error:
        raise OutOfBounds(reason(error)) from None


def reason(error: ValidationError) -> str:
    """The first problem of a validation error, as a person reads it."""
    message = str(error.errors(include_url=False)[0]["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


__all__ = [
    "ACCOUNT_ID_PATTERN",
    "EARLIEST",
    "EARLIEST_DATE",
    "LATEST",
    "LATEST_DATE",
    "MAX_AHEAD",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "MAX_FEE",
    "MAX_LABEL",
    "MAX_RATE",
    "MAX_RATE_ROWS",
    "PLACES",
    "TEAM_ID_PATTERN",
    "USER_ID_PATTERN",
    "AccountId",
    "Amount",
    "BoundedDate",
    "Count",
    "Fee",
    "Label",
    "OutOfBounds",
    "PlainText",
    "Price",
    "Rate",
    "TeamId",
    "Timestamp",
    "UserId",
    "check",
    "is_sane_date",
    "is_sane_moment",
    "is_sane_number",
    "reason",
    "validation_context",
]
