"""The service's Prometheus metrics, defined once, for every layer that counts something.

Each process keeps its own (prometheus_client's default registry): the web server answers them at
`GET /metrics` (with `METRICS_TOKEN`), a worker on `--metrics-port`. Prometheus scrapes each process and
sums. The database's own figures (outbox depth and age, failing accounts, the last worker pass) are read
when the web server is scraped (`bot.metrics_page`).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Final

import aiohttp
from prometheus_client import Counter, Gauge, Histogram

SLACK_REQUESTS: Final = Counter(
    "myplan_slack_requests_total", "Requests from Slack, by surface and HTTP status", ["surface", "status"]
)
ACK_SECONDS: Final = Histogram(
    "myplan_slack_ack_seconds",
    "Time from a Slack request's arrival to its answer (the ack), by surface",
    ["surface"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
WEB_API_CALLS: Final = Counter(
    "myplan_slack_api_calls_total",
    "Slack Web API calls, by method and outcome (HTTP status, or unreachable)",
    ["method", "outcome"],
)
ALERTS: Final = Counter(
    "myplan_alerts_total",
    "Quota alerts by event: accounts evaluated, alerts claimed, posted, retried, failed",
    ["event"],
)
INGEST_REQUESTS: Final = Counter(
    "myplan_ingest_requests_total", "Ingest API requests, by endpoint and HTTP status", ["endpoint", "status"]
)
OUTBOX_DUE: Final = Gauge("myplan_outbox_due", "Alerts due now and not yet posted, by outbox", ["outbox"])
OUTBOX_OLDEST_DUE_SECONDS: Final = Gauge(
    "myplan_outbox_oldest_due_seconds", "Age of the oldest alert due, by outbox (0: none due)", ["outbox"]
)
OUTBOX_FAILED_LAST_DAY: Final = Gauge(
    "myplan_outbox_failed_last_day", "Alerts claimed in the last day that failed, by outbox", ["outbox"]
)
FAILING_ACCOUNTS: Final = Gauge("myplan_failing_accounts", "Accounts whose alert evaluation fails")
LAST_PASS: Final = Gauge(
    "myplan_worker_last_pass_timestamp_seconds", "When a worker last finished an evaluation pass (Unix time)"
)
LAST_PRUNE: Final = Gauge(
    "myplan_last_prune_timestamp_seconds", "When a worker last began its daily retention prune (Unix time)"
)


def counted_session() -> aiohttp.ClientSession:
    """The kept-alive session Web API calls share, each call counted (`myplan_slack_api_calls_total`)."""
    return aiohttp.ClientSession(trace_configs=[web_api_trace()])


def web_api_trace() -> aiohttp.TraceConfig:
    """Counts every Web API call made over a session built with it (bolt's clients share that session)."""
    trace = aiohttp.TraceConfig()

    async def ended(
        _: aiohttp.ClientSession, __: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        if (method := _method(str(params.url))) is not None:
            WEB_API_CALLS.labels(method, str(params.response.status)).inc()

    async def failed(
        _: aiohttp.ClientSession, __: SimpleNamespace, params: aiohttp.TraceRequestExceptionParams
    ) -> None:
        if (method := _method(str(params.url))) is not None:
            WEB_API_CALLS.labels(method, "unreachable").inc()

    trace.on_request_end.append(ended)
    trace.on_request_exception.append(failed)
    return trace


def _method(url: str) -> str | None:
    """`chat.postMessage` from `https://slack.com/api/chat.postMessage`; None for other URLs."""
    _, found, method = url.partition("/api/")
    return method.split("?")[0][:64] if found and method else None
