"""The one bundle every capability registers its listeners with: `register(routes: Routes)`.

    def register(routes: Routes) -> None:
        routes.subcommand("company", company_command, usage="/plan company [edit | history]", summary="…")
        routes.action(Action.EDIT, edit_clicked)
        routes.action(Action.PAGE.pattern, page_turned, value=PageValue, again="Open the tab again.")
        routes.view(Callback.EDIT, check_submission, after_save)
        routes.home_tab(HomeTab.COMPANY, company_tab)

Every listener is a module-level function of one `Interaction` (see `handlers.interaction`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant

from handlers.commands import DEFAULT, PlanCommands, Subcommand
from handlers.home import TAB_BUTTON, HomeTab, HomeTabs, TabBuilder, TabChoice
from handlers.interaction import (
    Check,
    OptionsWork,
    Step,
    Surfaces,
    Work,
    acked,
    checked,
    completed,
    options,
)
from handlers.payloads import Payload
from handlers.services import Services

P = TypeVar("P", bound=Payload)
V = TypeVar("V")
Matcher = str | re.Pattern[str]


class Routes:
    """The app, the `/plan` router, the Home tabs and the services, as capabilities register with them."""

    def __init__(self, app: AsyncApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.commands = PlanCommands()
        self.home = HomeTabs()
        self._surfaces = Surfaces(services, self.home)
        self.command("/plan", self.commands.dispatch)
        self.event("app_home_opened", self.home.home_opened)
        self.action(TAB_BUTTON.pattern, self.home.tab_clicked, value=TabChoice, again="Open the Home again.")

    def command(self, command: str, work: Work[str]) -> None:
        """A slash command; the work gets the command's text."""
        self.app.command(command)(acked(self._surfaces, work, _command_text))

    def subcommand(self, name: str, work: Work[str], *, usage: str, summary: str) -> None:
        """`/plan NAME …`; the work gets the text after NAME. `name=DEFAULT` is `/plan` alone."""
        self.commands.add(Subcommand(name, usage, summary, work))

    def follow_up(self, name: str, work: Work[str]) -> None:
        """A second reply to `/plan NAME`, after the subcommand's own: how a capability adds its part to
        another's subcommand (licence hygiene after `/plan usage`)."""
        self.commands.add_follow_up(name, work)

    def action(
        self, matcher: Matcher, work: Work[Any], *, value: type[Payload] | None = None, again: str = ""
    ) -> None:
        """A button, menu or select. With `value`, the work gets the clicked element's value decoded
        as that payload; one that cannot be read is answered as a stale button (`again` says what to do)."""
        self.app.action(matcher)(acked(self._surfaces, work, _action_value(value, again)))

    def options(self, matcher: Matcher, work: OptionsWork) -> None:
        """The options of an external select, for what the user has typed so far."""
        self.app.options(matcher)(options(self._surfaces, work))

    def view(self, callback_id: Matcher, check: Check[V], work: Work[V] | None = None) -> None:
        """A modal's submission: `check` before the ack, `work` after it with what the check accepted."""
        self.app.view(callback_id)(checked(self._surfaces, check, work))

    def event(self, event: str, work: Work[Mapping[str, Any]]) -> None:
        """An Events API event; the work gets the event."""
        self.app.event(event)(acked(self._surfaces, work, _event))

    def function(self, callback_id: str, step: Step) -> None:
        """A Workflow Builder custom step (a `function_executed` event for `callback_id`, declared in the
        manifest's `functions`): the step gets its inputs and returns its outputs; an error fails it."""
        self.app.function(callback_id)(completed(self._surfaces, step))

    def assistant(
        self,
        *,
        thread_started: Work[Mapping[str, Any]],
        user_message: Work[Mapping[str, Any]],
        context_changed: Work[Mapping[str, Any]],
    ) -> None:
        """Slack's assistant panel, through bolt's `AsyncAssistant` middleware: a thread started, a person's
        message in a thread of the app's DM, the channel the person is viewing changed; each work gets the
        event. Edits and deletions in those threads are acked and go no further; anything else (a message
        at the top of the DM, a bot's) goes on to the app's other listeners."""
        assistant = AsyncAssistant(logger=self.app.logger)
        assistant.thread_started(acked(self._surfaces, thread_started, _event))
        assistant.user_message(acked(self._surfaces, user_message, _event))
        assistant.thread_context_changed(acked(self._surfaces, context_changed, _event))
        self.app.assistant(assistant)

    def home_tab(self, tab: HomeTab, builder: TabBuilder) -> None:
        self.home.add(tab, builder)

    def home_section(self, tab: HomeTab, builder: TabBuilder) -> None:
        """A section of this capability's under another's tab (nothing when it builds no blocks)."""
        self.home.add_section(tab, builder)


def _command_text(args: AsyncArgs) -> str:
    return str((args.command or {}).get("text") or "")


def _event(args: AsyncArgs) -> Mapping[str, Any]:
    return args.event or {}


def _action_value(kind: type[P] | None, again: str) -> Any:
    def parse(args: AsyncArgs) -> P | None:
        if kind is None:
            return None
        action = args.action or {}
        selected = action.get("selected_option")
        raw = selected.get("value") if isinstance(selected, Mapping) else action.get("value")
        return kind.require(raw, again)

    return parse


__all__ = ["DEFAULT", "HomeTab", "Routes"]
