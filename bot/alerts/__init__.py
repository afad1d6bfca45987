"""Quota alert rules: threshold crossings and run-out forecasts (posting them is the Slack layer's
`handlers.alerts.service`).

- ``rules``: which thresholds a reading crosses, snoozes, retry backoff (pure)
- ``forecast``: least-squares run-out forecasts (pure)
- ``burndown``: one allowance's burn-down and forecast from its readings (for `/plan usage` and alerts)
- ``chart``: burn-down charts (PNG, matplotlib)
- ``notifier``: what the rest of the service asks of alerting (`on_usage`)
- ``local_time``: the account's time zone and quiet hours (`quiet_until`, local-time conversions)
"""
