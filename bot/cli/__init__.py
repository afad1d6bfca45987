"""`myplan`: the operator's command line. Known failures end with one clear line naming the cause and
the fix (`--verbose` adds the traceback). The commands are in `bot.cli.service`, `bot.cli.accounts`,
`bot.cli.rates`, `bot.cli.digest`, `bot.cli.status` and `bot.cli.prune`; what they share is in `bot.cli.common`."""

from __future__ import annotations

import sys
import traceback

import click

from bot.cli import accounts, common, digest, prune, rates, service, status
from bot.cli.common import cli

__all__ = ["accounts", "cli", "digest", "main", "prune", "rates", "service", "status"]


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
    except Exception as error:
        sys.exit(one_line(error))


def one_line(error: Exception) -> str:
    """What a failure says on its one line: the cause and the fix. The error classes are imported here,
    not at start-up: whichever was raised is loaded already."""
    from bot.settings import SettingsError
    from store.errors import DatabaseMissing, ImportConflict, NotFound, SchemaNotCurrent, StoreUnavailable

    if isinstance(error, SettingsError):
        return f"myplan: configuration error: {error}"
    if isinstance(error, DatabaseMissing):
        return f"myplan: database missing: {error}"
    if isinstance(error, StoreUnavailable):
        return (
            f"myplan: database unreachable: {error} (check DATABASE_URL and that the database server is "
            "running)"
        )
    if isinstance(error, NotFound):
        return f"myplan: not found: {error}"
    if isinstance(error, (SchemaNotCurrent, ImportConflict)):
        return f"myplan: {error}"
    # A bug: still one line (with --verbose, the traceback).
    return f"myplan: unexpected error: {type(error).__name__}: {error} (--verbose shows the traceback)"
