"""Helpers shared by the tests: the Slack driver, alerting, installs, the API client, databases."""
