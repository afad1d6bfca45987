"""Company Information: `/plan company [edit | history]`, the Home tab, the edit modal and its submission."""

from __future__ import annotations

from typing import Any, Final

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.company import FieldErrors, validate_company_form
from bot.errors import ExpiredForm, NoticeNotPosted
from bot.ids import Action, Callback
from bot.listeners import ack_then, check_then
from bot.services import Services
from bot.tenant import Tenant, tenant_of
from bot.views.company import (
    CompanyEditMetadata,
    change_notice,
    company_blocks,
    company_message,
    conflict_modal,
    country_options_for,
    edit_modal,
    error_response,
    escape,
    form_from_info,
    form_from_state,
    history_message,
    history_modal,
    unavailable_response,
)
from bot.views.home import HomeTab
from handlers.home import HomeRequest, HomeTabs
from handlers.router import CommandRequest, PlanCommands
from store.company import CompanyConflict
from store.domain.company import CompanySave
from store.errors import StoreUnavailable

EDIT: Final = "edit Company Information"
SEE_HISTORY: Final = "see the change history of Company Information"
WHAT: Final = "Company Information"
# Context key: the save, handed from the submission check to the work done after the ack.
_SAVED: Final = "company.saved"


class CompanyHandlers:
    """The listeners, sharing the services and the Home tabs they refresh."""

    def __init__(self, services: Services, tabs: HomeTabs) -> None:
        self.store = services.store
        self.tabs = tabs

    # --- showing -------------------------------------------------------------------------------------

    async def tab(self, request: HomeRequest) -> list[Block]:
        info = await self.store.company.get(await request.tenant.account_id())
        return company_blocks(info, can_edit=await request.tenant.is_admin(request.user_id))

    async def command(self, request: CommandRequest, commands: PlanCommands) -> None:
        match request.args.lower():
            case "":
                info = await self.store.company.get(await request.tenant.account_id())
                can_edit = await request.tenant.is_admin(request.user_id)
                await request.reply(company_message(info, can_edit=can_edit))
            case "edit":
                await self.open_editor(request.client, request.tenant, request.user_id, request.trigger_id)
            case "history":
                await request.tenant.require_admin(request.user_id, SEE_HISTORY)
                history = await self.store.company.history(await request.tenant.account_id())
                await request.reply(history_message(history))
            case _:
                await request.reply(commands.help(unknown=f"company {request.args}"))

    async def history_clicked(self, args: AsyncArgs) -> None:
        tenant, user_id = tenant_of(args.context), _user_id(args)
        await tenant.require_admin(user_id, SEE_HISTORY)
        history = await self.store.company.history(await tenant.account_id())
        await args.client.views_open(trigger_id=(args.body or {})["trigger_id"], view=history_modal(history))

    # --- editing -------------------------------------------------------------------------------------

    async def edit_clicked(self, args: AsyncArgs) -> None:
        await self.open_editor(
            args.client, tenant_of(args.context), _user_id(args), (args.body or {})["trigger_id"]
        )

    async def open_editor(
        self, client: AsyncWebClient, tenant: Tenant, user_id: str, trigger_id: str
    ) -> None:
        await tenant.require_admin(user_id, EDIT)
        account_id = await tenant.account_id()
        info = await self.store.company.get(account_id)
        metadata = CompanyEditMetadata(account_id=account_id, version=info.version if info else 0)
        await client.views_open(trigger_id=trigger_id, view=edit_modal(form_from_info(info), metadata))

    async def check_submission(self, args: AsyncArgs) -> dict[str, Any]:
        """Validate and save before the ack, so errors and conflicts show on the modal itself."""
        try:
            return await self._check_and_save(args)
        except StoreUnavailable:
            # Keep the modal open with everything typed in it, rather than replacing it with a notice.
            return unavailable_response()

    async def _check_and_save(self, args: AsyncArgs) -> dict[str, Any]:
        tenant, user_id = tenant_of(args.context), _user_id(args)
        await tenant.require_admin(user_id, EDIT)  # a forged submission from a non-admin stops here
        account_id = await tenant.account_id()  # from the workspace, never from the payload
        view: dict[str, Any] = (args.body or {})["view"]
        metadata = CompanyEditMetadata.parse(view.get("private_metadata"))
        if metadata is None or metadata.account_id != account_id:
            raise ExpiredForm(WHAT)
        typed = form_from_state(view.get("state", {}).get("values", {}))
        stored = await self.store.company.get(account_id)
        result = validate_company_form(typed, default_region=stored.country if stored else None)
        if isinstance(result, FieldErrors):
            return error_response(result)
        try:
            saved = await self.store.company.save(
                account_id, result, expected_version=metadata.version, actor=user_id
            )
        except CompanyConflict as conflict:
            current = conflict.current
            rebased = CompanyEditMetadata(account_id=account_id, version=current.version if current else 0)
            return {
                "response_action": "update",
                "view": conflict_modal(typed, current, result, rebased).to_dict(),
            }
        args.context[_SAVED] = saved
        return {}

    async def after_save(self, args: AsyncArgs) -> None:
        """After the modal closed: refresh the editor's Home and tell the alerts channel."""
        saved = args.context.get(_SAVED)
        if not isinstance(saved, CompanySave) or not saved.changes:
            return
        tenant, user_id = tenant_of(args.context), _user_id(args)
        await self.tabs.publish(args.client, tenant, user_id, HomeTab.COMPANY)
        plan = await self.store.accounts.snapshot(await tenant.account_id())
        channel = plan.account.alerts_channel
        if channel:
            notice = change_notice(saved.changes, await _display_name(args.client, user_id))
            try:
                await args.client.chat_postMessage(channel=channel, **notice.as_kwargs())
            except SlackApiError as error:
                raise NoticeNotPosted(WHAT, channel, str(error.response.get("error"))) from error

    async def country_search(self, args: AsyncArgs) -> None:
        """Type-ahead for the country select (pure and fast: answers well inside Slack's 3 seconds)."""
        query = str((args.payload or {}).get("value") or "")
        await args.ack(options=[option.to_dict() for option in country_options_for(query)])


def _user_id(args: AsyncArgs) -> str:
    return str((args.body or {})["user"]["id"])


async def _display_name(client: AsyncWebClient, user_id: str) -> str:
    """'@Mei Ling' without pinging them in the channel; a mention when the profile can't be read."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError:
        return f"<@{user_id}>"
    user: dict[str, Any] = response.get("user") or {}
    profile: dict[str, Any] = user.get("profile") or {}
    name = (
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    )
    return f"@{escape(str(name))}" if name else f"<@{user_id}>"


def register(app: AsyncApp, commands: PlanCommands, tabs: HomeTabs, services: Services) -> None:
    handlers = CompanyHandlers(services, tabs)
    tabs.tab(HomeTab.COMPANY)(handlers.tab)

    @commands.subcommand(
        "company",
        usage="/plan company [edit | history]",
        summary="your company's contact details; administrators edit them and see who changed what",
    )
    async def company(request: CommandRequest) -> None:
        await handlers.command(request, commands)

    app.action(Action.COMPANY_EDIT)(ack_then(handlers.edit_clicked))
    app.action(Action.COMPANY_HISTORY)(ack_then(handlers.history_clicked))
    app.options(Action.COMPANY_COUNTRY)(handlers.country_search)
    app.view(Callback.COMPANY_EDIT)(check_then(handlers.check_submission, handlers.after_save))
