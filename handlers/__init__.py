"""The Slack layer: one package per capability (listeners, views, form parsing) and the shared kit
beside them (routes, interaction, payloads, messages, errors, home, commands, services)."""
