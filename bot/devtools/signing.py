"""Build inbound Slack requests (bodies and signed headers) exactly as Slack sends them.

Used by the test-suite and by ``myplan try`` to drive the app over HTTP:

    body = slash_command_body("/myplan", "usage", team_id="T0DEMO", user_id="U1", response_url=url)
    headers = signed_headers(SIGNING_SECRET, body)
    await http.post("/slack/events", data=body, headers=headers)

Payload builders return plain dicts, so a test can tweak any field before encoding it.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

# Identifiers of the app/bot as the fake workspace knows them (shared with ``fake_slack``).
APP_ID = "A0MYPLAN"
BOT_ID = "B0MYPLAN"
BOT_USER_ID = "U0MYPLANBOT"
# The deprecated "verification token" Slack still puts in every payload.
VERIFICATION_TOKEN = "legacy-verification-token"
DEFAULT_CHANNEL_ID = "C0GENERAL"
DEFAULT_MESSAGE_TS = "1700000000.000100"

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


def signed_headers(
    signing_secret: str,
    body: str | bytes,
    *,
    timestamp: int | None = None,
    content_type: str = FORM_CONTENT_TYPE,
) -> dict[str, str]:
    """Headers Slack sends with a request: timestamp, ``v0=`` HMAC-SHA256 signature and Content-Type.

    The signature covers ``v0:{timestamp}:{body}``; pass the exact body that will be sent.
    Use ``content_type=JSON_CONTENT_TYPE`` for Events API bodies.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    if signature is None:  # only happens without a timestamp; keeps the type checker honest
        raise ValueError("could not sign the request")
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


def _team_domain(team_id: str) -> str:
    return f"team-{team_id.lower()}"


def slash_command_body(
    command: str,
    text: str,
    *,
    team_id: str,
    user_id: str,
    response_url: str,
    channel_id: str = DEFAULT_CHANNEL_ID,
    user_name: str = "someone",
    trigger_id: str = "trigger.1",
    enterprise_id: str | None = None,
    channel_name: str = "general",
    api_app_id: str = APP_ID,
) -> str:
    """Form-urlencoded body of a slash command invocation, with every field Slack sends."""
    fields: dict[str, str] = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": _team_domain(team_id),
    }
    if enterprise_id is not None:
        fields["enterprise_id"] = enterprise_id
        fields["enterprise_name"] = f"Enterprise {enterprise_id}"
    fields.update(
        {
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel_id.startswith("D") else channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )
    return urlencode(fields)


def interactive_body(payload: dict[str, Any]) -> str:
    """Form-urlencoded ``payload=<json>`` body used for block_actions, view_submission, shortcuts..."""
    return urlencode({"payload": json.dumps(payload)})


def new_event_id() -> str:
    """A fresh, unique Events API ``event_id`` (``Ev`` + 10 characters, like Slack's)."""
    return "Ev" + secrets.token_hex(5).upper()


def event_body(
    event: dict[str, Any],
    *,
    team_id: str,
    event_id: str | None = None,
    api_app_id: str = APP_ID,
    event_time: int | None = None,
    bot_user_id: str = BOT_USER_ID,
    enterprise_id: str | None = None,
) -> str:
    """JSON body of an Events API ``event_callback`` envelope wrapping ``event``.

    ``event_id`` defaults to a fresh unique id; pass the same id twice to simulate a Slack retry.
    """
    envelope: dict[str, Any] = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": enterprise_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id if event_id is not None else new_event_id(),
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_hex(8),
    }
    return json.dumps(envelope)


def function_executed_event(
    callback_id: str,
    inputs: dict[str, Any],
    *,
    definition: dict[str, Any] | None = None,
    function_execution_id: str | None = None,
    bot_access_token: str = "xwfp-test-function-token",
    api_app_id: str = APP_ID,
) -> dict[str, Any]:
    """A ``function_executed`` event: a Workflow Builder step of this app (``callback_id``) run with
    ``inputs``; wrap it with ``event_body``. ``definition`` is the step's entry in the manifest's
    ``functions`` (title, description, parameters), which Slack repeats in the event's ``function``.
    ``bot_access_token`` is the short-lived token Slack gives the step for its Web API calls."""
    definition = definition or {}
    now = int(time.time())

    def parameters(kind: str) -> list[dict[str, Any]]:
        declared = definition.get(kind) or {}
        return [
            {"name": name, **{k: v for k, v in spec.items() if k != "name"}}
            for name, spec in declared.items()
        ]

    return {
        "type": "function_executed",
        "function": {
            "id": "Fn" + secrets.token_hex(5).upper(),
            "callback_id": callback_id,
            "title": definition.get("title", callback_id),
            "description": definition.get("description", ""),
            "type": "app",
            "input_parameters": parameters("input_parameters"),
            "output_parameters": parameters("output_parameters"),
            "app_id": api_app_id,
            "date_created": now,
            "date_updated": now,
            "date_deleted": 0,
        },
        "inputs": inputs,
        "function_execution_id": function_execution_id or "Fx" + secrets.token_hex(5).upper(),
        "workflow_execution_id": "Wx" + secrets.token_hex(5).upper(),
        "event_ts": f"{time.time():.6f}",
        "bot_access_token": bot_access_token,
    }


def _user(team_id: str, user_id: str, user_name: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _team(team_id: str, enterprise_id: str | None) -> dict[str, Any]:
    team: dict[str, Any] = {"id": team_id, "domain": _team_domain(team_id)}
    if enterprise_id is not None:
        team["enterprise_id"] = enterprise_id
    return team


def _enterprise(enterprise_id: str | None) -> dict[str, Any] | None:
    return None if enterprise_id is None else {"id": enterprise_id, "name": f"Enterprise {enterprise_id}"}


def _full_view(team_id: str, api_app_id: str, view: dict[str, Any]) -> dict[str, Any]:
    """A view as Slack sends it inside a payload: `view` completed with defaults (a Home tab)."""
    return {
        "id": "V0FAKE",
        "team_id": team_id,
        "type": "home",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": "h1",
        "external_id": "",
        "app_id": api_app_id,
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
        **view,
    }


def block_actions_payload(
    *,
    team_id: str,
    user_id: str,
    action_id: str,
    value: str | None = None,
    block_id: str = "b",
    response_url: str | None = None,
    view: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
    selected_option: dict[str, Any] | None = None,
    trigger_id: str = "trigger.1",
    action_type: str | None = None,
    channel_id: str = DEFAULT_CHANNEL_ID,
    message_ts: str = DEFAULT_MESSAGE_TS,
    user_name: str = "someone",
    enterprise_id: str | None = None,
    api_app_id: str = APP_ID,
) -> dict[str, Any]:
    """A ``block_actions`` payload for one action (a button, or a select when ``selected_option`` is set).

    Without ``view`` the action comes from a message in ``channel_id`` (container type "message",
    plus ``channel`` and ``message``); with ``view`` it comes from that view (Home tab or modal; the
    given dict is completed with defaults such as id "V0FAKE", hash and empty state).
    """
    action_ts = f"{time.time():.6f}"
    action: dict[str, Any] = {
        "type": action_type or ("static_select" if selected_option is not None else "button"),
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": action_ts,
    }
    if selected_option is not None:
        action["selected_option"] = selected_option
    else:
        action["text"] = {"type": "plain_text", "text": "Button", "emoji": True}
    if value is not None:
        action["value"] = value

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(team_id, user_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "team": _team(team_id, enterprise_id),
        "enterprise": _enterprise(enterprise_id),
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        payload["view"] = _full_view(team_id, api_app_id, view)
        payload["container"] = container or {"type": "view", "view_id": payload["view"]["id"]}
    else:
        payload["container"] = container or {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": "general"}
        if not payload["container"].get("is_ephemeral"):
            payload["message"] = {
                "type": "message",
                "subtype": "bot_message",
                "ts": payload["container"].get("message_ts", message_ts),
                "bot_id": BOT_ID,
                "user": BOT_USER_ID,
                "app_id": api_app_id,
                "team": team_id,
                "text": "",
                "blocks": [],
            }
        payload["state"] = {"values": {}}
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def _state_values(state_values: dict[str, Any]) -> dict[str, Any]:
    """Complete ``{block_id: {action_id: value}}``; a bare string/None becomes a plain_text_input state."""
    values: dict[str, Any] = {}
    for block_id, actions in state_values.items():
        values[block_id] = {
            action_id: (state if isinstance(state, dict) else {"type": "plain_text_input", "value": state})
            for action_id, state in actions.items()
        }
    return values


def view_submission_payload(
    *,
    team_id: str,
    user_id: str,
    callback_id: str,
    state_values: dict[str, Any],
    private_metadata: str = "",
    view_id: str = "V0FAKE",
    hash: str = "h1",  # shadows the builtin on purpose: it is Slack's field name
    blocks: list[dict[str, Any]] | None = None,
    title: str = "My Plan",
    external_id: str = "",
    previous_view_id: str | None = None,
    root_view_id: str | None = None,
    response_urls: list[dict[str, Any]] | None = None,
    trigger_id: str = "trigger.1",
    user_name: str = "someone",
    enterprise_id: str | None = None,
    api_app_id: str = APP_ID,
) -> dict[str, Any]:
    """A ``view_submission`` payload for a modal.

    ``state_values`` is Slack's ``view.state.values`` (``{block_id: {action_id: {...}}}``); as a
    shortcut a leaf may be a plain string (or None), meaning a ``plain_text_input`` with that value.
    """
    return {
        "type": "view_submission",
        "team": _team(team_id, enterprise_id),
        "user": _user(team_id, user_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks if blocks is not None else [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": _state_values(state_values)},
            "hash": hash,
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": api_app_id,
            "external_id": external_id,
            "app_installed_team_id": team_id,
            "bot_id": BOT_ID,
        },
        "response_urls": response_urls if response_urls is not None else [],
        "is_enterprise_install": False,
        "enterprise": _enterprise(enterprise_id),
    }


def block_suggestion_payload(
    *,
    team_id: str,
    user_id: str,
    action_id: str,
    value: str,
    block_id: str = "b",
    view: dict[str, Any] | None = None,
    user_name: str = "someone",
    enterprise_id: str | None = None,
    api_app_id: str = APP_ID,
) -> dict[str, Any]:
    """A ``block_suggestion`` payload: what Slack sends an options listener as someone types into an
    ``external_select`` (``value`` is what they have typed so far). Defaults to a select in the Home tab."""
    full_view = _full_view(team_id, api_app_id, view or {})
    return {
        "type": "block_suggestion",
        "user": _user(team_id, user_id, user_name),
        "container": {"type": "view", "view_id": full_view["id"]},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": _team(team_id, enterprise_id),
        "enterprise": _enterprise(enterprise_id),
        "is_enterprise_install": False,
        "view": full_view,
    }


def shortcut_payload(
    *,
    team_id: str,
    user_id: str,
    callback_id: str,
    trigger_id: str = "trigger.1",
    user_name: str = "someone",
    enterprise_id: str | None = None,
    api_app_id: str = APP_ID,
) -> dict[str, Any]:
    """A global ``shortcut`` payload (the lightning-bolt menu), as Slack sends it."""
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": _team(team_id, enterprise_id),
        "user": _user(team_id, user_id, user_name),
        "api_app_id": api_app_id,
        "is_enterprise_install": False,
        "enterprise": _enterprise(enterprise_id),
        "callback_id": callback_id,
        "trigger_id": trigger_id,
    }


def url_verification_body(challenge: str) -> str:
    """JSON body of the Events API's ``url_verification`` handshake (answered with the challenge)."""
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})
