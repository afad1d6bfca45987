"""`myplan try "/plan …"`: a signed slash command through the real app, answered by a local fake Slack.

Lets a newcomer see the bot work without a Slack workspace.
"""

from __future__ import annotations

import asyncio
import secrets
import time

import aiohttp
from aiohttp import web
from pydantic import AnyHttpUrl, SecretStr

from bot.app import create_app
from bot.devtools.fake_slack import FakeSlack, RecordedCall
from bot.devtools.render import builder_link, render_blocks
from bot.devtools.signing import signed_headers, slash_command_body
from bot.server import create_web_app
from bot.settings import Settings
from handlers.services import Services
from store import Store

TRY_SECRET = "try-signing-secret"


async def try_slash_command(settings: Settings, command_text: str, *, team_id: str, user_id: str) -> str:
    command, _, text = command_text.strip().partition(" ")
    async with FakeSlack() as slack:
        trial = settings.model_copy(
            update={
                "slack_signing_secret": SecretStr(TRY_SECRET),
                "slack_bot_token": SecretStr("xoxb-try"),
                "slack_app_token": None,
                "slack_client_id": None,  # single-workspace mode, whatever the real configuration
                "slack_client_secret": None,
                "slack_api_url": AnyHttpUrl(slack.api_url),
                # The ingest API is not used here: a throwaway token keeps its "not set" warning off the reply.
                "ingest_token": SecretStr(secrets.token_urlsafe()),
            }
        )
        services = Services.build(trial, Store.from_url(trial.database_url))
        runner = web.AppRunner(create_web_app(services, create_app(services)), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            body = slash_command_body(
                command, text, team_id=team_id, user_id=user_id, response_url=slack.new_response_url()
            )
            started = time.perf_counter()
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://{host}:{port}/slack/events", data=body, headers=signed_headers(TRY_SECRET, body)
                ) as response,
            ):
                acked_ms = (time.perf_counter() - started) * 1000
                status = response.status
            reply = await _first_answer(slack)
        finally:
            await runner.cleanup()
            await services.store.close()
        view = reply.params.get("view") or {}
        blocks = reply.params.get("blocks") or view.get("blocks") or []
        title = f"[modal: {view['title']['text']}]\n" if view.get("title") else ""
        return "\n".join(
            [
                f"{command_text}  →  HTTP {status}, acked in {acked_ms:.0f} ms (workspace {team_id}, user {user_id})",
                "",
                title + (render_blocks(blocks) if blocks else str(reply.params.get("text", ""))),
                "",
                f"See it as Slack shows it: {builder_link(blocks)}",
            ]
        )


async def _first_answer(slack: FakeSlack) -> RecordedCall:
    """The reply to the command: a message to its response_url, or a modal it opened."""
    waits = [
        asyncio.create_task(slack.wait_for(method, timeout=10)) for method in ("response_url", "views.open")
    ]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return done.pop().result()
