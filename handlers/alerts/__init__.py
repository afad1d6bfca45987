"""Quota alerts in Slack: /plan alerts and /plan usage, the buttons on alert messages, and the outbox that posts them (service, delivery)."""
