"""Rate Table: `/rates` and `/plan rates`, their buttons, and the Home's Rate Table tab."""

from __future__ import annotations

from typing import Any, Final

from slack_sdk.models.blocks import Block

from bot.rates import parse_rate_query, split_unread_amount, to_csv
from bot.rates.cache import RateCache
from bot.rates.lookup import look_up
from handlers.campaign.entry import is_campaign, open_campaign
from handlers.home import HomeTab
from handlers.interaction import Interaction
from handlers.messages import Message
from handlers.rates.home_tab import (
    PAGE_SIZE,
    DestinationChoice,
    PageValue,
    RatesTab,
    destination_options,
    rates_tab_blocks,
)
from handlers.rates.ids import LOOKUP_BUTTON, PAGE_BUTTON, Action
from handlers.rates.views import LookupValue, RateAnswer, no_table_message, rate_message, rates_help_message
from handlers.routes import Routes
from store.domain.rates import RatesHomeState

MAX_TEXT: Final = 300  # a rate query is never longer; the rest of a pasted essay is ignored
RUN_AGAIN: Final = "Run `/rates` again."
OPEN_TAB_AGAIN: Final = "Open the Rate Table tab again."


def register(routes: Routes) -> None:
    lookups = RateLookups(routes.services.rates)
    routes.home_tab(HomeTab.RATES, lookups.tab)
    routes.command("/rates", lookups.rates_command)
    routes.subcommand(
        "rates",
        lookups.plan_rates,
        usage="/plan rates <country, code or number> [12 min | 300 sms] | campaign",
        summary="call and SMS rates for a destination or phone number, with cost estimates; an SMS campaign's cost",
    )
    routes.action(LOOKUP_BUTTON.pattern, lookups.lookup_clicked, value=LookupValue, again=RUN_AGAIN)
    routes.action(Action.RATES_SHARE, lookups.share_clicked, value=LookupValue, again=RUN_AGAIN)
    routes.options(Action.RATES_PICK, lookups.picker_options)
    routes.action(
        Action.RATES_PICK, lookups.destination_picked, value=DestinationChoice, again=OPEN_TAB_AGAIN
    )
    routes.action(PAGE_BUTTON.pattern, page_turned, value=PageValue, again=OPEN_TAB_AGAIN)
    routes.action(Action.RATES_EXPORT, export_clicked)


class RateLookups:
    """The listeners that read the current table, through one cached index of it."""

    def __init__(self, cache: RateCache) -> None:
        self.cache = cache

    async def answer(
        self,
        interaction: Interaction[Any],
        text: str,
        *,
        command: str = "/rates",
        shared_by: str | None = None,
    ) -> Message:
        text = text[:MAX_TEXT].strip()
        query, quantity = parse_rate_query(text)
        unread = None
        if quantity is None:
            query, unread = split_unread_amount(query)
        if not query:
            return rates_help_message(command)
        found = await look_up(interaction.store, self.cache, await interaction.account_id(), query)
        if found is None:
            return no_table_message()
        answer = RateAnswer(text, quantity, found.result, found.table, found.voip_per_min, unread)
        return rate_message(answer, shared_by=shared_by)

    async def tab(self, interaction: Interaction[Any]) -> list[Block]:
        """The Rate Table tab for one user: where they left it (chosen destination, page)."""
        store = interaction.store
        terms = await store.rates.account_terms(await interaction.account_id())
        loaded = await self.cache.current()
        if loaded is None:
            return list(no_table_message().blocks)
        state = await store.rates.home_state(interaction.workspace.team_id, interaction.user_id)
        chosen = loaded.index.get(state.iso_code) if state.iso_code else None
        page = loaded.index.page(state.page, PAGE_SIZE)
        return rates_tab_blocks(RatesTab(loaded.info, page, chosen, terms.voip_rate_per_min))

    async def rates_command(self, interaction: Interaction[str]) -> None:
        if is_campaign(interaction.value):  # `/rates campaign`: the campaign capability's pre-flight
            await open_campaign(interaction)
            return
        await interaction.reply(await self.answer(interaction, interaction.value))

    async def plan_rates(self, interaction: Interaction[str]) -> None:
        if is_campaign(interaction.value):
            await open_campaign(interaction)
            return
        await interaction.reply(await self.answer(interaction, interaction.value, command="/plan rates"))

    async def lookup_clicked(self, interaction: Interaction[LookupValue]) -> None:
        """A suggestion ("did you mean…", another region of a shared dial code): answer in place."""
        message = await self.answer(interaction, interaction.value.q)
        await interaction.reply(message, replace_original=True)

    async def share_clicked(self, interaction: Interaction[LookupValue]) -> None:
        """Post the answer visibly in the conversation, saying who shared it."""
        message = await self.answer(interaction, interaction.value.q, shared_by=interaction.user_id)
        await interaction.reply(message)

    async def picker_options(self, interaction: Interaction[str]) -> list[dict[str, Any]]:
        """Type-ahead for the Home's destination picker; must answer within 3 s with the options."""
        await interaction.account_id()
        loaded = await self.cache.current()
        return destination_options(loaded.index.complete(interaction.value)) if loaded else []

    async def destination_picked(self, interaction: Interaction[DestinationChoice]) -> None:
        """Show the picked destination's rates, and turn the table to the page it is on."""
        await interaction.account_id()
        loaded = await self.cache.current()
        row = loaded.index.get(interaction.value.iso) if loaded else None
        if row is not None and loaded is not None:
            state = RatesHomeState(iso_code=row.iso_code, page=loaded.index.page_of(row.iso_code, PAGE_SIZE))
            await interaction.store.rates.remember_home_state(
                interaction.workspace.team_id, interaction.user_id, state
            )
        await interaction.home.publish(interaction, HomeTab.RATES)


async def page_turned(interaction: Interaction[PageValue]) -> None:
    """Prev/Next/First/Last: another page, keeping the chosen destination."""
    rates, team_id, user_id = interaction.store.rates, interaction.workspace.team_id, interaction.user_id
    state = await rates.home_state(team_id, user_id)
    await rates.remember_home_state(
        team_id, user_id, state.model_copy(update={"page": interaction.value.page})
    )
    await interaction.home.publish(interaction, HomeTab.RATES)


async def export_clicked(interaction: Interaction[None]) -> None:
    """Upload the current table, as `myplan export-rates` writes it, to the user's DM with the app."""
    user = interaction.user_id
    await interaction.account_id()
    table = await interaction.store.rates.table()
    if table is None:
        await interaction.client.chat_postMessage(channel=user, **no_table_message().as_kwargs())
        return
    dm = await interaction.client.conversations_open(users=user)
    name = f"rate-table-v{table.version}-{table.effective_date.isoformat()}.csv"
    sample = " (sample data, not real prices)" if table.sample else ""
    await interaction.client.files_upload_v2(
        channel=dm["channel"]["id"],
        content=to_csv(table.rows),
        filename=name,
        title=f"Rate table version {table.version}{sample}",
        initial_comment=(
            f"Here is the rate table (version {table.version}, effective "
            f"{table.effective_date.isoformat()}, {len(table.rows):,} destinations, USD){sample}."
        ),
    )
