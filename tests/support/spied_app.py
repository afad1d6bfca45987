"""The real app with a spy middleware (after ours) noting each request that reaches the listeners."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.server import create_web_app
from handlers.services import Services
from tests.support.installs import Http

Note = Callable[[dict[str, Any]], str]
"""What the spy writes down of a request's body."""


async def spied_app(services: Services, note: Note) -> AsyncIterator[tuple[Http, list[str]]]:
    """The app on a loopback port, and the notes of what reached its listeners (in order)."""
    bolt = create_app(services)
    dispatched: list[str] = []

    @bolt.middleware
    async def spy(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        dispatched.append(note(body))
        await next()

    http = TestClient(TestServer(create_web_app(services, bolt)))
    await http.start_server()
    yield http, dispatched
    await http.close()
