"""A bare bolt AsyncApp for comparison: it acks and sends one static reply, with the same Slack I/O
as ours (response_url for commands, views.publish for Home events and actions, chat.postMessage after
a view submission) and none of our work."""

from __future__ import annotations

import os
import re

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.web.async_client import AsyncWebClient

STATIC_VIEW = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}]}


def build() -> web.Application:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)

    async def command(args: AsyncArgs) -> None:
        await args.ack()
        await args.respond(text="Static reply")

    async def publish(args: AsyncArgs) -> None:
        await args.ack()
        body = args.body or {}
        user = (args.event or {}).get("user") or body.get("user", {}).get("id")
        await args.client.views_publish(user_id=user, view=STATIC_VIEW)

    async def submission(args: AsyncArgs) -> None:
        await args.ack()
        await args.client.chat_postMessage(channel=(args.body or {})["user"]["id"], text="Static reply")

    app.command(re.compile(r"^/(plan|rates)$"))(command)
    app.event("app_home_opened")(publish)
    app.action(re.compile(r".*"))(publish)
    app.view(re.compile(r".*"))(submission)
    return app.web_app(path="/slack/events")


if __name__ == "__main__":
    web.run_app(build(), host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)
