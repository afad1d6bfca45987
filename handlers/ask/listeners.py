"""Questions in plain words: in Slack's assistant panel (suggested prompts when a thread starts, a status
while answering), in the app's Messages tab, and @-mentions in channels (answered in the mention's thread).

Every question gets the same answer wherever it is asked, with the rights of the slash commands: the
workspace must be linked and the asker one of its members (`Interaction.account_id`), and upgrade requests,
which are the administrators', are shown to administrators only. What the bot does not understand is
answered with what it can answer. Where answers and errors go: `handlers.questions`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any, Final

from slack_sdk.errors import SlackApiError

from bot.alerts.burndown import plan_burn_downs
from bot.alerts.local_time import zone_of
from bot.ask import SUGGESTED_PROMPTS, Intent, Question, understand
from bot.digest.changes import week_changes
from bot.digest.schedule import week_ending
from bot.rates import parse_rate_query
from bot.rates.lookup import look_up
from handlers.ask.views import (
    MAX_ADMINS_SHOWN,
    admins_message,
    allowances_message,
    changes_message,
    examples_message,
    forecasts_message,
    plan_summary_message,
    rates_answer_message,
    renewal_message,
    which_destination_message,
)
from handlers.interaction import Interaction
from handlers.messages import Message
from handlers.questions import Asked
from handlers.rates.views import RateAnswer, no_table_message
from handlers.routes import Routes

log = logging.getLogger(__name__)

Event = Mapping[str, Any]

STATUS: Final = "is looking that up…"
"""The assistant panel's status while a question is answered ("My Plan is looking that up…"); Slack clears
it when the answer is posted."""
PROMPTS_TITLE: Final = "Ask about your plan"


def register(routes: Routes) -> None:
    routes.assistant(
        thread_started=thread_started, user_message=assistant_question, context_changed=context_changed
    )
    routes.event("message", direct_message)
    routes.event("app_mention", mentioned)


async def thread_started(interaction: Interaction[Event]) -> None:
    """A thread of the assistant panel was opened: suggest questions."""
    thread = interaction.value.get("assistant_thread")
    thread = thread if isinstance(thread, Mapping) else {}
    channel, ts = thread.get("channel_id"), thread.get("thread_ts")
    if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts):
        return
    await interaction.client.assistant_threads_setSuggestedPrompts(
        channel_id=channel,
        thread_ts=ts,
        title=PROMPTS_TITLE,
        prompts=[{"title": prompt, "message": prompt} for prompt in SUGGESTED_PROMPTS],
    )


async def context_changed(interaction: Interaction[Event]) -> None:
    """The person moved to another channel with the panel open. Nothing to do: no answer depends on the
    channel (bolt's default would read the thread and rewrite its first reply to remember it)."""


async def assistant_question(interaction: Interaction[Event]) -> None:
    """A message in a thread of the app's DM (the assistant panel): a status while it is answered."""
    asked = Asked.of(interaction.body)
    if asked is None:
        return
    await _show_status(interaction, asked)
    await answer(interaction, asked)


async def direct_message(interaction: Interaction[Event]) -> None:
    """A message at the top of the app's Messages tab (threads there are the assistant's)."""
    asked = Asked.of(interaction.body)
    if asked is None or asked.in_channel:
        return
    await answer(interaction, asked)


async def mentioned(interaction: Interaction[Event]) -> None:
    """An @-mention in a channel: answered in its thread."""
    asked = Asked.of(interaction.body)
    if asked is None:
        return
    await answer(interaction, asked)


async def answer(interaction: Interaction[Any], asked: Asked) -> None:
    question = understand(asked.text)
    log.info("a question understood as %s", question.intent or "nothing")
    await asked.answer(interaction.client, await reply(interaction, question, asked))


async def reply(interaction: Interaction[Any], question: Question, asked: Asked) -> Message:
    """The answer to `question`; what I can answer when it was not understood or was a request for help."""
    if question.intent is None:
        return examples_message(question.text)
    if question.intent == Intent.HELP:
        return examples_message()
    account_id = await interaction.account_id()
    store = interaction.store
    if question.intent == Intent.CALL_COST:
        return await _rates(interaction, account_id, question)
    if question.intent == Intent.ADMINS:
        admins = await store.admins.list(account_id)
        return admins_message(admins, await _names(interaction, admins) if asked.in_channel else None)
    if question.intent == Intent.CHANGES:
        return await _changes(interaction, account_id)
    plan = await store.accounts.snapshot(account_id)
    if question.intent == Intent.ALLOWANCE:
        return allowances_message(plan, question.meters)
    if question.intent == Intent.RENEWAL:
        return renewal_message(plan, interaction.services.clock().date())
    if question.intent == Intent.RUN_OUT:
        charts = await plan_burn_downs(store, plan)
        forecasts = {meter: chart.forecast for meter, chart in charts.items()}
        return forecasts_message(plan, forecasts, question.meters)
    return plan_summary_message(plan)


async def _rates(interaction: Interaction[Any], account_id: str, question: Question) -> Message:
    """As `/rates <destination> [quantity]` answers."""
    if question.rates_query is None:
        return which_destination_message()
    query, quantity = parse_rate_query(question.rates_query)
    found = await look_up(interaction.store, interaction.services.rates, account_id, query)
    if found is None:
        return no_table_message()
    answer = RateAnswer(question.rates_query, quantity, found.result, found.table, found.voip_per_min)
    return rates_answer_message(answer)


async def _changes(interaction: Interaction[Any], account_id: str) -> Message:
    """The weekly digest's changes over the seven days to now, on the account's clock."""
    store = interaction.store
    zone = zone_of(await store.alerts.rules(account_id))
    week = week_ending(zone, interaction.services.clock())
    plan = await store.accounts.snapshot(account_id)
    changes = await week_changes(store, plan, zone, since=week.since, until=week.until)
    hidden = not await interaction.is_admin()
    if hidden:
        changes = dataclasses.replace(changes, upgrades=())
    return changes_message(changes, week, requests_hidden=hidden)


async def _names(interaction: Interaction[Any], users: list[str]) -> dict[str, str]:
    """Names to show instead of mentions, which would notify everyone named in a channel."""
    names = {}
    for user in users[:MAX_ADMINS_SHOWN]:
        name = (await interaction.workspace.slack_user(user)).name
        if name:
            names[user] = name
    return names


async def _show_status(interaction: Interaction[Any], asked: Asked) -> None:
    """The panel's status while answering. Only a nicety: if Slack refuses it, the answer still comes."""
    if asked.thread_ts is None:
        return
    try:
        await interaction.client.assistant_threads_setStatus(
            channel_id=asked.channel, thread_ts=asked.thread_ts, status=STATUS
        )
    except SlackApiError as error:
        log.warning("no assistant status in %s: %s", asked.channel, error.response.get("error"))
