"""`/plan link CODE`: one-time link codes issued for an account, redeemed by a workspace admin in Slack."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.demo import demo_document
from bot.devtools.blockkit import validate_message
from bot.devtools.fake_slack import FakeSlack
from bot.linking.codes import (
    ALPHABET,
    CODE_LIFETIME,
    MAX_WRONG_CODES,
    CodeUsed,
    TooManyWrongCodes,
    WrongCode,
    code_hash,
    grouped,
    issue_link_code,
    new_code,
    normalized,
    redeem_link_code,
)
from handlers.errors import message_for
from handlers.installation.views import welcome_message
from handlers.linking.views import link_usage_message, linked_message
from handlers.messages import Message
from store import Store
from store.clock import utcnow
from store.domain.linking import LinkOutcome
from store.errors import NotFound, StoreUnavailable
from store.tables import LinkCodeRow
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import SlackDriver, all_text

NEW_TEAM = "T0NEWCO"
BOSS = "U0BOSS"


@pytest.fixture
async def acme(store: Store) -> str:
    """A service account not linked to any workspace yet."""
    doc = demo_document(DEMO_NOW).model_copy(update={"company_name": "Acme Ltd", "plan_name": "PRO"})
    await store.accounts.upsert("acme", doc, now=DEMO_NOW)
    return "acme"


@pytest.fixture
def boss(fake_slack: FakeSlack) -> str:
    """A workspace admin of NEW_TEAM, as users.info tells."""
    fake_slack.users[BOSS] = {"is_admin": True}
    return BOSS


# ---------------------------------------------------------------------------------- the code itself


def test_codes_are_eight_unambiguous_characters_shown_in_two_groups() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(code) == 8 and set(code) <= set(ALPHABET) for code in codes)
    assert not set("01OIL") & set(ALPHABET)
    assert grouped("K7QXM2PD") == "K7QX-M2PD"


@pytest.mark.parametrize("typed", ["K7QX-M2PD", "k7qx-m2pd", "K7QXM2PD", " k7qx m2pd ", "K7Q-XM2-PD"])
def test_a_code_is_read_whatever_its_case_dashes_or_spaces(typed: str) -> None:
    assert normalized(typed) == "K7QXM2PD"


@pytest.mark.parametrize("typed", ["K7QX-M2P", "K7QX-M2PDX", "K7QX-M2P0", "K7QX-M2P!", ""])
def test_what_cannot_be_a_code_is_rejected_before_any_lookup(typed: str) -> None:
    assert normalized(typed) is None


async def test_only_a_hash_of_the_code_is_stored(store: Store, acme: str) -> None:
    issued = await issue_link_code(store, acme, by="test")

    async with store.db.session() as session:
        row = (await session.scalars(select(LinkCodeRow))).one()
    code = normalized(issued.code)
    assert code is not None
    assert row.code_hash == code_hash(code)
    assert code not in repr(
        [row.code_hash, row.account_id, row.created_by, row.used_by_team, row.used_by_user]
    )
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", issued.code)
    assert issued.expires_at - utcnow() == pytest.approx(CODE_LIFETIME, abs=timedelta(minutes=1))


async def test_no_code_for_an_unknown_account(store: Store) -> None:
    with pytest.raises(NotFound):
        await issue_link_code(store, "nope", by="test")


@pytest.mark.parametrize(
    "message",
    [
        linked_message("Acme Ltd", "acme", already_linked=False),
        linked_message("Acme Ltd", "acme", already_linked=True),
        link_usage_message(),
        welcome_message(linked=False),
        welcome_message(linked=True),
        message_for(TooManyWrongCodes(DEMO_NOW)),
    ],
)
def test_linking_messages_are_valid_block_kit_with_fallback_text(message: Message) -> None:
    assert validate_message(message.as_kwargs(), where="message") == []
    assert message.response_type == "ephemeral"


def test_the_linked_message_says_which_account_and_whether_it_was_linked_before() -> None:
    assert "now linked to Acme Ltd (`acme`)" in linked_message("Acme Ltd", "acme", already_linked=False).text
    assert "already linked to Acme Ltd" in linked_message("Acme Ltd", "acme", already_linked=True).text


# ---------------------------------------------------------------------------- /plan link in Slack


async def test_a_workspace_admin_links_the_workspace_and_becomes_its_first_administrator(
    slack: SlackDriver, store: Store, acme: str, boss: str
) -> None:
    issued = await issue_link_code(store, acme, by="test")
    typed = issued.code.lower().replace("-", " ")

    reply = await slack.run(f"link {typed}", team=NEW_TEAM, user=boss)

    assert "now linked to Acme Ltd" in all_text(reply)
    assert await store.workspaces.account_for_team(NEW_TEAM) == acme
    assert await store.admins.list(acme) == [boss]
    audit = await store.audit.recent(acme, action="workspace.linked")
    assert [(a.actor, a.after) for a in audit] == [(boss, {"team_id": NEW_TEAM, "administrator": boss})]
    # The workspace now sees its account.
    assert "PRO" in all_text(await slack.run("", team=NEW_TEAM, user="U0ANYONE"))


async def test_only_a_workspace_admin_can_link_and_the_code_stays_usable(
    slack: SlackDriver, store: Store, acme: str, boss: str
) -> None:
    issued = await issue_link_code(store, acme, by="test")

    refused = await slack.run(f"link {issued.code}", team=NEW_TEAM, user="U0STAFF")

    assert "Only a workspace owner or admin" in all_text(refused)
    assert await store.workspaces.account_for_team(NEW_TEAM) is None
    assert "now linked" in all_text(await slack.run(f"link {issued.code}", team=NEW_TEAM, user=boss))


async def test_an_expired_code_is_refused(slack: SlackDriver, store: Store, acme: str, boss: str) -> None:
    issued = await issue_link_code(
        store, acme, by="test", now=utcnow() - CODE_LIFETIME - timedelta(seconds=1)
    )

    reply = await slack.run(f"link {issued.code}", team=NEW_TEAM, user=boss)

    assert "expired" in all_text(reply)
    assert await store.workspaces.account_for_team(NEW_TEAM) is None
    assert await store.link_codes.failures_since(NEW_TEAM, utcnow() - timedelta(hours=1)) == (0, None)


async def test_a_code_works_once(slack: SlackDriver, store: Store, acme: str, boss: str) -> None:
    issued = await issue_link_code(store, acme, by="test")
    assert "now linked" in all_text(await slack.run(f"link {issued.code}", team=NEW_TEAM, user=boss))

    again = await slack.run(f"link {issued.code}", team="T0SECOND", user=boss)

    assert "already been used" in all_text(again)
    assert await store.workspaces.account_for_team("T0SECOND") is None


@pytest.mark.usefixtures("demo")
async def test_a_workspace_linked_to_another_account_is_not_moved_and_the_code_is_kept(
    slack: SlackDriver, store: Store, acme: str, boss: str
) -> None:
    issued = await issue_link_code(store, acme, by="test")

    reply = await slack.run(f"link {issued.code}", team="T0DEMO", user=boss)

    assert "already linked to the service account `demo`" in all_text(reply)
    assert await store.workspaces.account_for_team("T0DEMO") == "demo"
    assert "now linked" in all_text(await slack.run(f"link {issued.code}", team=NEW_TEAM, user=boss))


async def test_wrong_codes_are_throttled_per_workspace(
    slack: SlackDriver, store: Store, acme: str, boss: str
) -> None:
    issued = await issue_link_code(store, acme, by="test")
    for guess in ["AAAA-AAAA", "AAAA-AAAB", "not a code", "AAAA-AAAC", "AAAA-AAAD"]:
        assert "isn't right" in all_text(await slack.run(f"link {guess}", team=NEW_TEAM, user=boss))

    throttled = all_text(await slack.run(f"link {issued.code}", team=NEW_TEAM, user=boss))

    assert "Too many wrong link codes" in throttled
    retry_at = int(re.findall(r"<!date\^(\d+)\^", throttled)[0])
    assert retry_at - utcnow().timestamp() == pytest.approx(15 * 60, abs=60)
    assert await store.workspaces.account_for_team(NEW_TEAM) is None
    # Another workspace is not held back by this one's guesses.
    assert "now linked" in all_text(await slack.run(f"link {issued.code}", team="T0OTHER", user=boss))


async def test_link_without_a_code_explains_how(slack: SlackDriver) -> None:
    assert "/plan link K7QX-M2PD" in all_text(await slack.run("link", team=NEW_TEAM))


async def test_help_lists_link(slack: SlackDriver) -> None:
    assert "/plan link CODE" in all_text(await slack.run("help", team=NEW_TEAM))


# ------------------------------------------------------------------------------ the rules over time


async def test_throttling_ends_fifteen_minutes_after_the_oldest_wrong_code(store: Store, acme: str) -> None:
    issued = await issue_link_code(store, acme, by="test", now=DEMO_NOW)
    for minute in range(5):
        with pytest.raises(WrongCode):
            await redeem_link_code(
                store,
                team_id=NEW_TEAM,
                user_id=BOSS,
                text="AAAA-AAAA",
                now=DEMO_NOW + timedelta(minutes=minute),
            )

    with pytest.raises(TooManyWrongCodes) as throttled:
        await redeem_link_code(
            store, team_id=NEW_TEAM, user_id=BOSS, text=issued.code, now=DEMO_NOW + timedelta(minutes=14)
        )
    assert throttled.value.retry_at == DEMO_NOW + timedelta(minutes=15)

    linked = await redeem_link_code(
        store,
        team_id=NEW_TEAM,
        user_id=BOSS,
        text=issued.code,
        now=DEMO_NOW + timedelta(minutes=15, seconds=1),
    )
    assert linked.account_id == acme


async def test_one_code_tried_from_two_workspaces_at_once_links_one(
    store: Store, acme: str, backend: str
) -> None:
    issued = await issue_link_code(store, acme, by="test")
    code = normalized(issued.code)
    assert code is not None

    results = await asyncio.gather(
        *(
            store.link_codes.redeem(code_hash(code), team_id=team, user_id=BOSS, now=utcnow())
            for team in ("T0FIRST", "T0SECOND")
        ),
        return_exceptions=True,
    )

    outcomes = [r.outcome if not isinstance(r, BaseException) else r for r in results]
    assert outcomes.count(LinkOutcome.LINKED) == 1
    # PostgreSQL makes the loser wait and see the code used; SQLite may refuse its write as "locked".
    loser = next(o for o in outcomes if o != LinkOutcome.LINKED)
    assert loser == LinkOutcome.USED or (backend == "sqlite" and isinstance(loser, StoreUnavailable))
    linked_teams = [t for t in ("T0FIRST", "T0SECOND") if await store.workspaces.account_for_team(t)]
    assert len(linked_teams) == 1
    with pytest.raises(CodeUsed):
        await redeem_link_code(store, team_id="T0THIRD", user_id=BOSS, text=issued.code)


async def test_wrong_codes_tried_at_once_are_counted_against_the_limit_exactly(
    store: Store, acme: str
) -> None:
    """Forty wrong codes at the same moment: five are checked, the rest are throttled (check and count are
    one step)."""
    tries = await asyncio.gather(
        *(
            redeem_link_code(store, team_id=NEW_TEAM, user_id=f"U{i:04d}", text="ZZZZ-ZZZZ", now=DEMO_NOW)
            for i in range(40)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(t, WrongCode) for t in tries) == MAX_WRONG_CODES
    assert sum(isinstance(t, TooManyWrongCodes) for t in tries) == 40 - MAX_WRONG_CODES
    count, _ = await store.link_codes.failures_since(NEW_TEAM, DEMO_NOW - timedelta(minutes=1))
    assert count == MAX_WRONG_CODES
