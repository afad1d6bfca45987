"""The App Home's Rate Table tab: type-ahead picker, the chosen destination, paging, CSV export."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack
from bot.devtools.signing import block_actions_payload, block_suggestion_payload
from bot.rates import RateIndex, sample_rows, to_csv
from handlers.home import HomeTab
from handlers.rates.home_tab import PAGE_SIZE, DestinationChoice, PageValue
from handlers.rates.ids import PAGE_BUTTON
from handlers.rates.ids import Action as RatesAction
from handlers.rates.ids import Block as RatesBlock
from store import Store
from tests.support.blocks import buttons
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import ADMIN, STAFF, TEAM, SlackDriver, all_text

INDEX = RateIndex.build(sample_rows())
LAST_PAGE = -(-len(INDEX) // PAGE_SIZE)


class Home:
    """Clicks in one user's Home; each returns the view published in answer."""

    def __init__(self, slack: SlackDriver, fake_slack: FakeSlack, user: str = ADMIN) -> None:
        self.slack = slack
        self.fake = fake_slack
        self.user = user
        self.published = 0

    async def _act(self, **action: Any) -> dict[str, Any]:
        payload = block_actions_payload(
            team_id=TEAM, user_id=self.user, view={"type": "home", "id": "V0HOME"}, **action
        )
        return await self._published(await self.slack.interact(payload))

    async def _published(self, response: ClientResponse) -> dict[str, Any]:
        assert response.status == 200
        self.published += 1
        call = await self.fake.wait_for(
            "views.publish", where=lambda c: c.params["user_id"] == self.user, count=self.published
        )
        view: dict[str, Any] = call.params["view"]
        return view

    async def open_rates(self) -> dict[str, Any]:
        return await self._published(await self.slack.click_tab(HomeTab.RATES, user=self.user))

    async def pick(self, iso_code: str) -> dict[str, Any]:
        option = {
            "text": {"type": "plain_text", "text": iso_code},
            "value": DestinationChoice(iso=iso_code).encode(),
        }
        return await self._act(
            action_id=RatesAction.RATES_PICK, action_type="external_select", selected_option=option
        )

    async def turn_to(self, page: int) -> dict[str, Any]:
        return await self._act(action_id=PAGE_BUTTON.id("next"), value=PageValue(page=page).encode())

    async def press(self, view: dict[str, Any], action_id: str) -> dict[str, Any]:
        [pressed] = [b for b in buttons(view) if b["action_id"] == action_id]
        return await self._act(action_id=action_id, value=pressed["value"])


def pager(view: dict[str, Any]) -> list[str]:
    """Which paging buttons the view offers: first, prev, next, last."""
    return [suffix for b in buttons(view) if (suffix := PAGE_BUTTON.suffix_of(b["action_id"])) is not None]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in view["blocks"] if b.get("block_id") == block_id), None)


def page_head(view: dict[str, Any]) -> str:
    head = block(view, RatesBlock.RATES_PAGE_HEAD)
    assert head is not None
    return str(head["text"]["text"])


async def suggest(slack: SlackDriver, typed: str, team: str = TEAM) -> list[dict[str, Any]]:
    payload = block_suggestion_payload(
        team_id=team, user_id=ADMIN, action_id=RatesAction.RATES_PICK, value=typed
    )
    response = await slack.interact(payload)
    assert response.status == 200
    options: list[dict[str, Any]] = json.loads(await response.text())["options"]
    return options


@pytest.mark.usefixtures("demo")
async def test_the_rate_table_tab(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    view = await Home(slack, fake_slack).open_rates()
    assert len(view["blocks"]) <= 100
    text = all_text(view)
    assert f"{len(INDEX)} destinations" in text
    assert "SAMPLE RATES" in text
    assert "billed per minute" in text
    assert "$0.0040 /min" in text  # the account's VoIP rate
    assert f"page 1 of {LAST_PAGE}" in page_head(view)
    assert "Afghanistan" in text  # alphabetical: the first page starts at A
    picker = next(e for e in buttons(view) if e["action_id"] == RatesAction.RATES_PICK)
    assert picker["type"] == "external_select"
    assert any(e["action_id"] == RatesAction.RATES_EXPORT for e in buttons(view))


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("kong", ["HK"]),
        ("hong", ["HK"]),
        ("+44", ["GG", "IM", "JE", "GB"]),
        ("ger", ["DE"]),
        ("germn", ["DE"]),  # a typo still offers something
        ("united", ["AE", "GB", "US"]),
    ],
)
async def test_the_picker_offers_destinations_for_a_typed_prefix(
    slack: SlackDriver, typed: str, expected: list[str]
) -> None:
    options = await suggest(slack, typed)
    assert [option["value"] for option in options][: len(expected)] == [
        DestinationChoice(iso=iso).encode() for iso in expected
    ]
    assert all(len(option["text"]["text"]) <= 75 for option in options)


@pytest.mark.usefixtures("demo")
async def test_the_picker_never_offers_more_than_slack_allows(slack: SlackDriver) -> None:
    assert len(await suggest(slack, "a")) <= 100
    assert await suggest(slack, "😀") == []


async def test_the_picker_offers_nothing_to_an_unlinked_workspace(slack: SlackDriver, demo: Store) -> None:
    assert await suggest(slack, "kong", team="T0NOTLINKED") == []


@pytest.mark.usefixtures("demo")
async def test_picking_a_destination_shows_it_and_turns_to_its_page(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    home = Home(slack, fake_slack)
    view = await home.pick("GB")
    chosen = block(view, RatesBlock.RATES_CHOSEN)
    assert chosen is not None
    assert "United Kingdom" in chosen["text"]["text"]
    uk = INDEX.get("GB")
    assert uk is not None
    assert f"${uk.landline_per_min} /min" in all_text(view)
    page = INDEX.page_of("GB", PAGE_SIZE)
    assert f"page {page} of {LAST_PAGE}" in page_head(view)
    picker = next(e for e in buttons(view) if e["action_id"] == RatesAction.RATES_PICK)
    assert picker["initial_option"]["value"] == DestinationChoice(iso="GB").encode()


@pytest.mark.usefixtures("demo")
async def test_paging_works_at_both_ends_and_keeps_the_chosen_destination(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    home = Home(slack, fake_slack)
    view = await home.pick("HK")
    assert INDEX.page_of("HK", PAGE_SIZE) > 2
    view = await home.press(view, PAGE_BUTTON.id("first"))
    assert f"page 1 of {LAST_PAGE}" in page_head(view)
    assert pager(view) == ["next", "last"]  # nothing before the first page
    assert block(view, RatesBlock.RATES_CHOSEN) is not None, "paging keeps the chosen destination"

    view = await home.press(view, PAGE_BUTTON.id("next"))
    assert f"page 2 of {LAST_PAGE}" in page_head(view)
    assert pager(view) == ["prev", "next", "last"]
    view = await home.press(view, PAGE_BUTTON.id("prev"))
    assert f"page 1 of {LAST_PAGE}" in page_head(view)

    view = await home.press(view, PAGE_BUTTON.id("last"))
    assert f"page {LAST_PAGE} of {LAST_PAGE}" in page_head(view)
    assert pager(view) == ["first", "prev"]  # nothing after the last page
    last_rows = len(INDEX) - (LAST_PAGE - 1) * PAGE_SIZE
    assert f"{len(INDEX) - last_rows + 1}–{len(INDEX)} of {len(INDEX)}" in page_head(view)
    assert "Zimbabwe" in all_text(view)
    assert block(view, RatesBlock.RATES_CHOSEN) is not None

    # A stale button (the table shrank since it was drawn) lands on the last page, not an empty one.
    view = await home.turn_to(999)
    assert f"page {LAST_PAGE} of {LAST_PAGE}" in page_head(view)


@pytest.mark.usefixtures("demo")
async def test_each_user_has_their_own_place_and_it_is_remembered(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    admin = Home(slack, fake_slack)
    await admin.pick("JP")
    staff = Home(slack, fake_slack, user=STAFF)
    view = await staff.open_rates()
    assert block(view, RatesBlock.RATES_CHOSEN) is None
    assert "page 1 of" in page_head(view)

    reopened = await admin.open_rates()
    chosen = block(reopened, RatesBlock.RATES_CHOSEN)
    assert chosen is not None
    assert "Japan" in chosen["text"]["text"]


@pytest.mark.usefixtures("demo")
async def test_export_uploads_the_table_to_the_users_dm(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    view = await Home(slack, fake_slack, user=STAFF).open_rates()
    [export] = [b for b in buttons(view) if b["action_id"] == RatesAction.RATES_EXPORT]
    assert (await slack.click_on_home(export["action_id"], None, user=STAFF)).status == 200
    completed = await fake_slack.wait_for("files.completeUploadExternal")
    assert completed.ok
    assert completed.params["channel_id"] == f"D{STAFF}"
    assert "sample data" in completed.params["initial_comment"]
    [file] = completed.params["files"]
    assert fake_slack.uploads[file["id"]] == to_csv(sample_rows()).encode()
    started = fake_slack.calls_to("files.getUploadURLExternal")[0]
    assert str(started.params["filename"]).endswith(".csv")


async def test_without_a_rate_table_the_tab_and_command_explain(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store
) -> None:
    await store.accounts.upsert("bare", demo_document(DEMO_NOW))
    await store.workspaces.link(TEAM, "bare")
    view = await Home(slack, fake_slack).open_rates()
    assert "No rate table has been loaded yet" in all_text(view)
    reply = await slack.run("uk", command="/rates")
    assert "No rate table has been loaded yet" in all_text(reply)
    assert await suggest(slack, "kong") == []


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("value", ["3", '{"page": 9223372036854775808}', '{"page": 0}', '{"page": "\u00b2"}'])
async def test_a_stale_page_button_is_explained_where_the_user_looks(
    slack: SlackDriver, fake_slack: FakeSlack, value: str
) -> None:
    assert (await slack.click_on_home(PAGE_BUTTON.id("next"), value, user=STAFF)).status == 200
    told = await fake_slack.wait_for("views.open")  # a notice over the Home tab
    assert "out of date" in all_text(told.params)


@pytest.mark.usefixtures("demo")
async def test_a_failed_export_is_reported(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    fake_slack.fail("files.getUploadURLExternal", error="not_allowed_token_type")
    payload = block_actions_payload(
        team_id=TEAM, user_id=STAFF, action_id=RatesAction.RATES_EXPORT, value=None, view={"type": "home"}
    )
    assert (await slack.interact(payload)).status == 200
    told = await fake_slack.wait_for("views.open")  # a notice over the Home tab
    assert "something went wrong" in all_text(told.params)
    assert not fake_slack.calls_to("files.completeUploadExternal")
