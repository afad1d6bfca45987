"""Structured logs: `LOG_FORMAT=json` lines carry the request's id, workspace, account and surface, and no
request body; the ingest API answers each request's id."""

from __future__ import annotations

import contextvars
import json
import logging

import pytest
from aiohttp.test_utils import TestClient

from bot import logs
from bot.core import log_context
from bot.devtools.fake_slack import FakeSlack
from tests.support.apiclient import IngestApi
from tests.support.slackdriver import STAFF, SlackDriver

pytestmark = pytest.mark.usefixtures("demo")


async def test_a_slash_commands_log_line_names_its_request_workspace_and_account(
    slack: SlackDriver, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="handlers.errors")
    reply = await slack.command("upgrade secret-words-from-the-body", user=STAFF)  # not an administrator
    await slack.reply_to(reply)
    (record,) = [r for r in caplog.records if r.getMessage().startswith("told the user")]
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["level"] == "INFO"
    assert line["logger"] == "handlers.errors"
    assert (line["workspace"], line["account"], line["surface"]) == ("T0DEMO", "demo", "command:/plan")
    assert len(line["request_id"]) == 32
    assert "secret-words-from-the-body" not in json.dumps(line), "no request body"


async def test_the_api_answers_each_requests_id(http: TestClient) -> None:  # type: ignore[type-arg]
    api = IngestApi(http)
    given = await api.call("GET", "/accounts/demo", headers={"X-Request-Id": "platform-123"})
    assert given.headers["X-Request-Id"] == "platform-123"
    made = await api.call("GET", "/accounts/demo", headers={"X-Request-Id": "not\tsane" * 20})
    assert made.headers["X-Request-Id"] != "not\tsane" * 20
    assert len(made.headers["X-Request-Id"]) == 32


def test_json_lines_are_one_object_each_and_debug_keeps_bodies_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in logs.QUIET_AT_DEBUG}
    try:
        logs.configure("DEBUG", "json")

        def emit() -> None:  # in a context of its own: the binding ends with it
            log_context.bind(request_id="r1", workspace="T0DEMO")
            logging.getLogger("myplan.test").warning("two\nlines")
            logging.getLogger("slack_sdk.web.async_base_client").debug("Sending a request: body_params={...}")

        contextvars.copy_context().run(emit)
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1
        line = json.loads(err[0])
        assert (line["message"], line["request_id"], line["workspace"]) == ("two\nlines", "r1", "T0DEMO")
    finally:
        handlers, level, levels = saved
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, kept in levels.items():
            logging.getLogger(name).setLevel(kept)
