"""`/plan SUBCOMMAND …`: each capability registers its own subcommands; the router runs them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.core.errors import UserFacingError
from handlers.interaction import Interaction, Work
from handlers.messages import Message, escape, truncate

DEFAULT = ""
"""The subcommand run by `/plan` alone."""
MAX_ECHO = 100
"""How much of an unknown subcommand the help repeats back (a pasted essay is cut)."""


class UnknownSubcommand(UserFacingError):
    """A subcommand's own words were not understood (`/plan company frobnicate`): the user gets help."""

    def __init__(self, typed: str) -> None:
        super().__init__(typed)
        self.typed = typed


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    run: Work[str]


class PlanCommands:
    """Routes `/plan` text to subcommands by its first word; unknown text gets help."""

    def __init__(self) -> None:
        self._routes: dict[str, Subcommand] = {}
        self._follow_ups: dict[str, list[Work[str]]] = {}

    def add(self, subcommand: Subcommand) -> None:
        self._routes[subcommand.name] = subcommand

    def add_follow_up(self, name: str, work: Work[str]) -> None:
        """Run `work` after the subcommand `name` has answered (another capability's own reply to it)."""
        self._follow_ups.setdefault(name, []).append(work)

    async def show_help(self, interaction: Interaction[str]) -> None:
        await interaction.reply(self.help())

    def help(self, unknown: str | None = None) -> Message:
        return help_message([(r.usage, r.summary) for r in self._routes.values()], unknown=unknown)

    async def dispatch(self, interaction: Interaction[str]) -> None:
        """Run the subcommand named by the first word, with the rest of the text as its value."""
        name, _, rest = interaction.value.strip().partition(" ")
        route = self._routes.get(name.lower())
        try:
            if route is None:
                raise UnknownSubcommand(name)
            await route.run(interaction.with_value(rest.strip()))
            for follow_up in self._follow_ups.get(route.name, []):
                await follow_up(interaction.with_value(rest.strip()))
        except UnknownSubcommand as unknown:
            await interaction.reply(self.help(unknown=unknown.typed or None))


def help_message(subcommands: Sequence[tuple[str, str]], *, unknown: str | None = None) -> Message:
    """The list of `/plan` subcommands; `unknown` is what the user typed that we did not understand."""
    lines = [f"• `{usage}` — {summary}" for usage, summary in subcommands]
    intro = f"I don't know `/plan {escape(truncate(unknown, MAX_ECHO))}`. " if unknown else ""
    blocks = [
        SectionBlock(
            text=MarkdownTextObject(text=f"{intro}*My Plan* brings your subscription plan into Slack.")
        ),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ContextBlock(
            elements=[MarkdownTextObject(text="Replies are only visible to you unless you share them.")]
        ),
    ]
    return Message(text=f"{intro}Try /plan help for what My Plan can do.", blocks=blocks)
