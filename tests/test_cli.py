"""The operator's CLI, run as a real subprocess against a real database file."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.linking.codes import Linked, redeem_link_code
from store import Store
from store.db import create_engine
from store.migrate import alembic_config, head_revision

pytestmark = pytest.mark.usefixtures("backend")


def myplan(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(database_url: str, store: Store) -> dict[str, str]:
    """The environment of a `myplan` run; `store` empties the database first (PostgreSQL's is shared)."""
    return {"DATABASE_URL": database_url, "PYTHONPATH": str(Path(__file__).parents[1])}


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("serve",),
        ("db", "upgrade"),
        ("demo",),
        ("link",),
        ("unlink",),
        ("link-code",),
        ("accounts",),
        ("accounts", "import"),
        ("accounts", "list"),
        ("accounts", "show"),
        ("admins", "add"),
        ("admins", "remove"),
        ("admins", "list"),
        ("import-rates",),
        ("export-rates",),
        ("digest",),
        ("digest", "send"),
        ("try",),
    ],
)
def test_every_command_has_help(args: tuple[str, ...], env: dict[str, str]) -> None:
    result = myplan(*args, "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_a_malformed_setting_stops_with_one_clear_line(env: dict[str, str]) -> None:
    result = myplan("db", "upgrade", env={**env, "PORT": "eighty"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "myplan: configuration error: PORT: Input should be a valid integer, unable to parse string as an integer"
    ]


def test_serve_without_slack_credentials_names_the_variable(env: dict[str, str]) -> None:
    result = myplan("serve", env={**env, "SLACK_SIGNING_SECRET": "", "SLACK_BOT_TOKEN": ""})
    assert result.returncode != 0
    assert (
        result.stderr == "myplan: configuration error: SLACK_SIGNING_SECRET is not set (see .env.example)\n"
    )


def test_migrate_demo_link_admins_and_try(env: dict[str, str]) -> None:
    assert myplan("db", "upgrade", env=env).returncode == 0
    first = myplan("demo", "--team", "T0ACME", "--admin", "U0BOSS", env=env)
    assert first.returncode == 0, first.stderr
    assert "linked to workspace T0ACME" in first.stdout
    assert myplan("demo", "--team", "T0ACME", "--admin", "U0BOSS", env=env).returncode == 0

    listed = myplan("admins", "list", "demo", env=env)
    assert listed.stdout.split() == ["U0BOSS"]
    assert "now an administrator" in myplan("admins", "add", "demo", "U0SECOND", env=env).stdout
    assert "already" in myplan("admins", "add", "demo", "U0SECOND", env=env).stdout
    assert "removed" in myplan("admins", "remove", "demo", "U0SECOND", env=env).stdout

    assert myplan("link", "T0OTHER", "demo", env=env).returncode == 0
    missing = myplan("link", "T0OTHER", "nope", env=env)
    assert missing.returncode != 0
    assert "not found: account 'nope'" in missing.stderr

    tried = myplan("try", "/plan", "--team", "T0OTHER", env=env)
    assert tried.returncode == 0, tried.stderr
    assert "HTTP 200" in tried.stdout
    assert "BUSINESS" in tried.stdout
    assert "block-kit-builder" in tried.stdout


def test_link_code_issues_a_code_a_workspace_admin_can_use(env: dict[str, str], database_url: str) -> None:
    assert myplan("db", "upgrade", env=env).returncode == 0
    assert myplan("demo", env=env).returncode == 0

    issued = myplan("link-code", "demo", env=env)

    assert issued.returncode == 0, issued.stderr
    match = re.search(r"/plan link ([A-Z2-9]{4}-[A-Z2-9]{4})$", issued.stdout.strip())
    assert match is not None, issued.stdout
    assert "works once, until" in issued.stdout
    linked = asyncio.run(_redeem(database_url, match[1]))
    assert linked.account_id == "demo"
    missing = myplan("link-code", "nope", env=env)
    assert missing.returncode != 0
    assert "not found: account 'nope'" in missing.stderr


async def _redeem(database_url: str, code: str) -> Linked:
    store = Store.from_url(database_url)
    try:
        return await redeem_link_code(store, team_id="T0NEWCO", user_id="U0BOSS", text=code)
    finally:
        await store.close()


SQLITE_MISSING = (
    "myplan: database missing: SQLite cannot open the database file: create its folder, or point DATABASE_URL "
    "elsewhere\n"
)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite+aiosqlite:///{tmp}/missing/dir/x.db", SQLITE_MISSING),
        (
            "postgresql://postgres@127.0.0.1:1/x",
            "myplan: database unreachable: [Errno 111] Connect call failed ('127.0.0.1', 1) (check "
            "DATABASE_URL and that the database server is running)\n",
        ),
    ],
    ids=["sqlite-folder-missing", "server-unreachable"],
)
def test_a_database_missing_or_unreachable_is_one_line_saying_which(
    url: str, said: str, env: dict[str, str], tmp_path: Path
) -> None:
    for args in (("admins", "list", "demo"), ("db", "upgrade")):
        result = myplan(*args, env={**env, "DATABASE_URL": url.format(tmp=tmp_path)})
        assert result.returncode == 1
        assert result.stderr == said


def test_a_postgresql_database_never_created_is_named_with_the_fix(
    env: dict[str, str], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server's answer")
    missing = database_url.rsplit("/", 1)[0] + "/myplan_never_created"
    result = myplan("db", "upgrade", env={**env, "DATABASE_URL": missing})
    assert result.returncode == 1
    assert result.stderr == (
        'myplan: database missing: database "myplan_never_created" does not exist: create it (createdb NAME), '
        "then run myplan db upgrade\n"
    )


def test_db_upgrade_says_what_it_did_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    fresh = {**env, "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db", "LOG_LEVEL": "info"}
    result = myplan("db", "upgrade", env=fresh)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not Alembic's line per migration
    assert result.stdout.startswith("applied ")


def test_help_needs_no_configuration(env: dict[str, str]) -> None:
    broken = {**env, "PORT": "eighty", "SLACK_CLIENT_ID": "1111.2222"}
    for args in ((), ("db", "upgrade"), ("accounts", "import")):
        result = myplan(*args, "--help", env=broken)
        assert result.returncode == 0, result.stderr
        assert "Usage:" in result.stdout


def test_help_loads_neither_the_store_nor_slack(env: dict[str, str]) -> None:
    """What keeps `myplan --help` quick (bench/cli_start.py measures it): nothing heavy is imported."""
    probe = (
        "import sys\nfrom bot.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'slack_sdk', 'slack_bolt', "
        "'pydantic', 'aiohttp', 'matplotlib', 'numpy', 'alembic'})\nprint('heavy:', heavy, file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "--help"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Usage:" in result.stdout
    assert result.stderr == "heavy: []\n"


RATES = "dial_code,iso_code,destination,landline_per_min,mobile_per_min,sms_per_message\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("link", "t0lower", "demo"), "'t0lower' is not a valid Slack workspace (team) id"),
        (("link", "T0OTHER", "no spaces"), "'no spaces' is not a valid account id"),
        (("link-code", "a" * 65), "is not a valid account id"),
        (("admins", "add", "demo", "U0\u2603"), "'U0☃' is not a valid Slack user id"),
        (("demo", "--team", "T0\t"), "is not a valid Slack workspace (team) id"),
        (("import-rates", "{ok}", "--effective-date", "0001-01-01"), "must be from 2000-01-01 to 2099-12-31"),
        (("import-rates", "{ok}", "--label", "two\nlines"), "must not contain control characters"),
        (("import-rates", "{huge}"), "line 2: a cell is longer than 131,072 characters"),
        (("import-rates", "{absurd}"), "line 2: landline_per_min '1E+30' is not a decimal number"),
        (("import-rates", "{dear}"), "line 2: landline_per_min '1000' is too high"),
        (
            ("export-rates", "--version", str(2**31)),
            "is not a valid version number: Input should be less than",
        ),
        (("export-rates", "--version", "x"), "is not a valid version number"),
    ],
    ids=lambda value: value[0] if isinstance(value, tuple) else None,
)
def test_command_line_values_are_held_to_the_bounds(
    args: tuple[str, ...], said: str, env: dict[str, str], tmp_path: Path
) -> None:
    files = {
        "ok": RATES + "44,GB,United Kingdom,0.0100,0.0250,0.0450\n",
        "huge": RATES + f'44,GB,"{"x" * 131_073}",0.01,0.01,0.01\n',
        "absurd": RATES + "44,GB,United Kingdom,1E+30,0.01,0.01\n",
        "dear": RATES + "44,GB,United Kingdom,1000,0.01,0.01\n",
    }
    for name, content in files.items():
        (tmp_path / f"{name}.csv").write_text(content)
    assert myplan("db", "upgrade", env=env).returncode == 0
    result = myplan(*(arg.format(**{n: tmp_path / f"{n}.csv" for n in files}) for arg in args), env=env)
    assert result.returncode != 0
    assert said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "imported rate table" not in result.stdout


EXAMPLE = Path(__file__).parents[1] / "examples" / "account.json"


def test_accounts_import_list_show_and_import_back(env: dict[str, str]) -> None:
    assert (
        myplan("accounts", "list", env=env).stdout
        == "no accounts yet (myplan accounts import FILE.json creates them)\n"
    )

    imported = myplan("accounts", "import", str(EXAMPLE), env=env)

    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "account acme created\n"
    assert myplan("link", "T0123ABCD", "acme", env=env).returncode == 0
    listed = myplan("accounts", "list", env=env)
    assert listed.stdout == "acme\tAcme Contact Centre Ltd\tBUSINESS\tT0123ABCD\n"
    shown = myplan("accounts", "show", "acme", env=env)
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    example = json.loads(EXAMPLE.read_text())
    for field in ("account_id", "company_name", "plan_name", "company"):
        assert document[field] == example[field], field
    assert Decimal(document["monthly_fee"]) == Decimal(example["monthly_fee"])  # PostgreSQL keeps 4 places
    assert set(document["allowances"]) == set(example["allowances"])
    assert set(document["features"]) == set(example["features"])

    edited = {**document, "plan_name": "ENTERPRISE", "staff_licences_purchased": 80}
    again = myplan("accounts", "import", "-", env=env, stdin=json.dumps([edited]))

    assert again.returncode == 0, again.stderr
    assert again.stdout == "account acme replaced\n"
    assert json.loads(myplan("accounts", "show", "acme", env=env).stdout) == edited
    unchanged = myplan(
        "accounts", "import", "-", env=env, stdin=myplan("accounts", "show", "acme", env=env).stdout
    )
    assert unchanged.returncode == 0, unchanged.stderr
    assert json.loads(myplan("accounts", "show", "acme", env=env).stdout) == edited


def test_one_bad_account_imports_none_and_each_problem_names_its_account_and_field(
    env: dict[str, str],
) -> None:
    good = json.loads(EXAMPLE.read_text())
    broken = {**good, "account_id": "broken", "monthly_fee": "lots"}
    del broken["plan_name"]
    badphone = {**good, "account_id": "badphone", "company": {**good["company"], "contact_number": "call us"}}
    later = {**good, "account_id": "later"}

    result = myplan(
        "accounts",
        "import",
        "-",
        env=env,
        stdin=json.dumps([good, broken, {"plan_name": "X"}, badphone, later, 7]),
    )

    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: <stdin> was rejected, nothing was imported (14 problems):"
    assert "  account broken: plan_name: Field required" in lines
    assert "  account broken: monthly_fee: Input should be a valid decimal" in lines
    assert "  account #3: account_id: Field required" in lines
    assert "  account #3: company_name: Field required" in lines
    assert any(line.startswith("  account badphone: company.contact_number: ") for line in lines), lines
    assert "  account #6: must be a JSON object with account_id and the account's fields" in lines
    assert "Traceback" not in result.stderr
    assert "no accounts yet" in myplan("accounts", "list", env=env).stdout


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{not json", "Error: <stdin> is not valid JSON (key must be a string at line 1 column 2)"),
        ("[]", "  the list has no accounts"),
        ('{"account_id": "no spaces"}', "  account no spaces: account_id: String should match pattern"),
        # What the API's parser refuses in a body, the file's parser refuses too, saying where.
        (
            "[" * 100_000 + "]" * 100_000,
            "Error: <stdin> is not valid JSON (recursion limit exceeded at line 1",
        ),
        (
            '{"staff_licences_purchased": ' + "9" * 5_000 + "}",
            "is not valid JSON (number out of range at line 1",
        ),
    ],
    ids=["syntax", "empty", "bad id", "deep", "digits"],
)
def test_an_unreadable_account_file_is_refused(content: str, said: str, env: dict[str, str]) -> None:
    result = myplan("accounts", "import", "-", env=env, stdin=content)
    assert result.returncode == 1
    assert said in result.stderr
    assert "Traceback" not in result.stderr
    assert "unexpected error" not in result.stderr


def test_a_lone_surrogate_rejects_the_whole_file(env: dict[str, str]) -> None:
    """The API refuses a body with an unpaired surrogate escape; here one bad account must not go unmentioned
    while the good one is written."""
    good = {**json.loads(EXAMPLE.read_text()), "account_id": "good1"}
    bad = {**good, "account_id": "bad1", "company_name": "SURROGATE"}
    content = json.dumps([good, bad]).replace('"SURROGATE"', '"Bad \\ud800 name"')

    result = myplan("accounts", "import", "-", env=env, stdin=content)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "Error: <stdin> is not valid JSON (unexpected end of hex escape at line 1 column " in result.stderr
    assert "no accounts yet" in myplan("accounts", "list", env=env).stdout


def test_accounts_are_held_to_the_bounds_as_the_api_holds_them(env: dict[str, str]) -> None:
    """Strict types and "not in the future" as PUT /api/v1/accounts/{id} checks them; nothing is written."""
    good = json.loads(EXAMPLE.read_text())
    future = {**good, "account_id": "future", "data_as_of": "2099-06-01T00:00:00Z"}
    loose = {**good, "account_id": "loose", "staff_licences_purchased": "50", "staff_licences_assigned": True}

    result = myplan("accounts", "import", "-", env=env, stdin=json.dumps([good, future, loose]))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: <stdin> was rejected, nothing was imported (3 problems):",
        "  account future: data_as_of: is more than 5 minutes in the future; send it once it has happened",
        "  account loose: staff_licences_purchased: Input should be a valid integer",
        "  account loose: staff_licences_assigned: Input should be a valid integer",
    ]
    assert "no accounts yet" in myplan("accounts", "list", env=env).stdout


def test_the_same_account_twice_is_refused(env: dict[str, str]) -> None:
    good = json.loads(EXAMPLE.read_text())
    result = myplan("accounts", "import", "-", env=env, stdin=json.dumps([good, good]))
    assert result.returncode == 1
    assert "  account acme: appears more than once" in result.stderr


def test_show_of_an_unknown_account_and_unlink(env: dict[str, str]) -> None:
    missing = myplan("accounts", "show", "nope", env=env)
    assert missing.returncode == 1
    assert missing.stderr == "myplan: not found: account 'nope'\n"
    assert myplan("accounts", "import", str(EXAMPLE), env=env).returncode == 0
    assert myplan("link", "T0123ABCD", "acme", env=env).returncode == 0

    assert (
        myplan("unlink", "T0123ABCD", env=env).stdout
        == "workspace T0123ABCD is no longer linked to an account\n"
    )
    assert (
        myplan("unlink", "T0123ABCD", env=env).stdout == "workspace T0123ABCD was not linked to an account\n"
    )
    assert (
        myplan("accounts", "list", env=env).stdout
        == "acme\tAcme Contact Centre Ltd\tBUSINESS\tno workspace linked\n"
    )


@pytest.mark.parametrize("command", [("serve",), ("worker",), ("try", "/plan")])
def test_serve_worker_and_try_refuse_an_unmigrated_database(
    command: tuple[str, ...], env: dict[str, str], tmp_path: Path
) -> None:
    fresh = {**env, "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db", "SLACK_BOT_TOKEN": "xoxb-x"}
    result = myplan(*command, env={**fresh, "SLACK_SIGNING_SECRET": "s"})
    assert result.returncode == 1
    assert result.stderr == (
        f"myplan: the database has no schema (it was never migrated; the code needs revision {head_revision()}): "
        "run myplan db upgrade\n"
    )


def test_serve_refuses_a_database_behind_the_code(env: dict[str, str], database_url: str) -> None:
    asyncio.run(_downgrade(database_url, "0001"))
    result = myplan("serve", env={**env, "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-x"})
    assert result.returncode == 1
    assert result.stderr == (
        f"myplan: the database schema is at revision 0001, the code needs {head_revision()}: "
        "run myplan db upgrade\n"
    )

    upgraded = myplan("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    behind = len(list(ScriptDirectory.from_config(alembic_config()).iterate_revisions("head", "0001")))
    assert upgraded.stdout == f"applied {behind} migrations: the database is at revision {head_revision()}\n"
    again = myplan("db", "upgrade", env=env)
    assert again.stdout == f"the database is already at revision {head_revision()}: no migrations to apply\n"


async def _downgrade(database_url: str, revision: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_downgrade, revision)
    finally:
        await engine.dispose()


def _run_downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def test_half_an_oauth_configuration_is_one_line_naming_the_missing_secret(env: dict[str, str]) -> None:
    result = myplan("serve", env={**env, "SLACK_CLIENT_ID": "1111.2222", "SLACK_BOT_TOKEN": ""})
    assert result.returncode == 1
    assert result.stderr == (
        "myplan: configuration error: SLACK_CLIENT_SECRET is not set but SLACK_CLIENT_ID is: OAuth (many "
        "workspaces) needs both; for one workspace unset SLACK_CLIENT_ID and set SLACK_BOT_TOKEN\n"
    )


def test_try_prints_only_its_reply(env: dict[str, str]) -> None:
    assert myplan("demo", env=env).returncode == 0
    tried = myplan("try", "/plan", env=env)
    assert tried.returncode == 0, tried.stderr
    assert tried.stderr == ""
    assert tried.stdout.startswith("/plan  →  HTTP 200")


def test_version_and_verbose(env: dict[str, str], tmp_path: Path) -> None:
    version = myplan("--version", env=env)
    assert version.returncode == 0
    assert re.fullmatch(r"myplan \d+\.\d+\.\d+\n", version.stdout)
    url = f"sqlite:///{tmp_path}/missing/dir/x.db"
    quiet = myplan("admins", "list", "demo", env={**env, "DATABASE_URL": url})
    assert quiet.stderr == SQLITE_MISSING
    verbose = myplan("--verbose", "admins", "list", "demo", env={**env, "DATABASE_URL": url})
    assert verbose.returncode == 1
    assert verbose.stderr.startswith("Traceback")
    assert verbose.stderr.endswith(quiet.stderr)
