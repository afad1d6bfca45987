"""`/plan SUBCOMMAND …`: each capability module registers its own subcommands here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from bot.tenant import Tenant, tenant_of
from bot.views.common import Message
from bot.views.notices import help_message


@dataclass(frozen=True)
class CommandRequest:
    """A parsed slash command, with what a subcommand needs to answer it."""

    args: str
    user_id: str
    channel_id: str
    trigger_id: str
    tenant: Tenant
    client: AsyncWebClient
    respond: AsyncRespond
    services: Services

    async def reply(self, message: Message) -> None:
        await self.respond(**message.as_response())


Subcommand = Callable[[CommandRequest], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    name: str
    usage: str
    summary: str
    run: Subcommand


class PlanCommands:
    """Routes `/plan` text to subcommands; an empty text is the default, unknown text gets help."""

    DEFAULT = ""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._routes: dict[str, Route] = {}

    def subcommand(self, name: str, *, usage: str, summary: str) -> Callable[[Subcommand], Subcommand]:
        def register(run: Subcommand) -> Subcommand:
            self._routes[name] = Route(name, usage, summary, run)
            return run

        return register

    def help(self, unknown: str | None = None) -> Message:
        return help_message([(r.usage, r.summary) for r in self._routes.values()], unknown=unknown)

    async def dispatch(self, args: AsyncArgs) -> None:
        """Run the subcommand named by the command's first word (the ack has been sent)."""
        command = args.command or {}
        name, _, rest = command.get("text", "").strip().partition(" ")
        request = CommandRequest(
            args=rest.strip(),
            user_id=command["user_id"],
            channel_id=command.get("channel_id", ""),
            trigger_id=command.get("trigger_id", ""),
            tenant=tenant_of(args.context),
            client=args.client,
            respond=args.respond,
            services=self._services,
        )
        route = self._routes.get(name.lower())
        if route is None:
            await request.reply(self.help(unknown=name or None))
            return
        await route.run(request)
