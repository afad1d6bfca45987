"""Block Kit view builders: pure functions from domain objects to Slack messages and views."""
