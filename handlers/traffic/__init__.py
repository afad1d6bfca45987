"""Traffic by destination in Slack: where the money goes, after `/plan usage` and on the Plan Monitoring tab."""
