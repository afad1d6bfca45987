"""Accounts, their workspaces and administrators: `accounts`, `link`, `unlink`, `link-code`, `admins`.

`accounts import` takes what `PUT /api/v1/accounts/{account_id}` takes (plus `account_id`), checked by
the same models with the same wording; one bad account imports none. `accounts show` prints what
`import` accepts, so show → edit → import round-trips."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from bot.cli.common import ACCOUNT, TEAM, USER, cli, with_store
from store.errors import NotFound

if TYPE_CHECKING:
    from datetime import datetime

    from bot.api.errors import ApiError
    from store import Store
    from store.domain.account import AccountDocument

NOT_AN_OBJECT = "must be a JSON object with account_id and the account's fields"


@cli.command()
@click.argument("team", type=TEAM)
@click.argument("account", type=ACCOUNT)
@with_store
async def link(store: Store, team: str, account: str) -> None:
    """Link Slack workspace TEAM (team id) to service account ACCOUNT."""
    await store.workspaces.link(team, account, by="myplan link")
    click.echo(f"workspace {team} is linked to account {account}")


@cli.command()
@click.argument("team", type=TEAM)
@with_store
async def unlink(store: Store, team: str) -> None:
    """Unlink Slack workspace TEAM from its service account (the account and its history stay)."""
    if await store.workspaces.unlink(team):
        click.echo(f"workspace {team} is no longer linked to an account")
    else:
        click.echo(f"workspace {team} was not linked to an account")


@cli.group()
def accounts() -> None:
    """Service accounts."""


@accounts.command("import")
@click.argument("file", type=click.File("rb"))
@with_store
async def accounts_import(store: Store, file: BinaryIO) -> None:
    """Create or replace the accounts in FILE ("-" for stdin): a JSON object, or a list of them, each with
    `account_id` and what PUT /api/v1/accounts/{account_id} takes. All or nothing."""
    checked = _read_account_file(file)
    async with store.db.transaction():
        results = [(account_id, await store.accounts.upsert(account_id, doc)) for account_id, doc in checked]
    for account_id, result in results:
        click.echo(f"account {account_id} {'created' if result.created else 'replaced'}")


@accounts.command("list")
@with_store
async def accounts_list(store: Store) -> None:
    """Every account: id, company, plan, and the workspaces linked to it."""
    ids = await store.accounts.ids()
    if not ids:
        click.echo("no accounts yet (myplan accounts import FILE.json creates them)")
        return
    for account_id in ids:
        plan = await store.accounts.snapshot(account_id)
        teams = ", ".join(await store.workspaces.teams_of(account_id)) or "no workspace linked"
        click.echo(f"{account_id}\t{plan.account.company_name}\t{plan.subscription.plan_name}\t{teams}")


@accounts.command("show")
@click.argument("account", type=ACCOUNT)
@with_store
async def accounts_show(store: Store, account: str) -> None:
    """ACCOUNT as `accounts import` takes it."""
    document = await store.accounts.document(account)
    click.echo(json.dumps({"account_id": account, **document.model_dump(mode="json")}, indent=2))


def _read_account_file(file: BinaryIO) -> list[tuple[str, AccountDocument]]:
    """Every account in the file, checked; a ClickException listing each problem otherwise."""
    from store.clock import utcnow

    items = _parse(file)
    now = utcnow()  # one "now" for the whole file, as the API has one per body
    problems: list[str] = [] if items else ["the list has no accounts"]
    checked: list[tuple[str, AccountDocument]] = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        outcome = _check_account(item, number, now)
        if isinstance(outcome, list):
            problems += outcome
            continue
        if outcome[0] in seen:
            problems.append(f"account {outcome[0]}: appears more than once")
        seen.add(outcome[0])
        checked.append(outcome)
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise click.ClickException(f"{file.name} was rejected, nothing was imported ({count}):\n{listed}")
    return checked


def _parse(file: BinaryIO) -> list[Any]:
    """The file's accounts, parsed by the API's own JSON parser (pydantic's): what it refuses in a body
    (lone surrogates, nesting or numbers past its limits) is refused here too, with where it is."""
    from pydantic_core import from_json

    try:
        data = from_json(file.read().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{file.name} is not UTF-8 text (byte {error.start})") from None
    except ValueError as error:
        raise click.ClickException(f"{file.name} is not valid JSON ({error})") from None
    return data if isinstance(data, list) else [data]


def _check_account(item: Any, number: int, now: datetime) -> tuple[str, AccountDocument] | list[str]:
    """The account's id and document, or its problems (each naming the account and the field)."""
    # The ingest API's own models and wording, loaded only when a file is imported.
    from pydantic import ValidationError

    from bot.api.errors import ApiError, from_validation_error
    from bot.api.models import AccountPath
    from bot.api.routes import with_valid_company
    from store.domain.account import AccountDocument
    from store.domain.bounds import validation_context

    if not isinstance(item, dict):
        return [f"account #{number}: {NOT_AN_OBJECT}"]
    body = {key: value for key, value in item.items() if key != "account_id"}
    raw_id = item.get("account_id")
    name = raw_id if isinstance(raw_id, str) and raw_id else f"#{number}"
    problems: list[str] = []
    try:
        AccountPath.model_validate({"account_id": raw_id} if "account_id" in item else {})
    except ValidationError as error:
        problems += _lines(name, from_validation_error(error))
    try:
        # Exactly as the API validates its body: strict, and "in the future" means ahead of `now`.
        parsed = AccountDocument.model_validate_json(
            json.dumps(body), strict=True, context=validation_context(now)
        )
        document = with_valid_company(parsed)
    except ValidationError as error:
        return problems + _lines(name, from_validation_error(error))
    except ApiError as error:
        return problems + _lines(name, error)
    return problems if problems else (str(raw_id), document)


def _lines(name: str, error: ApiError) -> list[str]:
    """One line per field; an error naming no field (malformed JSON) still gets its line, never none."""
    if not error.body.errors:
        return [f"account {name}: {error.body.message}"]
    return [f"account {name}: {field.field}: {field.message}" for field in error.body.errors]


@cli.command("link-code")
@click.argument("account", type=ACCOUNT)
@with_store
async def link_code(store: Store, account: str) -> None:
    """Issue a one-time code that links a Slack workspace to ACCOUNT (a workspace admin runs /plan link CODE)."""
    from bot.linking.codes import issue_link_code

    issued = await issue_link_code(store, account, by="myplan link-code")
    expires = issued.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"link code for account {account}: {issued.code} (works once, until {expires})")
    click.echo(f"In Slack, a workspace owner or admin runs: /plan link {issued.code}")


@cli.group()
def admins() -> None:
    """Administrators of a service account (Slack user ids)."""


@admins.command("add")
@click.argument("account", type=ACCOUNT)
@click.argument("user", type=USER)
@with_store
async def admins_add(store: Store, account: str, user: str) -> None:
    """Make USER an administrator of ACCOUNT."""
    added = await store.admins.add(account, user, by="myplan admins")
    click.echo(f"{user} is {'now' if added else 'already'} an administrator of {account}")


@admins.command("remove")
@click.argument("account", type=ACCOUNT)
@click.argument("user", type=USER)
@with_store
async def admins_remove(store: Store, account: str, user: str) -> None:
    """Remove USER from ACCOUNT's administrators."""
    removed = await store.admins.remove(account, user)
    click.echo(f"{user} {'removed from' if removed else 'was not one of'} the administrators of {account}")


@admins.command("list")
@click.argument("account", type=ACCOUNT)
@with_store
async def admins_list(store: Store, account: str) -> None:
    """List ACCOUNT's administrators."""
    if not await store.accounts.exists(account):
        raise NotFound(f"account {account!r}")
    for user in await store.admins.list(account):
        click.echo(user)
