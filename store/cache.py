"""Short-lived copies, per process, of the reads nearly every Slack request makes: which account a
workspace is linked to, and who administers that account.

Writes made through this process forget the copy at once. A write made by another process (the CLI,
another web process) shows here within `SECONDS`. An unlinked workspace is never remembered, so linking
one takes effect at once everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

SECONDS = 30
MAX_ENTRIES = 10_000


class HotReads:
    def __init__(self, seconds: float = SECONDS, timer: Callable[[], float] = time.monotonic) -> None:
        self.account_of_team: TTLCache[str, str] = TTLCache(MAX_ENTRIES, seconds, timer)
        self.admins_of_account: TTLCache[str, tuple[str, ...]] = TTLCache(MAX_ENTRIES, seconds, timer)

    def forget_team(self, team_id: str) -> None:
        self.account_of_team.pop(team_id, None)

    def forget_admins(self, account_id: str) -> None:
        self.admins_of_account.pop(account_id, None)
