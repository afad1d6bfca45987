"""Company Information: `/plan company [edit | history]`, the Home tab, the edit modal and its submission."""

from __future__ import annotations

from typing import Any, Final

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.company import FieldErrors, validate_company_form
from bot.core.errors import NoticeNotPosted
from handlers.commands import UnknownSubcommand
from handlers.company.form import (
    CompanyEditMetadata,
    error_response,
    form_from_info,
    form_from_state,
    unavailable_response,
)
from handlers.company.ids import Action, Callback
from handlers.company.views import (
    change_notice,
    company_blocks,
    company_message,
    conflict_modal,
    country_options_for,
    edit_modal,
    history_message,
    history_modal,
)
from handlers.home import HomeTab
from handlers.interaction import Accepted, Interaction, ViewAck
from handlers.limits import view_dict
from handlers.messages import escape
from handlers.routes import Routes
from store.company import CompanyConflict
from store.domain.company import CompanySave
from store.errors import StoreUnavailable

EDIT: Final = "edit Company Information"
SEE_HISTORY: Final = "see the change history of Company Information"
WHAT: Final = "Company Information"


def register(routes: Routes) -> None:
    routes.home_tab(HomeTab.COMPANY, company_tab)
    routes.subcommand(
        "company",
        company_command,
        usage="/plan company [edit | history]",
        summary="your company's contact details; administrators edit them and see who changed what",
    )
    routes.action(Action.COMPANY_EDIT, open_editor)
    routes.action(Action.COMPANY_HISTORY, show_history_modal)
    routes.options(Action.COMPANY_COUNTRY, country_search)
    routes.view(Callback.COMPANY_EDIT, check_and_save, after_save)


async def company_tab(interaction: Interaction[Any]) -> list[Block]:
    info = await interaction.store.company.get(await interaction.account_id())
    return company_blocks(info, can_edit=await interaction.is_admin())


async def company_command(interaction: Interaction[str]) -> None:
    match interaction.value.lower():
        case "":
            info = await interaction.store.company.get(await interaction.account_id())
            await interaction.reply(company_message(info, can_edit=await interaction.is_admin()))
        case "edit":
            await open_editor(interaction)
        case "history":
            await interaction.require_admin(SEE_HISTORY)
            history = await interaction.store.company.history(await interaction.account_id())
            await interaction.reply(history_message(history))
        case _:
            raise UnknownSubcommand(f"company {interaction.value}")


async def show_history_modal(interaction: Interaction[None]) -> None:
    await interaction.require_admin(SEE_HISTORY)
    history = await interaction.store.company.history(await interaction.account_id())
    await interaction.open_modal(history_modal(history))


async def open_editor(interaction: Interaction[Any]) -> None:
    await interaction.require_admin(EDIT)
    account_id = await interaction.account_id()
    info = await interaction.store.company.get(account_id)
    metadata = CompanyEditMetadata(account_id=account_id, version=info.version if info else 0)
    await interaction.open_modal(edit_modal(form_from_info(info), metadata))


async def check_and_save(interaction: Interaction[None]) -> Accepted[CompanySave] | ViewAck:
    """Validate and save before the ack, so errors and conflicts show on the modal itself."""
    try:
        return await _validate_and_save(interaction)
    except StoreUnavailable:
        # Keep the modal open with everything typed in it, rather than replacing it with a notice.
        return unavailable_response()


async def _validate_and_save(interaction: Interaction[None]) -> Accepted[CompanySave] | ViewAck:
    await interaction.require_admin(EDIT)  # a forged submission from a non-admin stops here
    metadata = await interaction.modal_metadata(CompanyEditMetadata, WHAT)
    account_id = metadata.account_id  # bound to the workspace's own account
    typed = form_from_state(interaction.view_state)
    stored = await interaction.store.company.get(account_id)
    result = validate_company_form(typed, default_region=stored.country if stored else None)
    if isinstance(result, FieldErrors):
        return error_response(result)
    try:
        saved = await interaction.store.company.save(
            account_id, result, expected_version=metadata.version, actor=interaction.user_id
        )
    except CompanyConflict as conflict:
        current = conflict.current
        rebased = CompanyEditMetadata(account_id=account_id, version=current.version if current else 0)
        return {
            "response_action": "update",
            "view": view_dict(conflict_modal(typed, current, result, rebased)),
        }
    return Accepted(saved)


async def after_save(interaction: Interaction[CompanySave]) -> None:
    """After the modal closed: refresh the editor's Home and tell the alerts channel."""
    if not interaction.value.changes:
        return
    await interaction.home.publish(interaction, HomeTab.COMPANY)
    plan = await interaction.store.accounts.snapshot(await interaction.account_id())
    channel = plan.account.alerts_channel
    if channel:
        notice = change_notice(interaction.value.changes, await _display_name(interaction))
        try:
            await interaction.client.chat_postMessage(channel=channel, **notice.as_kwargs())
        except SlackApiError as error:
            raise NoticeNotPosted(WHAT, channel, str(error.response.get("error"))) from error


async def country_search(interaction: Interaction[str]) -> list[dict[str, Any]]:
    """Type-ahead for the country select (pure and fast: answers well inside Slack's 3 seconds)."""
    return [option.to_dict() for option in country_options_for(interaction.value)]


async def _display_name(interaction: Interaction[Any]) -> str:
    """'@Mei Ling' without pinging them in the channel; a mention when the profile can't be read."""
    user_id = interaction.user_id
    try:
        response = await interaction.client.users_info(user=user_id)
    except SlackApiError:
        return f"<@{user_id}>"
    user: dict[str, Any] = response.get("user") or {}
    profile: dict[str, Any] = user.get("profile") or {}
    name = (
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    )
    return f"@{escape(str(name))}" if name else f"<@{user_id}>"
