"""Upgrade and add-on requests without Slack: what a request says in words, and its email to Sales."""
