"""Thin Slack listeners, one module per capability."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import ack_then
from bot.services import Services
from handlers import home, plan, rates
from handlers.home import HomeTabs
from handlers.router import PlanCommands


def register_all(app: AsyncApp, services: Services) -> None:
    commands = PlanCommands(services)
    tabs = HomeTabs(services)
    plan.register(commands, tabs)
    rates.register(app, commands, tabs, services)
    home.register(app, tabs)
    app.command("/plan")(ack_then(commands.dispatch))
