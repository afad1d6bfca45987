"""`myplan`: the operator's command line. Known failures end with one clear line naming the cause and
the fix (`--verbose` adds the traceback). The commands are in `bot.cli.service`, `bot.cli.accounts` and
`bot.cli.rates`; what they share is in `bot.cli.common`."""

from __future__ import annotations

import sys
import traceback

import click

from bot.cli import accounts, common, rates, service
from bot.cli.common import cli
from bot.settings import SettingsError
from store.errors import NotFound, StoreUnavailable
from store.migrate import SchemaNotCurrent
from store.rates import ImportConflict

__all__ = ["accounts", "cli", "main", "rates", "service"]


def main() -> None:
    """Entry point: known failures end with one clear line, not a traceback (`--verbose` adds it)."""
    try:
        _main()
    except SystemExit as done:
        if common.VERBOSE and done.code not in (None, 0):
            cause = done.__context__
            if cause is not None and not isinstance(cause, click.exceptions.Exit):
                traceback.print_exception(cause)
        raise


def _main() -> None:
    try:
        code = cli.main(standalone_mode=False)  # an Exit raised by a command comes back as its code
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)
    except SettingsError as error:
        sys.exit(f"myplan: configuration error: {error}")
    except StoreUnavailable as error:
        sys.exit(
            f"myplan: database unavailable: {error} (check DATABASE_URL, that the database is running, "
            "and for SQLite that the folder exists)"
        )
    except NotFound as error:
        sys.exit(f"myplan: not found: {error}")
    except (SchemaNotCurrent, ImportConflict) as error:
        sys.exit(f"myplan: {error}")
    except Exception as error:  # a bug: still one line (with --verbose, the traceback)
        sys.exit(f"myplan: unexpected error: {type(error).__name__}: {error} (--verbose shows the traceback)")
