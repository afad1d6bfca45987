"""Thin Slack listeners, one module per capability."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import ack_then
from bot.services import Services
from handlers import plan
from handlers.router import PlanCommands


def register_all(app: AsyncApp, services: Services) -> PlanCommands:
    commands = PlanCommands(services)
    plan.register(commands)
    app.command("/plan")(ack_then(commands.dispatch))
    return commands
