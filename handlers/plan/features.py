"""The two feature groups of Plan Monitoring: each feature's status, what it means, and its ⋮ menu."""

from __future__ import annotations

from enum import StrEnum

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from handlers.messages import Message, as_of_context, truncate
from handlers.payloads import Payload
from handlers.plan.ids import FEATURE_BLOCK, Action
from handlers.plan.views import (
    STATUS_LOOK,
    Dashboard,
    feature_status_text,
    plan_actions,
    summary_blocks,
)
from store.domain.plan import Feature, FeatureGroup, FeatureKey, FeatureStatus, PlanSnapshot

GROUP_TITLES = {
    FeatureGroup.CUSTOMERS: "Where your customers come from",
    FeatureGroup.ENGAGEMENT: "How your staff engage with your customers",
}


class MenuVerb(StrEnum):
    CREATE = "create"
    MANAGE = "manage"
    CONFIGURE = "configure"
    REQUEST_ADDON = "addon"

    @property
    def label(self) -> str:
        return {"create": "Create", "manage": "Manage", "configure": "Configure", "addon": "Request add-on"}[
            self.value
        ]


class MenuChoice(Payload):
    """An option of a feature's ⋮ menu."""

    verb: MenuVerb
    feature: FeatureKey


def feature_blocks(plan: PlanSnapshot, *, is_admin: bool, dashboard: Dashboard) -> list[Block]:
    """Both groups, in the vendor page's order; a group with none of its features is left out."""
    blocks: list[Block] = []
    for group, title in GROUP_TITLES.items():
        features = [f for f in plan.features if f.group == group]
        if not features:
            continue
        blocks.append(HeaderBlock(text=title))
        blocks.extend(
            feature_section(f, currency=plan.account.currency, is_admin=is_admin, dashboard=dashboard)
            for f in features
        )
    return blocks


def feature_section(feature: Feature, *, currency: str, is_admin: bool, dashboard: Dashboard) -> SectionBlock:
    text = feature_status_text(feature, currency=currency, is_admin=is_admin, dashboard=dashboard)
    return SectionBlock(
        block_id=FEATURE_BLOCK.id(feature.key.value),
        text=MarkdownTextObject(text=truncate(text, 3000)),
        accessory=feature_menu(feature, is_admin=is_admin, dashboard=dashboard),
    )


def menu_choices(feature: Feature, *, is_admin: bool) -> list[MenuVerb]:
    """The ⋮ options this reader may use for a feature in its status."""
    verbs: list[MenuVerb] = []
    match feature.status:
        case FeatureStatus.AVAILABLE:
            verbs = [MenuVerb.CREATE, MenuVerb.MANAGE]
        case FeatureStatus.PENDING:
            verbs = [MenuVerb.CONFIGURE, MenuVerb.MANAGE] if is_admin else [MenuVerb.MANAGE]
        case FeatureStatus.PROCESSING:
            verbs = [MenuVerb.MANAGE]
        case FeatureStatus.LOCKED:
            verbs = [MenuVerb.REQUEST_ADDON] if is_admin else []
    return [verb for verb in verbs if verb == MenuVerb.REQUEST_ADDON or _path(feature, verb)]


def feature_menu(feature: Feature, *, is_admin: bool, dashboard: Dashboard) -> OverflowMenuElement | None:
    options = []
    for verb in menu_choices(feature, is_admin=is_admin):
        path = _path(feature, verb)
        options.append(
            Option(
                value=MenuChoice(verb=verb, feature=feature.key).encode(),
                text=verb.label,
                url=dashboard(path) if path else None,
            )
        )
    return OverflowMenuElement(action_id=Action.FEATURE_MENU, options=options) if options else None


def _path(feature: Feature, verb: MenuVerb) -> str | None:
    match verb:
        case MenuVerb.CREATE:
            return feature.create_path
        case MenuVerb.MANAGE:
            return feature.manage_path
        case MenuVerb.CONFIGURE:
            return feature.configure_path or feature.manage_path
        case MenuVerb.REQUEST_ADDON:
            return None


def features_message(plan: PlanSnapshot, *, is_admin: bool, dashboard: Dashboard) -> Message:
    """`/plan features`: both groups with their menus, and Upgrade for administrators."""
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Features · {plan.account.company_name}", 150)),
        *feature_blocks(plan, is_admin=is_admin, dashboard=dashboard),
        as_of_context(plan.account.data_as_of),
        *plan_actions(is_admin=is_admin, share=False),
    ]
    lines = [f"{f.name}: {STATUS_LOOK[f.status][1]}" for f in plan.features]
    return Message(text=f"{plan.account.company_name} features: " + "; ".join(lines), blocks=blocks)


def plan_monitoring_blocks(plan: PlanSnapshot, *, is_admin: bool, dashboard: Dashboard) -> list[Block]:
    """The Plan Monitoring tab of the App Home: summary, Upgrade (administrators), both feature groups."""
    return [
        *summary_blocks(plan),
        *plan_actions(is_admin=is_admin, share=False),
        DividerBlock(),
        *feature_blocks(plan, is_admin=is_admin, dashboard=dashboard),
    ]
