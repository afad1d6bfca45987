"""Rate Table: `/rates` and `/plan rates`, their buttons, and the Home's Rate Table tab."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.models.blocks import Block

from bot.errors import StaleAction
from bot.ids import Action
from bot.listeners import ack_then, message_for
from bot.rates import parse_rate_query, to_csv
from bot.rates.cache import RateCache
from bot.services import Services
from bot.tenant import Tenant, tenant_of
from bot.views.common import Message
from bot.views.home import HomeTab
from bot.views.rates import (
    PAGE_SIZE,
    LookupValue,
    PageValue,
    RateAnswer,
    RatesTab,
    destination_options,
    no_table_message,
    rate_message,
    rates_help_message,
    rates_tab_blocks,
)
from handlers.home import HomeRequest, HomeTabs
from handlers.router import CommandRequest, PlanCommands
from store.domain.rates import RatesHomeState

MAX_TEXT = 300  # a rate query is never longer; the rest of a pasted essay is ignored


class RateLookups:
    """Answers rate questions for a workspace, over the cached index of the current table."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self.cache = RateCache(services.store)

    async def answer(
        self, text: str, tenant: Tenant, *, command: str = "/rates", shared_by: str | None = None
    ) -> Message:
        text = text[:MAX_TEXT].strip()
        query, quantity = parse_rate_query(text)
        if not query:
            return rates_help_message(command)
        terms = await self._services.store.rates.account_terms(await tenant.account_id())
        loaded = await self.cache.current()
        if loaded is None:
            return no_table_message()
        # National numbers ("020 7946 0018") are read as numbers of the account's own country.
        result = loaded.index.lookup(query, default_region=terms.country)
        answer = RateAnswer(text, quantity, result, loaded.info, terms.voip_rate_per_min)
        return rate_message(answer, shared_by=shared_by)

    async def tab(self, request: HomeRequest) -> list[Block]:
        """The Rate Table tab for one user: where they left it (chosen destination, page)."""
        store = request.services.store
        terms = await store.rates.account_terms(await request.tenant.account_id())
        loaded = await self.cache.current()
        if loaded is None:
            return list(no_table_message().blocks)
        state = await store.rates.home_state(request.tenant.team_id, request.user_id)
        chosen = loaded.index.get(state.iso_code) if state.iso_code else None
        page = loaded.index.page(state.page, PAGE_SIZE)
        return rates_tab_blocks(RatesTab(loaded.info, page, chosen, terms.voip_rate_per_min))


def _user_id(args: AsyncArgs) -> str:
    return str((args.body or {})["user"]["id"])


def register(app: AsyncApp, commands: PlanCommands, tabs: HomeTabs, services: Services) -> None:
    lookups = RateLookups(services)
    store = services.store
    tabs.tab(HomeTab.RATES)(lookups.tab)

    @commands.subcommand(
        "rates",
        usage="/plan rates <country, code or number> [12 min | 300 sms]",
        summary="call and SMS rates for a destination or phone number, with cost estimates",
    )
    async def plan_rates(request: CommandRequest) -> None:
        await request.reply(await lookups.answer(request.args, request.tenant, command="/plan rates"))

    async def rates_command(args: AsyncArgs) -> None:
        text = str((args.command or {}).get("text", ""))
        message = await lookups.answer(text, tenant_of(args.context))
        await args.respond(**message.as_response())

    async def lookup_clicked(args: AsyncArgs) -> None:
        """A suggestion ("did you mean…", another region of a shared dial code): answer in place."""
        value = LookupValue.decode((args.action or {}).get("value"))
        if value is None:
            raise StaleAction("Run `/rates` again.")
        message = await lookups.answer(value.q, tenant_of(args.context))
        await args.respond(**message.as_response(replace_original=True))

    async def share_clicked(args: AsyncArgs) -> None:
        """Post the answer visibly in the conversation, saying who shared it."""
        value = LookupValue.decode((args.action or {}).get("value"))
        if value is None:
            raise StaleAction("Run `/rates` again.")
        message = await lookups.answer(value.q, tenant_of(args.context), shared_by=_user_id(args))
        await args.respond(**message.as_response())

    async def picker_options(args: AsyncArgs) -> None:
        """Type-ahead for the Home's destination picker; must answer within 3 s with the options."""
        typed = str((args.payload or {}).get("value") or "")
        try:
            await tenant_of(args.context).account_id()
            loaded = await lookups.cache.current()
            options = destination_options(loaded.index.complete(typed)) if loaded else []
        except Exception as error:  # an options request cannot carry a message: no options, and logged
            message_for(error)
            options = []
        await args.ack(options=options)

    async def destination_picked(args: AsyncArgs) -> None:
        """Show the picked destination's rates, and turn the table to the page it is on."""
        selected: dict[str, Any] = (args.action or {}).get("selected_option") or {}
        tenant, user = tenant_of(args.context), _user_id(args)
        await tenant.account_id()
        loaded = await lookups.cache.current()
        row = loaded.index.get(str(selected.get("value", ""))) if loaded else None
        if row is not None and loaded is not None:
            state = RatesHomeState(iso_code=row.iso_code, page=loaded.index.page_of(row.iso_code, PAGE_SIZE))
            await store.rates.remember_home_state(tenant.team_id, user, state)
        await tabs.publish(args.client, tenant, user, HomeTab.RATES)

    async def page_turned(args: AsyncArgs) -> None:
        """Prev/Next/First/Last: another page, keeping the chosen destination."""
        value = PageValue.decode((args.action or {}).get("value"))
        if value is None:
            raise StaleAction("Open the Rate Table tab again.")
        tenant, user = tenant_of(args.context), _user_id(args)
        state = await store.rates.home_state(tenant.team_id, user)
        await store.rates.remember_home_state(
            tenant.team_id, user, state.model_copy(update={"page": value.page})
        )
        await tabs.publish(args.client, tenant, user, HomeTab.RATES)

    async def export_clicked(args: AsyncArgs) -> None:
        """Upload the current table, as `myplan export-rates` writes it, to the user's DM with the app."""
        tenant, user = tenant_of(args.context), _user_id(args)
        await tenant.account_id()
        table = await store.rates.table()
        if table is None:
            await args.client.chat_postMessage(channel=user, **no_table_message().as_kwargs())
            return
        dm = await args.client.conversations_open(users=user)
        name = f"rate-table-v{table.version}-{table.effective_date.isoformat()}.csv"
        sample = " (sample data, not real prices)" if table.sample else ""
        await args.client.files_upload_v2(
            channel=dm["channel"]["id"],
            content=to_csv(table.rows),
            filename=name,
            title=f"Rate table version {table.version}{sample}",
            initial_comment=(
                f"Here is the rate table (version {table.version}, effective "
                f"{table.effective_date.isoformat()}, {len(table.rows):,} destinations, USD){sample}."
            ),
        )

    app.command("/rates")(ack_then(rates_command))
    app.action(re.compile(rf"^{re.escape(Action.RATES_LOOKUP)}\.\d+$"))(ack_then(lookup_clicked))
    app.action(Action.RATES_SHARE)(ack_then(share_clicked))
    app.options(Action.RATES_PICK)(picker_options)
    app.action(Action.RATES_PICK)(ack_then(destination_picked))
    app.action(re.compile(rf"^{re.escape(Action.RATES_PAGE)}\.(first|prev|next|last)$"))(
        ack_then(page_turned)
    )
    app.action(Action.RATES_EXPORT)(ack_then(export_clicked))
