"""Licence hygiene: the rules, `/plan usage` for administrators, and the notice seven days before renewal,
sent once per period however many workers run, each DM exactly once through Slack's failures."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NoReturn

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo import DEMO_ACCOUNT, demo_document
from bot.devtools.fake_calls import Lost
from bot.devtools.fake_slack import DROP, FakeSlack, RecordedCall
from bot.licences.hygiene import PriceSource, licence_hygiene, licence_price
from bot.settings import Settings
from handlers.licences import notices as notices_module
from handlers.licences.ids import Action
from handlers.licences.notices import LicenceNotices
from store import Store
from store.domain.staff import LicenceNoticeClaim, StaffAccountDoc, StaffActivity
from tests.support.alerting import plain_provider, slack_provider
from tests.support.blocks import buttons
from tests.support.clock import DEMO_NOW, FakeClock
from tests.support.plans import demo_plan
from tests.support.slackdriver import ADMIN, STAFF, TEAM, SlackDriver, all_text

pytestmark = pytest.mark.fake_clock

RENEWAL = date(2026, 12, 2)  # the sample account's next payment date (DEMO_NOW is 2026-11-20)
NOTICE_OPENS = datetime(2026, 11, 25, tzinfo=UTC)  # seven days before
SECOND_ADMIN = "U0SECONDADMIN"
STAFF_PAGE_URL = "https://dashboard.maaiiconnect.com/staff"


def staffer(staff_id: str, name: str, *, idle: timedelta | None, licensed: bool = True) -> StaffAccountDoc:
    """A staff account last active `idle` before DEMO_NOW (None: never active)."""
    return StaffAccountDoc(
        id=staff_id,
        display_name=name,
        licensed=licensed,
        last_active_at=None if idle is None else DEMO_NOW - idle,
    )


STAFF_LIST = [
    staffer("s-1", "Mei Ling Chan", idle=timedelta(hours=2)),
    staffer("s-2", "Tom Wong", idle=timedelta(days=45)),
    staffer("s-3", "Ana <Lopes>", idle=None),  # never active; her name is escaped in mrkdwn
    staffer("s-4", "Raj Patel", idle=timedelta(days=29, hours=23)),  # not yet 30 days
    staffer("s-5", "Kim Lee", idle=timedelta(days=90), licensed=False),  # idle, but holds no licence
]


# ------------------------------------------------------------------------------------------ the rules


def test_unassigned_and_inactive_licences_and_their_monthly_cost() -> None:
    hygiene = licence_hygiene(
        demo_plan(), StaffActivity(received_at=DEMO_NOW, staff=tuple(STAFF_LIST)), DEMO_NOW
    )
    assert (hygiene.purchased, hygiene.assigned, hygiene.unassigned) == (50, 42, 8)
    assert [m.display_name for m in hygiene.inactive] == ["Ana <Lopes>", "Tom Wong"]  # never active first
    assert hygiene.price is not None
    assert (hygiene.price.amount, hygiene.price.source) == (
        Decimal("25.98"),
        PriceSource.PLAN_FEE,
    )  # 1299 / 50
    assert hygiene.cost(hygiene.unassigned) == Decimal("207.84")
    assert hygiene.cost(len(hygiene.inactive)) == Decimal("51.96")
    assert hygiene.cost(hygiene.unused) == Decimal("259.80")


def test_thirty_days_idle_is_inactive_to_the_second() -> None:
    exactly = staffer("s-1", "A", idle=timedelta(days=30))
    almost = staffer("s-2", "B", idle=timedelta(days=30) - timedelta(seconds=1))
    hygiene = licence_hygiene(demo_plan(), StaffActivity(staff=(exactly, almost)), DEMO_NOW)
    assert [m.id for m in hygiene.inactive] == ["s-1"]


def test_a_stated_licence_price_wins_and_costs_are_exact_decimals() -> None:
    plan = demo_plan()
    stated = plan.model_copy(
        update={"subscription": plan.subscription.model_copy(update={"licence_price": Decimal("18.3333")})}
    )
    hygiene = licence_hygiene(stated, StaffActivity(), DEMO_NOW)
    assert hygiene.price is not None
    assert hygiene.price.source == PriceSource.STATED
    assert hygiene.cost(3) == Decimal("54.9999")
    assert hygiene.cost(hygiene.unused) == Decimal("146.6664")  # 8 unassigned, no staff list
    assert hygiene.staff_as_of is None


def test_a_plan_fee_that_does_not_divide_evenly_is_priced_to_four_places() -> None:
    sub = demo_plan().subscription.model_copy(
        update={"monthly_fee": Decimal(1299), "staff_licences_purchased": 7}
    )
    price = licence_price(sub)
    assert price is not None
    assert price.amount == Decimal("185.5714")
    assert licence_price(sub.model_copy(update={"staff_licences_purchased": 0})) is None


# ------------------------------------------------------------------------------------ /plan usage


@pytest.fixture
async def staffed(demo: Store) -> Store:
    await demo.staff.replace(DEMO_ACCOUNT, STAFF_LIST, now=DEMO_NOW)
    return demo


async def licence_reply(slack: SlackDriver, fake: FakeSlack, *, user: str) -> tuple[str, RecordedCall | None]:
    """`/plan usage`'s reply and, when there is one, the licence hygiene reply after it."""
    reply = await slack.command("usage", user=user)
    usage = await slack.reply_to(reply)
    if user != ADMIN:
        await fake.wait_for("users.info", where=lambda c: c.params.get("user") == user)
        return all_text(usage.params), None
    hygiene = await fake.wait_for("response_url", where=lambda c: c.url == reply.response_url, count=2)
    return all_text(usage.params), hygiene


async def test_administrators_get_licence_hygiene_with_plan_usage(
    staffed: Store, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    usage, hygiene = await licence_reply(slack, fake_slack, user=ADMIN)
    assert "Allowances this billing period" in usage
    assert hygiene is not None
    text = all_text(hygiene.params)
    assert hygiene.params["response_type"] == "ephemeral"
    assert "*8 licences unassigned* of 50 purchased: USD 207.84 a month" in text
    assert "*2 licences held by staff inactive for 30 days or more*: USD 51.96 a month" in text
    assert "*Together USD 259.80 a month* at USD 25.98 a licence a month" in text
    assert "• Ana &lt;Lopes&gt; — never active" in text
    assert "• Tom Wong — last active <!date^" in text
    assert text.index("Ana &lt;Lopes&gt;") < text.index("Tom Wong")
    for absent in ("Mei Ling Chan", "Raj Patel", "Kim Lee"):
        assert absent not in text
    (manage,) = buttons(hygiene.params)
    assert (manage["action_id"], manage["url"]) == (Action.LICENCES_MANAGE, STAFF_PAGE_URL)


async def test_staff_members_do_not_see_names_or_costs(
    staffed: Store, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    usage, hygiene = await licence_reply(slack, fake_slack, user=STAFF)
    assert "Allowances this billing period" in usage
    assert hygiene is None
    assert len(fake_slack.calls_to("response_url")) == 1
    assert "Tom Wong" not in str(fake_slack.calls)


async def test_without_a_staff_list_it_says_inactive_staff_are_not_counted(
    demo: Store, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    _, hygiene = await licence_reply(slack, fake_slack, user=ADMIN)
    assert hygiene is not None
    text = all_text(hygiene.params)
    assert "*0 licences held by staff inactive" in text
    assert "has not sent staff activity yet" in text


async def test_clicking_manage_is_acknowledged(staffed: Store, slack: SlackDriver) -> None:
    response = await slack.click_on_home(Action.LICENCES_MANAGE)
    assert response.status == 200


# ------------------------------------------------------------------------ the notice before renewal


def notices(store: Store, fake: FakeSlack, clock: FakeClock, settings: Settings) -> LicenceNotices:
    return LicenceNotices(store, plain_provider(fake), settings.dashboard_link, clock=clock)


def dms(fake: FakeSlack) -> list[RecordedCall]:
    return [c for c in fake.calls_to("chat.postMessage") if c.params["channel"].startswith("U")]


@pytest.fixture
async def two_admins(staffed: Store) -> Store:
    await staffed.admins.add(DEMO_ACCOUNT, SECOND_ADMIN)
    return staffed


async def test_seven_days_before_renewal_each_administrator_gets_one_dm(
    two_admins: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    worker = notices(two_admins, fake_slack, clock, settings)
    clock.now = NOTICE_OPENS - timedelta(minutes=1)  # eight days before, at 23:59
    assert await worker.send_due() == 0
    assert dms(fake_slack) == []

    clock.now = NOTICE_OPENS
    assert await worker.send_due() == 2  # DMs
    assert sorted(c.params["channel"] for c in dms(fake_slack)) == [ADMIN, SECOND_ADMIN]
    text = all_text(dms(fake_slack)[0].params)
    assert "renews <!date^" in text
    assert "USD 259.80 a month" not in text  # measured at the notice's now: Raj Patel is idle by then
    assert "*3 licences held by staff inactive for 30 days or more*: USD 77.94 a month" in text
    assert "*Together USD 285.78 a month*" in text
    assert "Raj Patel" in text

    clock.advance(days=3)
    assert await worker.send_due() == 0  # once per period
    assert len(dms(fake_slack)) == 2
    assert await two_admins.staff.notice_sent_to(DEMO_ACCOUNT, RENEWAL - timedelta(days=30)) == 2


async def test_racing_workers_send_it_once(
    two_admins: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings, database_url: str
) -> None:
    clock.now = NOTICE_OPENS + timedelta(hours=1)
    stores = [Store.from_url(database_url) for _ in range(4)]  # one engine per process
    try:
        workers = [notices(store, fake_slack, clock, settings) for store in stores]
        sent = await asyncio.gather(*(w.send_due() for w in workers), *(w.send_due() for w in workers))
    finally:
        for store in stores:
            await store.close()
    assert sum(sent) == 2  # one DM to each administrator
    assert sorted(c.params["channel"] for c in dms(fake_slack)) == [ADMIN, SECOND_ADMIN]


async def test_a_notice_not_sent_before_the_renewal_day_is_not_sent_after_it(
    staffed: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    clock.now = datetime.combine(RENEWAL, datetime.min.time(), tzinfo=UTC)
    assert await notices(staffed, fake_slack, clock, settings).send_due() == 0
    assert dms(fake_slack) == []


async def test_the_next_period_gets_its_own_notice(
    staffed: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    worker = notices(staffed, fake_slack, clock, settings)
    clock.now = NOTICE_OPENS
    assert await worker.send_due() == 1
    renewed = demo_document(DEMO_NOW).model_copy(
        update={"period_start": RENEWAL, "next_payment_date": date(2027, 1, 2)}
    )
    await staffed.accounts.upsert(DEMO_ACCOUNT, renewed, now=DEMO_NOW)
    clock.now = datetime(2026, 12, 26, 12, tzinfo=UTC)  # seven days before 2027-01-02
    assert await worker.send_due() == 1
    assert len(dms(fake_slack)) == 2


async def test_nothing_to_report_claims_nothing_until_a_licence_falls_idle(
    demo: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    full = demo_document(DEMO_NOW).model_copy(update={"staff_licences_assigned": 50})
    await demo.accounts.upsert(DEMO_ACCOUNT, full, now=DEMO_NOW)
    await demo.staff.replace(DEMO_ACCOUNT, [staffer("s-1", "Mei", idle=timedelta(days=1))], now=DEMO_NOW)
    worker = notices(demo, fake_slack, clock, settings)
    clock.now = NOTICE_OPENS
    assert await worker.send_due() == 0
    assert await demo.staff.notice_sent_to(DEMO_ACCOUNT, full.period_start) is None

    clock.now = datetime(2026, 12, 1, 12, tzinfo=UTC)  # the last day before renewal: Mei 12 days idle
    assert await worker.send_due() == 0
    idle = staffer("s-1", "Mei", idle=timedelta(days=31))
    await demo.staff.replace(DEMO_ACCOUNT, [idle], now=DEMO_NOW)
    assert await worker.send_due() == 1
    assert "Mei" in all_text(dms(fake_slack)[0].params)


async def test_a_stated_price_is_what_the_notice_counts(
    staffed: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    doc = demo_document(DEMO_NOW).model_copy(update={"licence_price": Decimal("18.3333")})
    await staffed.accounts.upsert(DEMO_ACCOUNT, doc, now=DEMO_NOW)
    clock.now = NOTICE_OPENS
    assert await notices(staffed, fake_slack, clock, settings).send_due() == 1
    text = all_text(dms(fake_slack)[0].params)
    assert "*8 licences unassigned* of 50 purchased: USD 146.67 a month" in text  # 146.6664
    assert "at USD 18.33 a licence a month." in text


# ------------------------------------------------------------ each DM exactly once through Slack's failures

PERIOD = RENEWAL - timedelta(days=30)  # the sample account's period start


def landed(fake: FakeSlack) -> dict[str, int]:
    """How many notices are in each administrator's DM: what Slack stored, whatever it answered."""
    return {admin: len(fake.messages.get(f"D{admin}", [])) for admin in (ADMIN, SECOND_ADMIN)}


def unreachable_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_429_is_retried_after_retry_after_and_each_administrator_gets_one_dm(
    two_admins: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    worker = notices(two_admins, fake_slack, clock, settings)
    clock.now = NOTICE_OPENS
    fake_slack.fail("chat.postMessage", status=429, retry_after=30, times=2)
    assert await worker.send_due() == 0
    clock.advance(seconds=29)
    assert await worker.send_due() == 0, "not before Slack's Retry-After"
    assert len(fake_slack.calls_to("chat.postMessage")) == 2

    clock.advance(seconds=1)
    assert await worker.send_due() == 2
    assert landed(fake_slack) == {ADMIN: 1, SECOND_ADMIN: 1}
    assert fake_slack.calls_to("conversations.history") == [], "a 429 posted nothing: nothing to look up"
    assert await two_admins.staff.notice_sent_to(DEMO_ACCOUNT, PERIOD) == 2


async def test_while_slack_cannot_be_reached_the_dms_wait_and_go_out_once(
    two_admins: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    down = AsyncWebClient(
        token="xoxb-test", base_url=f"http://127.0.0.1:{unreachable_port()}/api/", retry_handlers=[]
    )
    clients = [down]

    async def provide(team_id: str) -> AsyncWebClient | None:
        return clients[-1]

    worker = LicenceNotices(two_admins, provide, settings.dashboard_link, clock=clock)
    clock.now = NOTICE_OPENS
    assert await worker.send_due() == 0
    clients.append(AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url))  # Slack is back

    sent = 0
    for _ in range(3):  # one DM history read per workspace a minute
        sent += await worker.send_due()
        clock.advance(minutes=1)
    assert sent == 2
    assert landed(fake_slack) == {ADMIN: 1, SECOND_ADMIN: 1}


@pytest.mark.parametrize(
    ("status", "stored"),
    [(500, True), (DROP, True), (DROP, False)],
    ids=["stored-then-500", "stored-then-dropped", "dropped-unsent"],
)
async def test_a_dm_whose_answer_was_lost_is_looked_up_before_it_is_sent_again(
    two_admins: Store,
    fake_slack: FakeSlack,
    clock: FakeClock,
    settings: Settings,
    status: int | Lost,
    stored: bool,
) -> None:
    # The production client's transport: it never re-sends a post whose connection dropped.
    worker = LicenceNotices(two_admins, slack_provider(fake_slack), settings.dashboard_link, clock=clock)
    clock.now = NOTICE_OPENS
    fake_slack.fail("chat.postMessage", status=status, stored=stored)
    assert await worker.send_due() == 1, "the other administrator's"
    clock.advance(seconds=59)
    assert await worker.send_due() == 0, "looked up only once Slack's history shows it"
    assert fake_slack.calls_to("conversations.history") == []

    clock.advance(seconds=1)
    assert await worker.send_due() == 1
    (lookup,) = fake_slack.calls_to("conversations.history")
    assert lookup.params["channel"].startswith("D"), "the DM's id, from conversations.open"
    assert landed(fake_slack) == {ADMIN: 1, SECOND_ADMIN: 1}
    assert len(fake_slack.calls_to("chat.postMessage")) == 3 - stored
    assert await two_admins.staff.notice_sent_to(DEMO_ACCOUNT, PERIOD) == 2


async def test_a_dm_whose_history_cannot_be_read_is_never_sent_blind(
    two_admins: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    worker = notices(two_admins, fake_slack, clock, settings)
    clock.now = NOTICE_OPENS
    fake_slack.fail("chat.postMessage", status=500, stored=True)
    fake_slack.fail("conversations.history", error="missing_scope")  # installed without im:history
    assert await worker.send_due() == 1
    for _ in range(3):
        clock.advance(hours=1)
        assert await worker.send_due() == 0
    assert len(fake_slack.calls_to("conversations.history")) == 1, "looked up, then given up on"
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert landed(fake_slack) == {ADMIN: 1, SECOND_ADMIN: 1}


@pytest.mark.parametrize("dies", ["before posting", "after posting"])
async def test_a_pass_that_dies_mid_dm_is_taken_over_once_its_lease_runs_out(
    two_admins: Store,
    fake_slack: FakeSlack,
    clock: FakeClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    dies: str,
) -> None:
    async def crash(*args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("the process died")

    dying = notices(two_admins, fake_slack, clock, settings)
    if dies == "before posting":
        monkeypatch.setattr(notices_module, "post", crash)
    else:
        monkeypatch.setattr(two_admins.staff, "notice_dm_sent", crash)
    clock.now = NOTICE_OPENS
    assert await dying.send_due() == 0
    monkeypatch.undo()

    worker = notices(two_admins, fake_slack, clock, settings)
    clock.advance(minutes=4)
    assert await worker.send_due() == 0, "still leased to the pass that died"
    clock.advance(minutes=1)
    sent = 0
    for _ in range(2):  # taken over: each DM looked up first, one DM history read a minute
        sent += await worker.send_due()
        clock.advance(minutes=1)
    assert sent == 2
    assert landed(fake_slack) == {ADMIN: 1, SECOND_ADMIN: 1}
    assert len(fake_slack.calls_to("conversations.history")) == 2
    assert await two_admins.staff.notice_sent_to(DEMO_ACCOUNT, PERIOD) == 2


async def test_a_late_outcome_does_not_overwrite_the_pass_that_took_the_dm_over(
    staffed: Store, clock: FakeClock
) -> None:
    staff, lease = staffed.staff, timedelta(minutes=5)
    claim = LicenceNoticeClaim(account_id=DEMO_ACCOUNT, period_start=PERIOD, renewal=RENEWAL)
    assert await staff.claim_notice(claim, team_id=TEAM, admins=[ADMIN], error=None, now=clock())
    assert not await staff.claim_notice(claim, team_id=TEAM, admins=[ADMIN], error=None, now=clock())
    (first,) = await staff.claim_notice_dms(clock(), lease=lease, limit=10)
    assert await staff.claim_notice_dms(clock.advance(minutes=4), lease=lease, limit=10) == []
    (second,) = await staff.claim_notice_dms(clock.advance(minutes=1), lease=lease, limit=10)
    assert second.may_be_posted, "the pass that died may have posted it"
    assert await staff.notice_dm_sent(second, channel=f"D{ADMIN}", ts="1.2", now=clock())

    assert not await staff.notice_dm_sent(first, channel=f"D{ADMIN}", ts="1.3", now=clock())
    assert not await staff.notice_dm_retry(first, reason="ratelimited", at=clock(), may_be_posted=False)
    assert not await staff.notice_dm_failed(first, "channel_not_found")
    assert await staff.notice_sent_to(DEMO_ACCOUNT, PERIOD) == 1
    assert await staff.claim_notice_dms(clock.advance(hours=1), lease=lease, limit=10) == []


async def test_a_dm_put_back_goes_only_to_those_still_administrators(
    two_admins: Store, fake_slack: FakeSlack, clock: FakeClock, settings: Settings
) -> None:
    worker = notices(two_admins, fake_slack, clock, settings)
    clock.now = NOTICE_OPENS
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
    assert await worker.send_due() == 0
    await two_admins.admins.remove(DEMO_ACCOUNT, SECOND_ADMIN)
    clock.advance(minutes=1)
    assert await worker.send_due() == 1
    assert landed(fake_slack) == {ADMIN: 1, SECOND_ADMIN: 0}, "the notice names staff"
