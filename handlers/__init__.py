"""Thin Slack listeners, one module per capability."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import ack_then
from bot.services import Services
from handlers import alerts, company, features, home, installation, linking, plan, rates, upgrade
from handlers.home import HomeTabs
from handlers.router import PlanCommands


def register_all(app: AsyncApp, services: Services) -> None:
    commands = PlanCommands(services)
    tabs = HomeTabs(services)
    plan.register(app, services, commands, tabs)
    company.register(app, commands, tabs, services)
    features.register(app, services)
    upgrade.register(app, services, commands)
    linking.register(commands)
    rates.register(app, commands, tabs, services)
    alerts.register(app, commands, services)
    home.register(app, tabs)
    installation.register(app, services)
    app.command("/plan")(ack_then(commands.dispatch))
