"""Linking a Slack workspace to a service account with a one-time code."""
