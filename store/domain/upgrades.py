"""Upgrade and add-on requests: what an administrator asked Sales for, with the evidence Sales saw."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from store.domain.plan import FeatureKey, FeatureStatus, Frozen, Meter, PlanSnapshot


class UpgradeKind(StrEnum):
    """What is wanted."""

    PLAN = "plan"
    VOICE_MINUTES = "voice_minutes"
    VIDEO_MINUTES = "video_minutes"
    STORAGE = "storage_gb"
    STAFF_LICENCES = "staff_licences"
    FEATURE = "feature"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self][0]

    @property
    def unit(self) -> str | None:
        """The unit of the quantity asked for; None when the kind takes no quantity."""
        return _KIND_LABELS[self][1]

    @property
    def takes_quantity(self) -> bool:
        return self.unit is not None

    @classmethod
    def for_meter(cls, meter: Meter) -> UpgradeKind:
        """The request that adds to a metered allowance (for "Request more" on a quota alert)."""
        return {
            Meter.VOICE_MINUTES: cls.VOICE_MINUTES,
            Meter.VIDEO_MINUTES: cls.VIDEO_MINUTES,
            Meter.STORAGE_GB: cls.STORAGE,
        }[meter]


_KIND_LABELS: dict[UpgradeKind, tuple[str, str | None]] = {
    UpgradeKind.PLAN: ("Upgrade to another plan", None),
    UpgradeKind.VOICE_MINUTES: ("More voice call minutes", "minutes"),
    UpgradeKind.VIDEO_MINUTES: ("More video call minutes", "minutes"),
    UpgradeKind.STORAGE: ("More storage", "GB"),
    UpgradeKind.STAFF_LICENCES: ("More staff licences", "licences"),
    UpgradeKind.FEATURE: ("Unlock a locked feature (add-on)", None),
}

MAX_QUANTITY = 1_000_000
MAX_NOTE_CHARS = 1000


class UpgradeStatus(StrEnum):
    REQUESTED = "requested"
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"


class Delivery(StrEnum):
    """Whether the request reached the sales channel."""

    PENDING = "pending"  # stored, not posted yet
    DELIVERED = "delivered"
    NO_CHANNEL = "no_channel"  # no sales channel is configured
    FAILED = "failed"  # Slack refused the post (channel missing, bot not in it…)


class EmailStatus(StrEnum):
    """Whether the request's email reached Sales' SMTP server (`SALES_EMAIL`); None: not emailed."""

    SENDING = "sending"  # recorded before the first attempt: left so, the process died while sending
    SENT = "sent"  # the server took it (250 after the message)
    FAILED = "failed"  # never taken: refused for good (5xx), or still failing after the retries
    UNCONFIRMED = "unconfirmed"  # the message went out but no answer came back: it may have arrived


MAX_EMAIL_ERROR_CHARS = 200


class UsageFigure(Frozen):
    """One line of evidence: an allowance, the staff licences, or a feature's usage."""

    name: str
    used: Decimal
    limit: Decimal | None
    unit: str


class Evidence(Frozen):
    """The account's plan and usage when the request was made: what Sales needs to act on it."""

    company_name: str
    plan_name: str
    monthly_fee: Decimal
    currency: str
    next_payment_date: date
    data_as_of: datetime
    allowances: tuple[UsageFigure, ...] = ()
    features: tuple[UsageFigure, ...] = ()
    account_manager: str | None = None
    """The account's manager in the Sales workspace when the request was made (mentioned in the post)."""

    @classmethod
    def of(cls, plan: PlanSnapshot) -> Evidence:
        sub = plan.subscription
        allowances = [
            UsageFigure(name=a.meter.label, used=a.used, limit=a.available, unit=a.meter.unit)
            for meter in Meter
            if (a := plan.allowance(meter)) is not None
        ]
        allowances.append(
            UsageFigure(
                name="Staff licences",
                used=Decimal(sub.staff_licences_assigned),
                limit=Decimal(sub.staff_licences_purchased),
                unit="assigned",
            )
        )
        features = [
            UsageFigure(name=f.name, used=Decimal(f.used), limit=Decimal(f.limit), unit=f.unit)
            for f in plan.features
            if f.status == FeatureStatus.AVAILABLE and f.limit is not None
        ]
        return cls(
            company_name=plan.account.company_name,
            plan_name=sub.plan_name,
            monthly_fee=sub.monthly_fee,
            currency=plan.account.currency,
            next_payment_date=sub.next_payment_date,
            data_as_of=plan.account.data_as_of,
            allowances=tuple(allowances),
            features=tuple(features),
            account_manager=plan.account.account_manager,
        )


class UpgradeDraft(Frozen):
    """A request as submitted, before it is stored."""

    account_id: str
    team_id: str
    requested_by: str
    kind: UpgradeKind
    quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    feature: FeatureKey | None = None
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)
    evidence: Evidence


class UpgradeRequest(UpgradeDraft):
    """A stored request, with where it stands with Sales."""

    id: str
    status: UpgradeStatus
    created_at: datetime
    updated_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    done_by: str | None = None
    done_at: datetime | None = None
    delivery: Delivery
    sales_channel: str | None = None
    sales_ts: str | None = None
    delivery_error: str | None = None
    email_status: EmailStatus | None = None
    email_to: str | None = None
    email_at: datetime | None = None
    """When the email outcome was recorded (for SENT: when the server took it)."""
    email_attempts: int = 0
    email_error: str | None = None

    @property
    def feature_name(self) -> str | None:
        return self.feature.info.name if self.feature is not None else None
