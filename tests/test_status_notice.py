"""The feature status notice (a pure view builder) and the API's error shapes (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from bot.api.errors import field_name, from_validation_error
from bot.api.models import UsageBatch
from bot.devtools.blockkit import validate_message
from handlers.plan.status_notice import status_notice
from store.domain.account import FeatureStatusChange
from store.domain.plan import Account, Feature, FeatureKey, FeatureStatus

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
ACCOUNT = Account(id="acme", company_name="Acme Ltd", voip_rate_per_min=Decimal("0.004"), data_as_of=NOW)


def feature(status: FeatureStatus, **extra: str) -> Feature:
    return Feature(key=FeatureKey.OMNICHANNELS, status=status, status_since=NOW, unit="channels", **extra)


def change(before: FeatureStatus, after: FeatureStatus) -> FeatureStatusChange:
    return FeatureStatusChange(
        account_id="acme", key=FeatureKey.OMNICHANNELS, before=before, after=after, at=NOW
    )


def link(path: str) -> str:
    return "https://dash.example" + path


def text_of(params: dict[str, object]) -> str:
    return str(params)


def test_pending_offers_the_reason_and_the_configure_link() -> None:
    pending = feature(FeatureStatus.PENDING, pending_reason="Connect WhatsApp.", configure_path="/omni/setup")
    message = status_notice(
        ACCOUNT, [(pending, change(FeatureStatus.PROCESSING, FeatureStatus.PENDING))], link
    )
    assert message.text == "Omnichannels is now Pending (was Processing)"
    body = text_of(message.as_kwargs())
    assert "Connect WhatsApp." in body
    assert "<https://dash.example/omni/setup|Configure it in the dashboard>" in body
    assert "Acme Ltd" in body
    assert "<!date^" in body
    assert validate_message(message.as_kwargs(), where="notice") == []


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (FeatureStatus.AVAILABLE, "Manage it in the dashboard"),
        (FeatureStatus.PROCESSING, "is being activated"),
        (FeatureStatus.LOCKED, "request it as an add-on"),
    ],
)
def test_each_status_says_what_it_means(after: FeatureStatus, expected: str) -> None:
    shown = feature(after, manage_path="/omni")
    message = status_notice(ACCOUNT, [(shown, change(FeatureStatus.PENDING, after))], link)
    assert expected in text_of(message.as_kwargs())
    assert validate_message(message.as_kwargs(), where="notice") == []


def test_a_long_pending_reason_stays_within_slack_limits() -> None:
    pending = feature(FeatureStatus.PENDING, pending_reason="x" * 300)
    long_name = ACCOUNT.model_copy(update={"company_name": "Acme " * 60})
    message = status_notice(long_name, [(pending, change(FeatureStatus.LOCKED, FeatureStatus.PENDING))], link)
    assert validate_message(message.as_kwargs(), where="notice") == []


def test_field_names_are_dotted_paths() -> None:
    assert field_name(("readings", 0, "at")) == "readings.0.at"
    assert field_name(()) == "body"
    assert field_name(("x",), prefix=("company",)) == "company.x"


def test_json_that_does_not_parse_is_a_400_not_a_422() -> None:
    with pytest.raises(ValidationError) as caught:
        UsageBatch.model_validate_json(b'{"readings": [')
    error = from_validation_error(caught.value)
    assert (error.status, error.body.error) == (400, "malformed_json")


def test_custom_checks_read_without_pydantic_prefixes() -> None:
    with pytest.raises(ValidationError) as caught:
        UsageBatch.model_validate_json(
            b'{"readings": [{"meter": "staff_licences", "used": 1.5, "at": "2026-11-27T10:00:00Z"}]}'
        )
    error = from_validation_error(caught.value)
    assert error.status == 422
    assert [(e.field, e.message) for e in error.body.errors] == [
        ("readings.0.used", "must be a whole number for staff_licences")
    ]
