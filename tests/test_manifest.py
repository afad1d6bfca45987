"""The Slack app manifest matches what the app listens for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MANIFEST: dict[str, Any] = json.loads((Path(__file__).parents[1] / "manifest.json").read_text())


def test_commands_and_request_urls_point_at_slack_events() -> None:
    commands = {c["command"]: c for c in MANIFEST["features"]["slash_commands"]}
    assert set(commands) == {"/plan", "/rates"}
    settings = MANIFEST["settings"]
    urls = [c["url"] for c in commands.values()] + [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        settings["interactivity"]["message_menu_options_url"],
    ]
    assert all(url.endswith("/slack/events") for url in urls)
    assert MANIFEST["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")


def test_home_tab_and_scopes() -> None:
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert {"commands", "chat:write", "im:write", "users:read"} <= set(
        MANIFEST["oauth_config"]["scopes"]["bot"]
    )
    assert "app_home_opened" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]
