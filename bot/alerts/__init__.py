"""Quota alerts: threshold crossings and run-out forecasts, posted once each through an outbox.

- ``rules``: which thresholds a reading crosses, snoozes, retry backoff (pure)
- ``forecast``: least-squares run-out forecasts (pure)
- ``chart``: burn-down charts (PNG, matplotlib)
- ``delivery``: one classified attempt at posting, the lost-outcome lookup, per-channel pacing
- ``service``: `AlertService` — evaluation, `on_usage`, the delivery loop, the worker
"""
