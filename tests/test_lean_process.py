"""What keeps `myplan serve` lean (bench/rss.py measures its idle RSS): heavy modules load where they are used,
and nothing test-only or dev-only loads at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from store.migrate import alembic_config, head_revision

ROOT = Path(__file__).resolve().parents[1]

# matplotlib: the burn-down chart imports it when it draws one. numpy, rapidfuzz, phonenumbers: the first
# rate index built imports them. phonenumbers, pycountry, email_validator: Company Information shown or
# saved (email_validator also at start when SALES_EMAIL is set, which the settings check). aiosmtplib: an
# email to Sales. alembic (with mako and pygments): only `myplan db upgrade` migrates. The rest are for
# tests and `myplan try`.
NOT_AT_START = (
    "matplotlib",
    "numpy",
    "rapidfuzz",
    "phonenumbers",
    "pycountry",
    "email_validator",
    "aiosmtplib",
    "alembic",
    "mako",
    "pygments",
    "pytest",
    "_pytest",
    "schemathesis",
    "hypothesis",
    "aiosmtpd",
    "bot.devtools",
    "tests",
)

# `myplan serve` as typed, up to the point where the server answers its health check: then, instead of
# serving forever, print what is loaded.
PROBE = f"""
import asyncio, linecache, sys
from aiohttp import ClientSession, web

def run_app(app, **_):
    async def once():
        runner = web.AppRunner(await app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{{port}}/healthz") as response:
            print("health:", response.status, file=sys.stderr)
        await runner.cleanup()
    asyncio.run(once())

web.run_app = run_app
from bot.cli import main
try:
    main()
except SystemExit:
    pass
unwanted = {NOT_AT_START!r}
named = set("bot.devtools" if m.startswith("bot.devtools") else m.split(".")[0] for m in sys.modules)
print("loaded:", sorted(named & set(unwanted)), file=sys.stderr)
print("sources read:", sorted(name for name in linecache.cache if not name.startswith("<")), file=sys.stderr)
dialects = {{m.split(".")[2] for m in sys.modules if m.startswith("sqlalchemy.dialects.") and m.count(".") >= 2}}
print("dialects:", sorted(dialects - {{"_typing"}}), file=sys.stderr)
"""


def serve_until_healthy(database_url: str) -> str:
    """What the PROBE printed (on stderr) about `myplan serve` on `database_url`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env = {
        **inherited,
        "DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": "lean-signing-secret",
        "SLACK_BOT_TOKEN": "xoxb-lean",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing is called while idle
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "health: 200" in result.stderr, result.stderr
    return result.stderr


def test_serve_loads_no_heavy_test_or_dev_module(database_url: str) -> None:
    report = serve_until_healthy(database_url)
    assert "loaded: []\n" in report, report
    # Nothing at start reads source files into linecache, where they would stay: bolt did, 0.9 MB of
    # them, to name an app it was not given a name for (inspect.stack()).
    assert "sources read: []\n" in report, report


def test_serve_loads_only_the_dialect_of_its_database(database_url: str) -> None:
    """`sqlalchemy.dialects.postgresql` costs a SQLite process 2.5 MB (store/upserts.py)."""
    report = serve_until_healthy(database_url)
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    assert f"dialects: ['{dialect}']\n" in report, report


def test_the_code_reads_the_migrations_head_as_alembic_does() -> None:
    """`myplan serve` checks the schema without importing Alembic; it must agree with Alembic."""
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
