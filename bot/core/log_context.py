"""What a log line is about: the request's id, workspace, account and surface, where known.

Set by the entrances (the Slack middleware, the ingest API's) and by whoever learns more on the way (the
account, once a workspace's link is read); read by `bot.logs` into every record. Context variables, so each
request's work, including what it does after the ack, carries its own.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Final

FIELDS: Final = ("request_id", "workspace", "account", "surface")

_context: ContextVar[dict[str, str] | None] = ContextVar("log_context", default=None)


def bind(**fields: str | None) -> None:
    """Add `fields` (those not None) to the current context: this request's, from here on."""
    known = {name: value for name, value in fields.items() if value}
    if known:
        _context.set({**(_context.get() or {}), **known})


def current() -> dict[str, str]:
    return dict(_context.get() or {})
