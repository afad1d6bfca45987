"""Every action_id, callback_id and block_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    HOME_TAB = "home.tab"
    COMPANY_EDIT = "company.edit"
    COMPANY_HISTORY = "company.history"
    COMPANY_COUNTRY = "company.country"  # the external select; its options listener too
    COMPANY_TEXT = "company.text"  # every text input of the edit modal (the block says which field)
    PLAN_UPGRADE = "plan.upgrade"
    PLAN_SHARE = "plan.share"
    FEATURE_MENU = "feature.menu"  # one overflow per feature; the option's value names it
    UPGRADE_KIND = "upgrade.kind"
    UPGRADE_QUANTITY = "upgrade.quantity"
    UPGRADE_FEATURE = "upgrade.feature"
    UPGRADE_NOTE = "upgrade.note"
    UPGRADE_ACKNOWLEDGE = "upgrade.acknowledge"
    UPGRADE_DONE = "upgrade.done"
    # Rate Table: buttons that look a destination up again (suggestions; suffixed .0–.n), Share, the
    # Home tab's picker (an external_select served by an options listener), paging and export.
    RATES_LOOKUP = "rates.lookup"
    RATES_SHARE = "rates.share"
    RATES_PICK = "rates.pick"
    RATES_PAGE = "rates.page"
    RATES_EXPORT = "rates.export"
    ALERT_VIEW_PLAN = "alert.view_plan"
    ALERT_REQUEST_MORE = "alert.request_more"
    ALERT_SNOOZE = "alert.snooze"
    ALERT_ACKNOWLEDGE = "alert.acknowledge"
    ALERTS_ENABLED = "alerts.enabled"
    ALERTS_CHANNEL = "alerts.channel"
    ALERTS_THRESHOLDS = "alerts.thresholds"
    ALERTS_METER = "alerts.meter"


class Block(StrEnum):
    HOME_TABS = "home.tabs"
    PLAN_SUMMARY = "plan.summary"
    PLAN_USAGE = "plan.usage"
    PLAN_NOTE = "plan.note"
    PLAN_ACTIONS = "plan.actions"
    COMPANY_DETAILS = "company.details"
    COMPANY_UPDATED = "company.updated"
    COMPANY_ACTIONS = "company.actions"
    COMPANY_CONFLICT = "company.conflict"
    COMPANY_REQUIRED_NOTE = "company.required"
    COMPANY_COUNTRY = "company.field.country"
    COMPANY_ADDRESS = "company.field.address"
    COMPANY_WEBSITE = "company.field.website"
    COMPANY_CONTACT_PERSON = "company.field.contact_person"
    COMPANY_CONTACT_NUMBER = "company.field.contact_number"
    COMPANY_EMAIL = "company.field.email"
    PLAN_FEATURES = "plan.features"  # the one-line feature overview under `/plan`
    FEATURE = "feature"  # prefix: "feature.<key>", one section per feature
    UPGRADE_KIND = "upgrade.kind"
    UPGRADE_QUANTITY = "upgrade.quantity"
    UPGRADE_FEATURE = "upgrade.feature"
    UPGRADE_NOTE = "upgrade.note"
    SALES_REQUEST = "sales.request"
    SALES_USAGE = "sales.usage"
    SALES_ACTIONS = "sales.actions"
    RATES_RESULT = "rates.result"
    RATES_RATES = "rates.rates"
    RATES_ESTIMATE = "rates.estimate"
    RATES_CHOICES = "rates.choices"
    RATES_NOTE = "rates.note"
    RATES_ACTIONS = "rates.actions"
    RATES_CHANGES = "rates.changes"
    RATES_TOOLS = "rates.tools"
    RATES_CHOSEN = "rates.chosen"
    RATES_PAGE_HEAD = "rates.page.head"
    RATES_PAGER = "rates.pager"

    ALERT_HEADLINE = "alert.headline"
    ALERT_USAGE = "alert.usage"
    ALERT_FORECAST = "alert.forecast"
    ALERT_NOTE = "alert.note"
    ALERT_STATE = "alert.state"
    ALERT_ACTIONS = "alert.actions"
    ALERTS_INTRO = "alerts.intro"
    ALERTS_ENABLED = "alerts.enabled"
    ALERTS_CHANNEL = "alerts.channel"
    ALERTS_THRESHOLDS = "alerts.thresholds"
    ALERTS_OVERRIDES = "alerts.overrides"
    ALERTS_METER = "alerts.meter"
    """Prefix: one input block per watched meter, `alerts.meter.<meter>`."""
    ALERTS_RECENT = "alerts.recent"
    USAGE_SUMMARY = "usage.summary"


class Callback(StrEnum):
    COMPANY_EDIT = "company.edit"
    UPGRADE = "upgrade.request"
    ALERT_SETTINGS = "alerts.settings"
