"""A step's inputs as Slack sends them (`event.inputs`, by the manifest's names), read into plain values.
A value that cannot be read raises `InvalidInput`, whose text the step fails with."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from bot.core.errors import InvalidInput
from handlers.interaction import StepInputs


def text(inputs: StepInputs, name: str) -> str:
    """A text input, stripped; "" when not given."""
    value = inputs.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidInput(f"The step's `{name}` input should be text.")


def required_text(inputs: StepInputs, name: str, what: str) -> str:
    """A text input that must be given; `what` names it in the error ("a destination…")."""
    value = text(inputs, name)
    if not value:
        raise InvalidInput(f"Enter {what}.")
    return value


def number(inputs: StepInputs, name: str, problem: str) -> Decimal:
    """A number input, exactly (Slack sends JSON numbers; text such as "12.5" is read too); `problem` says
    what is wanted when it is missing or not a number."""
    value = inputs.get(name)
    if isinstance(value, bool) or value is None:
        raise InvalidInput(problem)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(problem)
    if isinstance(value, int | float):
        return Decimal(str(value))  # a float's shortest repr: 1.5 stays 1.5, not 1.5000000000000002…
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise InvalidInput(problem) from None
        if parsed.is_finite():
            return parsed
    raise InvalidInput(problem)


def user_of(inputs: StepInputs, name: str) -> str:
    """The person of a `slack#/types/user_context` input: Slack fills it with whoever ran the workflow
    (or clicked its button), and a workflow's builder cannot set it to someone else."""
    value = inputs.get(name)
    user = value.get("id") if isinstance(value, Mapping) else None
    if not isinstance(user, str) or user[:1] not in ("U", "W"):
        raise InvalidInput(
            "I couldn't tell who is asking. Start the workflow from a link, a button or a shortcut, so the"
            " step knows the person who runs it."
        )
    return user


def given(inputs: StepInputs, name: str) -> object:
    """An input as given (None when not given or empty), for the upgrade form to read as the modal's."""
    value = inputs.get(name)
    return None if value == "" else value
