"""One listener shape: every listener is a module-level function of one `Interaction`.

The wrappers here (used through `handlers.routes.Routes`) ack first, within Slack's 3 seconds, then do
the work in one of the app's work slots, with every failure going to the one error mapping:

- `acked(work)`: ack at once, then `work(interaction)`;
- `checked(check, work)`: for view submissions: `check` runs before the ack and answers either with
  `Accepted(value)` (the modal closes and `work` gets `value`) or with the ack that keeps the modal open
  (field errors, an updated view). The checked value is the only thing handed from the check to the work.
- `completed(step)`: for Workflow Builder steps (`function_executed`): ack at once, then `step` with the
  step's inputs; what it returns completes the step (functions.completeSuccess) and any failure fails it
  (functions.completeError) with the error mapping's message.

Bolt's asyncio runner loses an ack when a listener raises within ~10 ms of acking (it resets the
acknowledged response to None), so the work never raises into bolt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers.errors import fail_step, message_for, report_error
from handlers.limits import view_dict
from handlers.messages import Message, notice_modal
from handlers.payloads import ModalMetadata, ViewState
from handlers.services import Services
from handlers.workspace import Workspace, workspace_of
from store import Store

V = TypeVar("V")
W = TypeVar("W")
M = TypeVar("M", bound=ModalMetadata)


class Home(Protocol):
    """The App Home (`handlers.home.HomeTabs`): listeners redraw it after a change."""

    async def publish(self, interaction: Interaction[Any], tab: str | None = None) -> None: ...


@dataclass(frozen=True)
class Surfaces:
    """What every listener is wired with: the services, and the Home it may redraw."""

    services: Services
    home: Home


@dataclass(frozen=True)
class Interaction(Generic[V]):
    """One request from Slack as a listener sees it: who, from which workspace (and so which account),
    how to answer, the services, and the request's parsed `value` (a command's text, a button's decoded
    payload, a checked form)."""

    user_id: str
    workspace: Workspace
    client: AsyncWebClient
    services: Services
    home: Home
    value: V
    trigger_id: str = ""
    channel_id: str = ""
    respond: AsyncRespond | None = None
    """Present when the payload carries a response_url (slash commands, message buttons)."""
    body: Mapping[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def view(self) -> Mapping[str, Any]:
        """The modal or Home view the request came from (empty for others)."""
        view = self.body.get("view")
        return view if isinstance(view, Mapping) else {}

    @property
    def view_state(self) -> ViewState:
        return ViewState.of(self.view)

    async def account_id(self) -> str:
        return await self.workspace.account_id()

    async def modal_metadata(self, kind: type[M], what: str) -> M:
        """The modal's private metadata, which must be bound to this workspace's account."""
        return kind.bound(self.view.get("private_metadata"), await self.account_id(), what)

    async def require_admin(self, what: str) -> None:
        await self.workspace.require_admin(self.user_id, what)

    async def is_admin(self) -> bool:
        return await self.workspace.is_admin(self.user_id)

    async def reply(self, message: Message, *, replace_original: bool = False) -> None:
        """Answer where the request came from: via response_url when there is one, else by DM."""
        if self.respond is not None:
            await self.respond(**message.as_response(replace_original=replace_original))
        else:
            await self.tell(self.user_id, message)

    async def tell(self, user_id: str, message: Message) -> None:
        """A DM from the app (posting to a user id lands in their DM with it)."""
        await self.client.chat_postMessage(channel=user_id, **message.as_kwargs())

    async def open_modal(self, view: View) -> None:
        await self.client.views_open(trigger_id=self.trigger_id, view=view_dict(view))

    def with_value(self, value: W) -> Interaction[W]:
        return dataclasses.replace(self, value=value)  # type: ignore[return-value,arg-type]

    def acting_for(self, user_id: str) -> Interaction[V]:
        """The same request, on behalf of `user_id`: a Workflow Builder step names its person in an input
        (its event has none), and rights, replies and records are theirs."""
        return dataclasses.replace(self, user_id=user_id)


Work = Callable[[Interaction[V]], Awaitable[None]]
Parse = Callable[[AsyncArgs], V]


def interaction(args: AsyncArgs, surfaces: Surfaces, value: V) -> Interaction[V]:
    body: Mapping[str, Any] = args.body or {}
    respond: AsyncRespond | None = args.respond
    return Interaction(
        user_id=args.context.user_id or "",
        workspace=workspace_of(args.context),
        client=args.client,
        services=surfaces.services,
        home=surfaces.home,
        value=value,
        trigger_id=str(body.get("trigger_id") or ""),
        channel_id=args.context.channel_id or "",
        respond=respond if respond is not None and respond.response_url else None,
        body=body,
    )


async def _report(error: Exception, args: AsyncArgs) -> None:
    respond: AsyncRespond | None = args.respond
    await report_error(
        error,
        client=args.client,
        respond=respond if respond is not None and respond.response_url else None,
        body=args.body or {},
        user_id=args.context.user_id,
    )


Listener = Callable[[AsyncArgs], Awaitable[None]]


def acked(surfaces: Surfaces, work: Work[V], parse: Parse[V], **ack_kwargs: Any) -> Listener:
    """A listener that acks at once (Slack's 3-second limit), then parses the request and does `work`."""

    async def listener(args: AsyncArgs) -> None:
        await args.ack(**ack_kwargs)
        async with surfaces.services.work_slots.slot():
            try:
                await work(interaction(args, surfaces, parse(args)))
            except Exception as error:  # every failure reaches the user and the log, via report_error
                await _report(error, args)

    listener.__name__ = listener.__qualname__ = getattr(work, "__name__", "listener")
    return listener


@dataclass(frozen=True)
class Accepted(Generic[V]):
    """A submission's check passed: the modal closes and the work gets `value`."""

    value: V


ViewAck = dict[str, Any]
"""An ack that keeps the modal open: `{"response_action": "errors", "errors": {...}}` or an update."""
Check = Callable[[Interaction[None]], Awaitable[Accepted[V] | ViewAck]]


def field_errors(errors: Mapping[str, str]) -> ViewAck:
    """Errors shown under the fields (by block id) of the modal being submitted."""
    return {"response_action": "errors", "errors": dict(errors)}


def checked(surfaces: Surfaces, check: Check[V], work: Work[V] | None = None) -> Listener:
    """A view submission listener: `check` answers before the ack; `work` runs after it."""

    async def listener(args: AsyncArgs) -> None:
        try:
            outcome = await check(interaction(args, surfaces, None))
        except Exception as error:  # shown in the modal the user is looking at
            await args.ack(response_action="update", view=view_dict(notice_modal(message_for(error))))
            return
        if not isinstance(outcome, Accepted):
            await args.ack(**outcome)
            return
        await args.ack()
        if work is None:
            return
        async with surfaces.services.work_slots.slot():
            try:
                await work(interaction(args, surfaces, outcome.value))
            except Exception as error:
                await _report(error, args)

    listener.__name__ = listener.__qualname__ = getattr(check, "__name__", "listener")
    return listener


StepInputs = Mapping[str, Any]
StepOutputs = dict[str, Any]
Step = Callable[[Interaction[StepInputs]], Awaitable[StepOutputs]]
"""A Workflow Builder step: its inputs (by the manifest's names) in, its outputs out."""


def completed(surfaces: Surfaces, step: Step) -> Listener:
    """A `function_executed` listener: ack at once (bolt has acked the event already), then run `step` in a
    work slot. Its outputs complete the step; a failure (or a completion Slack refuses) fails it with the
    message the error mapping gives, which Slack shows to the person who ran the workflow."""

    async def listener(args: AsyncArgs) -> None:
        await args.ack()
        async with surfaces.services.work_slots.slot():
            inputs = args.context.inputs or {}
            try:
                outputs = await step(interaction(args, surfaces, inputs))
                await args.complete(outputs=outputs)
            except Exception as error:  # the step fails with what went wrong; bugs are logged
                await fail_step(error, args.fail)

    listener.__name__ = listener.__qualname__ = getattr(step, "__name__", "listener")
    return listener


OptionsWork = Callable[[Interaction[str]], Awaitable[list[dict[str, Any]]]]


def options(surfaces: Surfaces, work: OptionsWork) -> Listener:
    """An options (type-ahead) listener: its ack carries the options, so it answers within 3 seconds.
    A failure cannot be told to the user here: no options, and the error mapped (and logged)."""

    async def listener(args: AsyncArgs) -> None:
        typed = str((args.payload or {}).get("value") or "")
        try:
            found = await work(interaction(args, surfaces, typed))
        except Exception as error:
            message_for(error)
            found = []
        await args.ack(options=found)

    listener.__name__ = listener.__qualname__ = getattr(work, "__name__", "listener")
    return listener
