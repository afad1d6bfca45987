"""Logging: text for a terminal (the default), or `LOG_FORMAT=json`, one JSON object a line with the time,
level, logger and message, and the request's id, workspace, account and surface where known
(`bot.core.log_context`).

Nothing logs a request's body or a secret at any level: our own lines name what happened, not what was
sent; slack_sdk and bolt, which at DEBUG print the arguments of every Web API call and the requests they
receive, are held at INFO whatever `LOG_LEVEL` says.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final

from bot.core import log_context

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_AT_DEBUG: Final = ("slack_sdk", "slack_bolt", "bolt")
"""Their DEBUG lines carry request bodies and Web API arguments."""

_base_factory = logging.getLogRecordFactory()


def _record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every record carries the context of the code that made it (formatting may happen elsewhere)."""
    record = _base_factory(*args, **kwargs)
    record.log_context = log_context.current()
    return record


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "log_context", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def install_context() -> None:
    """Records carry their request's context from now on (idempotent)."""
    logging.setLogRecordFactory(_record_with_context)


def configure(level: str, log_format: str = "text") -> None:
    """The root logger at `level`, in `log_format` ("text" or "json"), on standard error."""
    install_context()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_AT_DEBUG:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    # Alembic narrates each migration at INFO; `db upgrade` says in one line what it applied.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
