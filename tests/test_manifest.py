"""The Slack app manifest matches what the app listens for (and its Workflow Builder steps, what they read
and write)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from bot.app import create_app
from bot.workflow.costs import Line, Sent
from handlers.interaction import Step
from handlers.routes import Routes
from handlers.services import Services
from handlers.workflow.ids import STEP_PARAMETERS, Callback
from store.domain.plan import FeatureKey
from store.domain.upgrades import UpgradeKind

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


# -- Workflow Builder steps ------------------------------------------------------------------------------


def test_workflow_steps_need_their_event_and_settings() -> None:
    """Custom steps need the `function_executed` event, an org-ready app and a remote function runtime."""
    settings = MANIFEST["settings"]
    assert "function_executed" in settings["event_subscriptions"]["bot_events"]
    assert settings["function_runtime"] == "remote"
    assert settings["org_deploy_enabled"] is True


def test_every_step_the_app_listens_for_is_declared_and_every_declared_step_is_listened_for(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: list[str] = []
    register = Routes.function

    def noting(routes: Routes, callback_id: str, step: Step) -> None:
        registered.append(callback_id)
        register(routes, callback_id, step)

    monkeypatch.setattr(Routes, "function", noting)
    create_app(services)
    assert sorted(registered) == sorted(MANIFEST["functions"])
    assert set(registered) == set(Callback)


@pytest.mark.parametrize("step", list(Callback))
def test_each_steps_parameters_are_the_ones_it_reads_and_writes(step: Callback) -> None:
    definition = MANIFEST["functions"][step]
    inputs, outputs = STEP_PARAMETERS[step]
    assert definition["title"]
    assert set(definition["input_parameters"]) == (set(inputs) if inputs else set())
    assert set(definition["output_parameters"]) == set(outputs)
    for kind in ("input_parameters", "output_parameters"):
        for name, spec in definition[kind].items():
            assert spec["name"] == name
            assert spec["type"]
            assert spec["title"]
            assert isinstance(spec["is_required"], bool)
            if "enum" in spec:
                assert [choice["value"] for choice in spec["choices"]] == spec["enum"]


def test_the_steps_choices_are_the_ones_the_app_takes() -> None:
    upgrade = MANIFEST["functions"][Callback.UPGRADE_REQUEST]["input_parameters"]
    assert upgrade["requested_by"]["type"] == "slack#/types/user_context"  # the builder cannot set it
    assert upgrade["kind"]["enum"] == [kind.value for kind in UpgradeKind]
    assert upgrade["feature"]["enum"] == [feature.value for feature in FeatureKey]
    estimate = MANIFEST["functions"][Callback.COST_ESTIMATE]["input_parameters"]
    assert estimate["kind"]["enum"] == [sent.value for sent in Sent]
    assert estimate["line"]["enum"] == list(get_args(Line))
