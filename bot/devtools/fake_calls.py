"""What the fake Slack records of each call (`RecordedCall`) and how it fails one (`Fault`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Final, Literal

TIMEOUT: Final = "timeout"
"""A fault with no answer: the request is held until the caller gives up (or the fake stops)."""
DROP: Final = "drop"
"""A fault with no answer: the connection is closed under the request."""
NO_ANSWER: Final = 0
"""`RecordedCall.status` of a call that got no answer (a TIMEOUT or DROP fault)."""
HOLD_SECONDS: Final = 300.0
"""How long a TIMEOUT fault holds its request at most (the fake's stop releases it sooner)."""
Lost = Literal["timeout", "drop"]


@dataclass(frozen=True)
class RecordedCall:
    """One request received by the fake.

    ``method`` is the Web API method, ``"response_url"`` or ``"file_upload"``; ``params`` merges the
    query string and the JSON/form body (JSON-string ``blocks``/``view``/``attachments`` decoded,
    ``token`` removed); ``status``/``response`` are what the fake answered; ``peer`` is the caller's
    (host, port): calls over one kept-alive connection share it. ``stored`` is True when a call took effect
    although it failed (a ``Fault(stored=True)``): its message is in the channel all the same.
    """

    method: str
    params: dict[str, Any]
    token: str | None
    url: str
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    peer: tuple[str, int] | None = None
    stored: bool = False

    @property
    def ok(self) -> bool:
        """True when the fake answered HTTP 200 with ``"ok": true``."""
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """The Slack ``error`` code the fake answered with, if any."""
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass(frozen=True)
class Fault:
    """How the fake fails a call.

    ``status``: 429 (rate limited, with ``retry_after``), a 5xx, 200 with ``error`` (``ok: false``), or
    ``TIMEOUT`` / ``DROP`` (no answer: held until the caller gives up / the connection closed under it).
    ``stored``: the call takes effect first (the message is stored, the view opened…), then fails, as when
    Slack stores a message and still answers 500."""

    status: int | Lost = 200
    error: str | None = None
    retry_after: int | None = None
    stored: bool = False

    def __post_init__(self) -> None:
        if self.status == 200 and self.error is None:
            raise ValueError("fail(status=200) needs an error code, e.g. error='channel_not_found'")
        if self.status == 429 and self.retry_after is None:
            object.__setattr__(self, "retry_after", 1)

    @property
    def lost(self) -> Lost | None:
        return self.status if isinstance(self.status, str) else None

    def answer(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        if isinstance(self.status, str):
            return NO_ANSWER, {"ok": False, "error": f"no_answer_{self.status}"}, {}
        if self.status == 429:
            error = self.error or "ratelimited"
        elif self.status >= 500:
            error = self.error or "internal_error"
        else:
            error = self.error or "request_failed"
        return self.status, {"ok": False, "error": error}, headers


@dataclass
class RandomFaults:
    faults: list[tuple[Fault, float]]
    rng: random.Random

    def draw(self) -> Fault | None:
        roll = self.rng.random()
        for fault, chance in self.faults:
            if roll < chance:
                return fault
            roll -= chance
        return None


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    lost: Lost | None = None
    stored: bool = False
