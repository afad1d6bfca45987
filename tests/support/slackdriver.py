"""Drives the app as Slack would: signed requests in, replies read from the fake Slack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.signing import (
    block_actions_payload,
    event_body,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)
from handlers.home import TAB_BUTTON, HomeTab, TabChoice

SIGNING_SECRET = "test-signing-secret"
TEAM = "T0DEMO"
ADMIN = "U0DEMOADMIN"
STAFF = "U0STAFF"
HOME_VIEW = {"type": "home", "id": "V0HOME"}


@dataclass
class Reply:
    """An HTTP answer from the app and the response_url it was given."""

    status: int
    body: str
    response_url: str


class SlackDriver:
    def __init__(self, http: TestClient, fake: FakeSlack) -> None:  # type: ignore[type-arg]
        self.http = http
        self.fake = fake

    async def post(
        self, body: str, *, content_type: str = "application/x-www-form-urlencoded", **sign: Any
    ) -> ClientResponse:
        headers = signed_headers(SIGNING_SECRET, body, content_type=content_type, **sign)
        response = await self.http.post("/slack/events", data=body.encode(), headers=headers)
        await response.read()
        return response

    async def command(
        self, text: str, *, command: str = "/plan", team: str = TEAM, user: str = ADMIN
    ) -> Reply:
        response_url = self.fake.new_response_url()
        body = slash_command_body(command, text, team_id=team, user_id=user, response_url=response_url)
        response = await self.post(body)
        return Reply(response.status, await response.text(), response_url)

    async def reply_to(self, reply: Reply, timeout: float = 15.0) -> RecordedCall:
        """The message the app posted to the command's response_url."""
        return await self.fake.wait_for(
            "response_url", where=lambda c: c.url == reply.response_url, timeout=timeout
        )

    async def run(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Send a command, check it was acked, and return the reply's params."""
        reply = await self.command(text, **kwargs)
        assert reply.status == 200, reply.body
        return (await self.reply_to(reply)).params

    async def interact(self, payload: dict[str, Any]) -> ClientResponse:
        return await self.post(interactive_body(payload))

    async def submit(
        self, view: dict[str, Any], state: dict[str, Any], *, user: str = ADMIN, team: str = TEAM
    ) -> ClientResponse:
        """Submit the modal `view` (as the app opened it) with `state` as its `view.state.values`."""
        return await self.interact(submission_of(view, state, user=user, team=team))

    async def click_on_home(
        self, action_id: str, value: str | None = None, *, user: str = ADMIN, **action: Any
    ) -> ClientResponse:
        """A click on the App Home, which carries no response_url (`action`: a select's option, say)."""
        payload = block_actions_payload(
            team_id=TEAM, user_id=user, action_id=action_id, value=value, view=HOME_VIEW, **action
        )
        return await self.interact(payload)

    async def click_tab(self, tab: HomeTab, *, user: str = ADMIN) -> ClientResponse:
        """A click on one of the App Home's tab buttons."""
        return await self.click_on_home(TAB_BUTTON.id(tab.value), TabChoice(tab=tab).encode(), user=user)

    async def event(self, event: dict[str, Any], *, team: str = TEAM) -> ClientResponse:
        return await self.post(event_body(event, team_id=team), content_type="application/json")


def submission_of(
    view: dict[str, Any], state: dict[str, Any], *, user: str = ADMIN, team: str = TEAM
) -> dict[str, Any]:
    """The view_submission of the modal `view` (as the app opened it), its inputs holding `state`."""
    return view_submission_payload(
        team_id=team,
        user_id=user,
        callback_id=view["callback_id"],
        state_values=state,
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
        view_id=view.get("id", "V0FAKE"),
    )


def all_text(params: dict[str, Any]) -> str:
    """Every piece of text in a message or view, for assertions that do not care about layout."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(params.get("blocks") or params.get("view") or [])
    found.append(str(params.get("text", "")))
    return "\n".join(found)
