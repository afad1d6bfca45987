"""Licence hygiene in Slack: the section administrators get with `/plan usage`, and the DM before renewal."""
