"""Block Kit's limits hold whatever text users type or the billing platform sends: one guard
(`handlers.limits`) where every message and view is built, fed oversized input on every surface."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.demo import demo_document
from bot.devtools.blockkit import validate_blocks, validate_view
from bot.devtools.fake_slack import FakeSlack
from handlers.home import HomeTab
from handlers.limits import fitted, view_dict
from handlers.messages import Message
from store import Store
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import STAFF, SlackDriver, all_text

PASTED = "https://example.com/" + "x" * 6000  # one "word" longer than any Block Kit text
ESSAY = " ".join(["lorem"] * 2000)
FAILED = "something went wrong"


def test_a_message_of_oversized_texts_fits() -> None:
    message = Message(
        text=PASTED * 10,
        blocks=[
            HeaderBlock(text=PASTED),
            SectionBlock(text=MarkdownTextObject(text=PASTED), fields=[MarkdownTextObject(text="f")] * 15),
            ActionsBlock(elements=[ButtonElement(text=PASTED, action_id=f"a{i}") for i in range(30)]),
        ]
        * 20,
    )
    kwargs = message.as_kwargs()
    assert len(kwargs["blocks"]) == 50
    assert len(kwargs["text"]) <= 40_000
    assert validate_blocks(kwargs["blocks"], where="message", max_blocks=50) == []


def test_a_view_of_oversized_texts_fits_and_the_original_is_untouched() -> None:
    header = HeaderBlock(text=PASTED)
    view = View(type="modal", title=PASTED, close=PASTED, blocks=[header])
    assert validate_view(view_dict(view), where="modal") == []
    assert header.text is not None
    assert header.text.text == PASTED, "fitting works on a copy"
    assert len(fitted(header).to_dict()["text"]["text"]) == 150


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    "text",
    [
        PASTED,
        f"company {PASTED}",
        "company history",
        f"rates {PASTED}",
        f"rates {ESSAY}",
        f"link {PASTED}",
        f"features {PASTED}",
        f"usage {PASTED}",
        f"help {PASTED}",
        ESSAY,
    ],
    ids=[
        "word",
        "company",
        "company-history",
        "rates-word",
        "rates-essay",
        "link",
        "features",
        "usage",
        "help",
        "essay",
    ],
)
async def test_every_plan_subcommand_answers_oversized_input(
    slack: SlackDriver, fake_slack: FakeSlack, text: str
) -> None:
    reply = all_text(await slack.run(text))
    assert FAILED not in reply
    fake_slack.assert_valid()


@pytest.mark.usefixtures("demo")
async def test_rates_answers_oversized_input(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    for text in (PASTED, ESSAY, f"{PASTED} 12 min"):
        assert FAILED not in all_text(await slack.run(text, command="/rates"))
    fake_slack.assert_valid()


async def test_the_longest_names_the_billing_platform_may_send_fit_everywhere(
    store: Store, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    """Company, contact and feature texts at their stored maximum, on every surface that shows them."""
    document = demo_document(DEMO_NOW)
    long_name = "Ω" * 200
    await store.accounts.upsert("demo", document.model_copy(update={"company_name": long_name}), now=DEMO_NOW)
    await store.workspaces.link("T0DEMO", "demo")
    for text in ("", "features", "company", "usage", "alerts", "rates japan"):
        assert FAILED not in all_text(await slack.run(text))
    for tab in HomeTab:
        await slack.click_tab(tab, user=STAFF)
    fake_slack.assert_valid()
