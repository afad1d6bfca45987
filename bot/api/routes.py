"""The ingest API's endpoints: the billing platform pushes accounts, usage, feature changes, links."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import web

from bot.api.endpoints import ApiCall, Endpoints, NoParams, Reply, validation_context
from bot.api.errors import ApiError, invalid
from bot.api.examples import (
    account_example,
    rate_table_example,
    staff_example,
    traffic_example,
    usage_example,
)
from bot.api.models import (
    AccountPath,
    BlockPath,
    BlockStateIn,
    DestinationBlocks,
    FeaturePath,
    FieldError,
    Link,
    LinkCodeOut,
    LinkRequest,
    RateChangeCounts,
    RateTableIn,
    RateTableOut,
    TrafficBatch,
    TrafficResult,
    UsageBatch,
    UsageResult,
)
from bot.api.notices import post_status_notice
from bot.company.validation import CompanyForm, FieldErrors, validate_company_form
from bot.linking.codes import issue_link_code
from bot.rates.csvio import RateFileError, check_rows, parse_csv
from bot.traffic.pricing import Figure, price_figures
from bot.traffic.spikes import find_spikes
from handlers.rates.announce import announce_changes
from store.domain.account import AccountDocument, CompanyDoc, FeatureDoc, FeatureStatusChange, FeatureUpdate
from store.domain.plan import FEATURE_METER_PREFIX, STAFF_LICENCES, PlanSnapshot
from store.domain.rates import RateImport
from store.domain.staff import StaffList
from store.domain.traffic import DestinationBlock
from store.errors import ImportConflict
from store.usage import Reading

log = logging.getLogger(__name__)

endpoints = Endpoints()


@endpoints.route(
    "PUT",
    "/accounts/{account_id}",
    summary="Create or replace an account",
    params=AccountPath,
    body=AccountDocument,
    replies={201: (AccountDocument, "Created; the account as stored"), 200: (AccountDocument, "Replaced")},
    not_found=False,
    body_example=account_example(),
)
async def put_account(call: ApiCall[AccountPath, AccountDocument]) -> Reply:
    """The whole account: plan, fees, billing period, licences, allowances, features, company information.

    Features left out of `features` are removed; company information, when left out, is kept.
    The document's usage figures count as measured at `data_as_of` (default: now).
    """
    store = call.api.services.store
    account_id = call.params.account_id
    doc = with_valid_company(call.body)
    result = await store.accounts.upsert(account_id, doc)
    _notify(call, result.status_changes)
    call.usage_changed(account_id)
    return Reply(201 if result.created else 200, await store.accounts.document(account_id))


@endpoints.route(
    "GET",
    "/accounts/{account_id}",
    summary="Read an account",
    params=AccountPath,
    replies={200: (AccountDocument, "The account as stored: the document PUT accepts")},
)
async def get_account(call: ApiCall[AccountPath, None]) -> Reply:
    """Exactly the document `PUT` accepts, so sending it back changes nothing."""
    return Reply(200, await call.api.services.store.accounts.document(call.params.account_id))


@endpoints.route(
    "POST",
    "/accounts/{account_id}/usage",
    summary="Record usage readings",
    params=AccountPath,
    body=UsageBatch,
    replies={200: (UsageResult, "Recorded")},
    body_example=usage_example(),
)
async def post_usage(call: ApiCall[AccountPath, UsageBatch]) -> Reply:
    """Absolute readings for the current billing period, in any order; a batch is taken whole or not at all.

    Each meter shows its newest reading, so duplicates and late readings are harmless; the history
    keeps every distinct reading.
    """
    store = call.api.services.store
    account_id = call.params.account_id
    _check_meters(await store.accounts.snapshot(account_id), call.body)
    readings = [Reading(meter=r.meter, used=r.used, at=r.at) for r in call.body.readings]
    result = await store.usage.record(account_id, readings)
    if result.recorded:
        call.usage_changed(account_id)
    return Reply(
        200, UsageResult(received=len(readings), recorded=result.recorded, duplicates=result.duplicates)
    )


@endpoints.route(
    "POST",
    "/accounts/{account_id}/traffic",
    summary="Record hourly traffic by destination",
    params=AccountPath,
    body=TrafficBatch,
    replies={200: (TrafficResult, "Recorded, each figure priced by the rate table in force at its hour")},
    body_example=traffic_example(),
)
async def post_traffic(call: ApiCall[AccountPath, TrafficBatch]) -> Reply:
    """Hourly aggregates of calls (minutes) and SMS (messages) per destination: a dial prefix or an E.164
    number, matched to its rate table entry and priced, in USD, at the rates in force at that hour.

    Each hour in the batch replaces everything stored for that hour, so re-sending an hour corrects it;
    a batch is taken whole or not at all.
    """
    if repeated := call.body.repeated():
        raise invalid([FieldError(field=f"traffic.{i}", message=_REPEATED_FIGURE) for i in repeated])
    figures = [Figure(f.hour, f.destination, f.kind, f.line_type, f.quantity) for f in call.body.traffic]
    priced = await price_figures(figures, call.api.services.rates)
    services, account_id = call.api.services, call.params.account_id
    now = services.clock()
    written = await services.store.traffic.replace_hours(account_id, priced, now=now)
    # Claimed in the same transaction as the traffic: stored together, or retried together.
    spikes = await find_spikes(
        services.store, account_id, [f.hour for f in priced], {f.area for f in priced}, now
    )
    if await services.store.traffic_alerts.claim(account_id, spikes, now):
        call.spike_alerts_changed(account_id)
    return Reply(
        200,
        TrafficResult(
            received=len(priced),
            hours=written.hours,
            replaced=written.replaced,
            unpriced=sum(1 for figure in priced if figure.cost is None),
            cost=sum((figure.cost for figure in priced if figure.cost is not None), Decimal(0)),
        ),
    )


_REPEATED_FIGURE = "repeats an earlier figure's hour, destination, kind and line type"


@endpoints.route(
    "GET",
    "/accounts/{account_id}/destination-blocks",
    summary="List destination blocks",
    params=AccountPath,
    replies={200: (DestinationBlocks, "Every block of the account, oldest first")},
)
async def get_destination_blocks(call: ApiCall[AccountPath, None]) -> Reply:
    """Destinations an administrator blocked from a spike alert in Slack, for the platform to apply:
    `requested` until the platform confirms (`confirmed`) or lifts (`lifted`) it with `PUT`."""
    blocks = await call.api.services.store.traffic_alerts.blocks(call.params.account_id)
    return Reply(200, DestinationBlocks(blocks=blocks))


@endpoints.route(
    "PUT",
    "/accounts/{account_id}/destination-blocks/{block_id}",
    summary="Confirm or lift a destination block",
    params=BlockPath,
    body=BlockStateIn,
    replies={200: (DestinationBlock, "The block as stored")},
    body_example={"state": "confirmed"},
)
async def put_destination_block(call: ApiCall[BlockPath, BlockStateIn]) -> Reply:
    """The platform applied the block (`confirmed`) or removed it (`lifted`); the spike alert's message in
    Slack shows it. Sending the state the block has changes nothing."""
    services, account_id = call.api.services, call.params.account_id
    block = await services.store.traffic_alerts.set_block_state(
        account_id, call.params.block_id, call.body.state, note=call.body.note, now=services.clock()
    )
    call.spike_alerts_changed(account_id)
    return Reply(200, block)


@endpoints.route(
    "PUT",
    "/accounts/{account_id}/features/{feature}",
    summary="Change a feature's status or usage",
    params=FeaturePath,
    body=FeatureUpdate,
    replies={200: (FeatureDoc, "The feature as stored")},
    body_example={"status": "available"},
)
async def put_feature(call: ApiCall[FeaturePath, FeatureUpdate]) -> Reply:
    """Only the fields given change. A status change is announced in the account's alerts channel."""
    store = call.api.services.store
    feature, change = await store.accounts.update_feature(
        call.params.account_id, call.params.feature, call.body
    )
    _notify(call, [change] if change else [])
    if {"used", "limit"} & call.body.changes().keys():
        call.usage_changed(call.params.account_id)
    return Reply(200, feature)


@endpoints.route(
    "POST",
    "/accounts/{account_id}/links",
    summary="Link a Slack workspace to the account",
    params=AccountPath,
    body=LinkRequest,
    replies={201: (Link, "Linked"), 200: (Link, "Already linked to this account, or moved to it")},
    body_example={"team_id": "T0DEMO"},
)
async def post_link(call: ApiCall[AccountPath, LinkRequest]) -> Reply:
    """The workspace's members then see this account in Slack. A workspace has one account: moving it
    from another needs `"replace": true`."""
    store = call.api.services.store
    account_id, team_id = call.params.account_id, call.body.team_id
    if not await store.accounts.exists(account_id):
        raise ApiError(404, "not_found", f"No such account {account_id!r}.")
    current = await store.workspaces.account_for_team(team_id)
    if current == account_id:
        return Reply(200, Link(team_id=team_id, account_id=account_id))
    if current is not None and not call.body.replace:
        raise ApiError(
            409,
            "already_linked",
            f'Workspace {team_id} is linked to account {current!r}; send "replace": true to move it.',
        )
    await store.workspaces.link(team_id, account_id, by="ingest API")
    return Reply(
        201 if current is None else 200,
        Link(team_id=team_id, account_id=account_id, previous_account_id=current),
    )


def with_valid_company(doc: AccountDocument) -> AccountDocument:
    """Company information checked and normalised as the Slack form does (E.164 numbers, ISO countries)."""
    if doc.company is None:
        return doc
    checked = validate_company_form(CompanyForm(**doc.company.model_dump()), default_region=None)
    if isinstance(checked, FieldErrors):
        raise invalid(
            [FieldError(field=f"company.{name}", message=message) for name, message in checked.items()]
        )
    return doc.model_copy(update={"company": CompanyDoc(**checked.model_dump())})


def _check_meters(plan: PlanSnapshot, batch: UsageBatch) -> None:
    """Every reading names a meter this account has; otherwise the whole batch is refused."""
    allowances = {a.meter.value for a in plan.allowances}
    features = {FEATURE_METER_PREFIX + f.key.value for f in plan.features}
    known = allowances | features | {STAFF_LICENCES}
    errors = [
        FieldError(field=f"readings.{index}.meter", message=_missing(reading.meter))
        for index, reading in enumerate(batch.readings)
        if reading.meter not in known
    ]
    if errors:
        raise invalid(errors)


def _missing(meter: str) -> str:
    if meter.startswith(FEATURE_METER_PREFIX):
        return f"this account has no feature {meter.removeprefix(FEATURE_METER_PREFIX)!r}"
    return f"this account has no {meter} allowance"


def _notify(call: ApiCall[Any, Any], changes: Sequence[FeatureStatusChange]) -> None:
    """Announce status changes in the alerts channel once they are committed."""
    if changes:
        api, changed = call.api, list(changes)
        call.after_commit(
            f"status notice for {changed[0].account_id}", lambda: post_status_notice(api, changed)
        )


def _rate_table_from_csv(text: str, request: web.Request) -> RateTableIn:
    """A CSV rate file (as `myplan import-rates` takes); `?label=` and `?effective_date=` describe it."""
    try:
        rows = parse_csv(text)
    except RateFileError as error:
        raise invalid(
            [FieldError(field=f"line {line}", message=reason) for line, reason in error.problems]
        ) from None
    query = {key: request.query[key] for key in ("label", "effective_date") if key in request.query}
    if not _utf8(request.rel_url.raw_query_string):  # decoded, its bad bytes would be kept as "�"
        raise ApiError(400, "malformed_query", "The query string is not valid UTF-8 once percent-decoded.")
    return RateTableIn.model_validate({**query, "rows": rows}, context=validation_context(request))


def _utf8(raw_query: str) -> bool:
    try:
        unquote_to_bytes(raw_query.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@endpoints.route(
    "PUT",
    "/rates",
    summary="Replace the rate table",
    body=RateTableIn,
    csv_body=_rate_table_from_csv,
    replies={200: (RateTableOut, "Stored as a new version, or unchanged (`created` false)")},
    not_found=False,
    body_example=rate_table_example(),
)
async def put_rates(call: ApiCall[NoParams, RateTableIn]) -> Reply:
    """The service's rate table (USD), as JSON rows or as a CSV file with the header
    `dial_code,iso_code,destination,landline_per_min,mobile_per_min,sms_per_message`.

    The whole table is checked first and rejected whole, naming each bad row. The previous version is
    kept; the changes are announced in every linked account's alerts channel.
    """
    services = call.api.services
    rows, now = call.body.rows, services.clock()
    if problems := check_rows(rows):
        raise invalid([FieldError(field=_row_field(row), message=reason) for row, reason in problems])
    try:
        imported = await services.store.rates.import_table(
            rows, effective_date=call.body.effective_date or now.date(), label=call.body.label, now=now
        )
    except ImportConflict:
        raise ApiError(409, "conflict", "Another import of this table is under way; retry.") from None
    if imported.created and not imported.changes.is_empty:

        async def announce() -> None:
            await announce_changes(services.store, imported, services.slack.client_for_team, now=now)

        call.after_commit("rate change notices", announce)
    return Reply(200, rate_table_out(imported, len(rows)))


def _row_field(row: int) -> str:
    return f"rows.{row - 1}" if row > 0 else "rows"


def rate_table_out(imported: RateImport, destinations: int) -> RateTableOut:
    changes = imported.changes
    return RateTableOut(
        version=imported.table.version,
        effective_date=imported.table.effective_date,
        label=imported.table.label,
        destinations=destinations,
        created=imported.created,
        changes=RateChangeCounts(
            added=len(changes.added),
            removed=len(changes.removed),
            increased=len(changes.increased),
            decreased=len(changes.decreased),
        ),
    )


@endpoints.route(
    "POST",
    "/accounts/{account_id}/link-codes",
    summary="Issue a one-time link code",
    params=AccountPath,
    replies={201: (LinkCodeOut, "A new code, valid for 24 hours and once")},
)
async def post_link_code(call: ApiCall[AccountPath, None]) -> Reply:
    """A workspace owner or admin runs `/plan link CODE` in Slack to link their workspace to the account
    and become its first administrator. Each call issues a new code."""
    issued = await issue_link_code(call.api.services.store, call.params.account_id, by="ingest API")
    return Reply(
        201, LinkCodeOut(code=issued.code, account_id=issued.account_id, expires_at=issued.expires_at)
    )


@endpoints.route(
    "PUT",
    "/accounts/{account_id}/staff",
    summary="Replace the staff accounts' activity",
    params=AccountPath,
    body=StaffList,
    replies={200: (StaffList, "The staff list as stored")},
    body_example=staff_example(),
)
async def put_staff(call: ApiCall[AccountPath, StaffList]) -> Reply:
    """Every staff account: id, display name, whether it holds a licence, when it was last active.

    The list replaces the stored one whole (an account left out is gone). Administrators get licence
    hygiene from it: licences unassigned or held by staff inactive for 30 days or more, and their cost.
    """
    if repeated := call.body.repeated_ids():
        raise invalid(
            [FieldError(field=f"staff.{i}.id", message="repeats an earlier account's id") for i in repeated]
        )
    store = call.api.services.store
    account_id = call.params.account_id
    await store.staff.replace(account_id, call.body.staff, now=call.api.services.clock())
    return Reply(200, await store.staff.document(account_id))


@endpoints.route(
    "GET",
    "/accounts/{account_id}/staff",
    summary="Read the staff accounts' activity",
    params=AccountPath,
    replies={200: (StaffList, "The staff list as stored: the document PUT accepts")},
)
async def get_staff(call: ApiCall[AccountPath, None]) -> Reply:
    """Exactly the document `PUT` accepts (an empty list before the first), so sending it back changes
    nothing."""
    return Reply(200, await call.api.services.store.staff.document(call.params.account_id))
