"""`myplan status`: the operator's one screen, and an exit code a monitor can act on (real subprocess, real
database)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert

from bot.demo import DEMO_ACCOUNT
from store import Store
from store.clock import utcnow
from store.domain.alerts import AlertKind, AlertStatus
from store.status import EVALUATION_PASS, PRUNE_PASS
from store.tables import SLACK_BOTS, AlertEvaluationFailureRow, AlertRow
from tests.test_cli import env, myplan  # noqa: F401  (`env` is a fixture)

pytestmark = pytest.mark.usefixtures("demo")


async def test_all_well_says_so_and_exits_0(store: Store, env: dict[str, str]) -> None:  # noqa: F811
    await store.status.record_pass(EVALUATION_PASS, utcnow())
    await store.status.record_pass(PRUNE_PASS, utcnow())
    done = myplan("status", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all well" in done.stdout
    assert "accounts        1: 1 linked, 1 without an alerts channel" in done.stdout


async def test_a_failing_account_a_late_alert_and_an_expiring_token_need_attention(
    store: Store,
    env: dict[str, str],  # noqa: F811
) -> None:
    now = utcnow()
    async with store.db.session() as session:
        session.add(
            AlertEvaluationFailureRow(
                account_id=DEMO_ACCOUNT,
                failures=3,
                last_error="ValueError: a reading from before the bounds",
                first_failed_at=now - timedelta(hours=2),
                last_failed_at=now - timedelta(minutes=5),
                retry_at=now + timedelta(minutes=10),
            )
        )
        session.add(_due_alert(now - timedelta(minutes=20)))
        await session.execute(
            insert(SLACK_BOTS).values(
                client_id="111.222",
                app_id="A0MYPLAN",
                team_id="T0DEMO",
                bot_token="xoxe.xoxb-1",
                bot_id="B0BOT",
                bot_user_id="U0BOT",
                bot_token_expires_at=(now + timedelta(hours=3)).replace(tzinfo=None),
                is_enterprise_install=False,
                installed_at=now.replace(tzinfo=None),
            )
        )
    text = myplan("status", env=env)
    assert text.returncode == 1, text.stdout + text.stderr
    assert "failing       demo: 3 failure(s)" in text.stdout
    assert "ValueError: a reading from before the bounds" in text.stdout
    assert "alerts          due 1 (oldest 20 min)" in text.stdout
    assert "expiring within a day 1" in text.stdout
    assert "no worker pass yet" in text.stdout

    as_json = myplan("status", "--json", env=env)
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert [f["account_id"] for f in document["failing"]] == [DEMO_ACCOUNT]
    assert document["alerts"]["due"] == 1
    assert document["installations"]["expiring_within_a_day"] == 1
    assert document["database"]["revision"] == document["database"]["head"]
    assert len(document["attention"]) == 3, document["attention"]  # failing, alert due since, no pass


def _due_alert(due_at: object) -> AlertRow:
    return AlertRow(
        account_id=DEMO_ACCOUNT,
        meter="voice_minutes",
        kind=AlertKind.THRESHOLD.value,
        threshold=80,
        period_start=date(2026, 11, 2),
        period_end=date(2026, 12, 2),
        used=Decimal(4000),
        available=Decimal(5000),
        unit="min",
        as_of=due_at,
        status=AlertStatus.PENDING.value,
        attempts=0,
        next_attempt_at=due_at,
        created_at=due_at,
    )
