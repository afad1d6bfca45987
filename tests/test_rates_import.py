"""`myplan import-rates` / `export-rates` as real subprocesses, and the change announcements they post."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo import DEMO_ACCOUNT, demo_document
from bot.devtools.fake_slack import FakeSlack
from bot.rates import HEADER_LINE, RateFileError, RateRow, sample_rows, to_csv
from bot.settings import Settings
from handlers.rates.announce import import_rates
from handlers.slack_clients import SlackClients, single_client
from store import Store
from tests.support.alerting import set_alerts_channel
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import all_text

pytestmark = pytest.mark.usefixtures("backend")

CANONICAL = "\n".join(
    [
        HEADER_LINE,
        "852,HK,Hong Kong,0.0100,0.0250,0.0400",
        '82,KR,"Korea, Republic of",0.01,1.5,0',
        "44,GB,United Kingdom,0.0249,0.0547,0.0414",
        '1,US,"United States ""mainland""",0.005,0.0065,0.036',
        "",
    ]
)
BAD = "\n".join(
    [
        HEADER_LINE,
        "852,HK,Hong Kong,0.0100,0.0250,0.0400",  # 2: fine
        "+44,GB,United Kingdom,0.01,0.02,0.03",  # 3: dial code
        "44,ZZ,Nowhere,-0.01,0.02,0.03",  # 4: unknown ISO code, negative rate
        "852,HK,Hong Kong again,0.01,0.02,0.03",  # 5: duplicate destination
        "1,US,United States,0.01,0.02,0.123456",  # 6: too many decimal places
        "",
    ]
)


def myplan(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
        check=False,
    )


async def amyplan(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """The CLI in a subprocess without blocking the event loop (the fake Slack must keep answering)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


@pytest.fixture
def env(database_url: str, store: Store) -> dict[str, str]:
    """The CLI's environment over the test database (`store` empties it first on PostgreSQL)."""
    return {
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "SLACK_BOT_TOKEN": "",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing listens: any Slack call would fail loudly
    }


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize("command", ["import-rates", "export-rates"])
def test_help(command: str, env: dict[str, str]) -> None:
    result = myplan(command, "--help", env=env)
    assert result.returncode == 0
    assert b"Usage:" in result.stdout


def test_import_then_export_is_byte_identical(env: dict[str, str], tmp_path: Path) -> None:
    source = write(tmp_path, "rates.csv", CANONICAL)
    imported = myplan("import-rates", str(source), "--effective-date", "2026-12-01", env=env)
    assert imported.returncode == 0, imported.stderr
    assert (
        b"imported rate table version 1: 4 destinations, effective 2026-12-01, label 'rates.csv'"
        in imported.stdout
    )

    exported = myplan("export-rates", env=env)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == source.read_bytes()
    out = tmp_path / "out.csv"
    assert myplan("export-rates", "-o", str(out), env=env).returncode == 0
    assert out.read_bytes() == source.read_bytes()

    again = myplan("import-rates", str(source), "--effective-date", "2026-12-01", env=env)
    assert b"already has exactly these rates: nothing imported" in again.stdout


def test_the_sample_table_round_trips_too(env: dict[str, str], tmp_path: Path) -> None:
    assert myplan("demo", env=env).returncode == 0
    exported = myplan("export-rates", env=env).stdout
    assert exported == to_csv(sample_rows()).encode()
    source = write(tmp_path, "sample.csv", exported.decode())
    assert myplan("import-rates", str(source), "--label", "copy", env=env).returncode == 0
    assert myplan("export-rates", env=env).stdout == exported


def test_a_bad_file_is_rejected_whole_with_every_line_and_reason(env: dict[str, str], tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", CANONICAL)
    assert myplan("import-rates", str(good), env=env).returncode == 0

    result = myplan("import-rates", str(write(tmp_path, "bad.csv", BAD)), env=env)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "bad.csv was rejected, nothing was imported (5 problems)" in stderr
    for expected in (
        "line 3: dial_code '+44' must be 1–4 digits",
        "line 4: iso_code 'ZZ' is not a known ISO 3166-1 alpha-2 code",
        "line 4: landline_per_min '-0.01' is negative",
        "line 5: duplicate destination HK (first on line 2)",
        "line 6: sms_per_message '0.123456' has more than 4 decimal places",
    ):
        assert expected in stderr, stderr
    assert "Traceback" not in stderr
    # Nothing of the bad file was stored: the good table is still the current one, unchanged.
    assert myplan("export-rates", env=env).stdout == good.read_bytes()


def test_a_file_that_is_not_utf8_or_empty_is_one_clear_line(env: dict[str, str], tmp_path: Path) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(CANONICAL.replace("Hong Kong", "Hông Kong").encode("latin-1"))
    result = myplan("import-rates", str(latin), env=env)
    assert result.returncode == 1
    assert b"is not UTF-8 text" in result.stderr
    empty = myplan("import-rates", str(write(tmp_path, "empty.csv", "")), env=env)
    assert empty.returncode == 1
    assert b"line 1: the file is empty" in empty.stderr


def test_export_without_a_table_says_so(env: dict[str, str]) -> None:
    result = myplan("export-rates", env=env)
    assert result.returncode == 1
    assert b"no rate table has been imported yet" in result.stderr
    assert b"there is no rate table version 7" in myplan("export-rates", "--version", "7", env=env).stderr


def test_a_second_import_reports_the_changes_and_keeps_the_first(env: dict[str, str], tmp_path: Path) -> None:
    first = write(tmp_path, "v1.csv", CANONICAL)
    assert myplan("import-rates", str(first), env=env).returncode == 0
    changed = (
        CANONICAL.replace("0.0249,0.0547", "0.0300,0.0547")
        .replace("82,KR", "81,JP")
        .replace("Korea, Republic of", "Japan")
    )
    result = myplan("import-rates", str(write(tmp_path, "v2.csv", changed)), env=env)
    assert result.returncode == 0, result.stderr
    assert b"changes from version 1: 1 added, 1 removed, 1 rates up, 0 down" in result.stdout
    assert myplan("export-rates", "--version", "1", env=env).stdout == first.read_bytes()


def test_demo_keeps_an_imported_table(env: dict[str, str], tmp_path: Path) -> None:
    assert myplan("import-rates", str(write(tmp_path, "real.csv", CANONICAL)), env=env).returncode == 0
    result = myplan("demo", env=env)
    assert result.returncode == 0
    assert b"kept the imported rate table (version 1, 'real.csv')" in result.stdout


# -- change announcements -----------------------------------------------------------------------------------


async def test_the_cli_announces_changes_in_the_alerts_channel(
    env: dict[str, str], demo: Store, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0ALERTS")
    # The demo's sample table is current; a real table replaces it with higher UK and HK rates.
    uk, hk = (next(r for r in sample_rows() if r.iso_code == code) for code in ("GB", "HK"))
    text = "\n".join(
        [
            HEADER_LINE,
            f"44,GB,United Kingdom,{uk.landline_per_min + Decimal('0.5')},{uk.mobile_per_min},{uk.sms_per_message}",
            f"852,HK,Hong Kong,{hk.landline_per_min + Decimal('0.01')},{hk.mobile_per_min},{hk.sms_per_message}",
            "",
        ]
    )
    slack_env = {**env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake_slack.api_url}
    code, out, err = await amyplan("import-rates", str(write(tmp_path, "real.csv", text)), env=slack_env)
    assert code == 0, err
    assert "announced the changes in 1 alerts channel(s)" in out

    posted = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C0ALERTS")
    message = all_text(posted.params)
    removed = len(sample_rows()) - 2
    assert f"0 destinations added, {removed} removed, 2 rates up, 0 down" in message
    assert "Largest increases" in message
    assert message.index("United Kingdom landline") < message.index("Hong Kong landline"), (
        "biggest rise first"
    )


async def test_the_cli_announces_with_each_workspaces_own_token_when_distributed_by_oauth(
    env: dict[str, str], demo: Store, fake_slack: FakeSlack, settings: Settings, tmp_path: Path
) -> None:
    """No SLACK_BOT_TOKEN in an OAuth deployment: the CLI announces as the API does, with the installation."""
    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0ALERTS")
    oauth = settings.model_copy(
        update={
            "slack_bot_token": None,
            "slack_client_id": "1111.2222",
            "slack_client_secret": SecretStr("s"),
        }
    )
    installations = SlackClients.for_settings(oauth, demo).installations
    assert installations is not None
    await installations.store.async_save(
        Installation(
            app_id="A0APP",
            team_id="T0DEMO",
            user_id="U0DEMOADMIN",
            bot_token="xoxb-installed-demo",
            bot_id="B0BOT",
            bot_user_id="U0BOT",
            bot_scopes=["chat:write"],
        )
    )
    uk = next(r for r in sample_rows() if r.iso_code == "GB")
    text = f"{HEADER_LINE}\n44,GB,United Kingdom,{uk.landline_per_min + 1},{uk.mobile_per_min},{uk.sms_per_message}\n"
    oauth_env = {
        **env,
        "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "s",
        "SLACK_API_URL": fake_slack.api_url,
    }
    code, out, err = await amyplan("import-rates", str(write(tmp_path, "real.csv", text)), env=oauth_env)
    assert code == 0, err
    assert "announced the changes in 1 alerts channel(s)" in out
    posted = await fake_slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C0ALERTS")
    assert posted.token == "xoxb-installed-demo"


async def test_announcements_survive_a_failing_channel_and_skip_non_changes(
    demo: Store, fake_slack: FakeSlack
) -> None:
    await demo.accounts.upsert("other", demo_document(DEMO_NOW).model_copy(update={"company_name": "Other"}))
    await demo.workspaces.link("T0OTHER", "other")
    await set_alerts_channel(demo, DEMO_ACCOUNT, "C0GONE")
    await set_alerts_channel(demo, "other", "C0OTHER")
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    client_for = single_client(AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url))
    cheaper = [row.model_copy(update={"sms_per_message": Decimal(0)}) for row in sample_rows()]

    outcome = await import_rates(
        demo, cheaper, effective_date=date(2026, 12, 1), label="sms free", client_for_team=client_for
    )
    assert [(t.channel, reason) for t, reason in outcome.failed] == [("C0GONE", "channel_not_found")]
    assert [t.channel for t in outcome.announced] == ["C0OTHER"]
    assert "rates up" in all_text(fake_slack.calls_to("chat.postMessage")[-1].params)

    again = await import_rates(
        demo, cheaper, effective_date=date(2026, 12, 1), label="sms free", client_for_team=client_for
    )
    assert not again.imported.created
    assert again.announced == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_rows_from_elsewhere_are_checked_before_anything_is_stored(demo: Store) -> None:
    version = await demo.rates.current_version()
    duplicate = RateRow(
        dial_code="44",
        iso_code="GB",
        destination="Britain",
        landline_per_min=Decimal("0.01"),
        mobile_per_min=Decimal("0.02"),
        sms_per_message=Decimal("0.03"),
    )
    with pytest.raises(RateFileError, match="duplicate destination GB"):
        await import_rates(
            demo,
            [*sample_rows(), duplicate],
            effective_date=date(2026, 12, 1),
            label="x",
            client_for_team=None,
        )
    assert await demo.rates.current_version() == version
