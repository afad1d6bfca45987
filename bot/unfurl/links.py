"""A vendor dashboard link (`DASHBOARD_URL/…`) and the feature it is about.

A link is the dashboard's when it has the dashboard's scheme and host and its path lies under the
dashboard's. It is about a feature when its path is one of that feature's dashboard paths (create,
manage, configure) or lies under one (`/virtual-numbers/123` is under `/virtual-numbers`); the longest
such path wins (`/omnichannels/whatsapp/setup` over `/omnichannels`). Any other dashboard link is about
the plan as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from store.domain.plan import Feature

MAX_LINKS: Final = 5
"""Links of one message unfurled (Slack's own limit on unfurls a message shows is about this)."""


def dashboard_path(url: str, dashboard_url: str) -> str | None:
    """The link's path below the dashboard's ("/" for the dashboard itself); None when not the dashboard's."""
    link, dashboard = urlsplit(url), urlsplit(dashboard_url)
    if (link.scheme.lower(), (link.hostname or "").lower()) != (
        dashboard.scheme.lower(),
        (dashboard.hostname or "").lower(),
    ):
        return None
    base = dashboard.path.rstrip("/")
    if link.path != base and not link.path.startswith(base + "/"):
        return None
    return "/" + link.path[len(base) :].strip("/")


def linked_feature(path: str, features: Iterable[Feature]) -> Feature | None:
    """The feature whose dashboard path `path` is, or lies under (the longest such path); None: the plan."""
    best: tuple[int, Feature] | None = None
    for feature in features:
        for own in (feature.create_path, feature.manage_path, feature.configure_path):
            if own is None:
                continue
            own = "/" + own.strip("/")
            if (path == own or path.startswith(own.rstrip("/") + "/")) and (
                best is None or len(own) > best[0]
            ):
                best = (len(own), feature)
    return best[1] if best is not None else None
