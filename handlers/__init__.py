"""Thin Slack listeners, one module per capability."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import ack_then
from bot.services import Services
from handlers import alerts, home, plan
from handlers.home import HomeTabs
from handlers.router import PlanCommands


def register_all(app: AsyncApp, services: Services) -> None:
    commands = PlanCommands(services)
    tabs = HomeTabs(services)
    plan.register(commands, tabs)
    alerts.register(app, commands, services)
    home.register(app, tabs)
    app.command("/plan")(ack_then(commands.dispatch))
