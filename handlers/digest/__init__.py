"""The weekly digest in Slack: its message (`views`), and posting it once per week (`service`)."""
