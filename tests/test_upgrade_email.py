"""Upgrade requests emailed to Sales (`SALES_EMAIL`, `SMTP_URL`), end to end: the real app at the HTTP edge,
the fake Slack, and a real SMTP server (aiosmtpd) on loopback in the test's own event loop. Retries wait on
an injected sleep that only records the delays asked for."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
from collections import deque
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any, Final

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from bot.demo import demo_document
from bot.devtools.fake_slack import FakeSlack
from bot.settings import Settings, SettingsError, load_settings
from bot.upgrade.sales_email import BACKOFF, SalesMailer, SmtpServer, sales_email
from handlers.services import Services
from store import Store
from store.domain.upgrades import Delivery, EmailStatus, UpgradeRequest
from tests.support.clock import DEMO_NOW
from tests.support.slackdriver import ADMIN, TEAM, SlackDriver, all_text
from tests.test_upgrade import dm_to, open_modal, submission, submit, to_sales

pytestmark = pytest.mark.usefixtures("demo")

SALES_EMAIL: Final = "sales@vendor.example"
DROP: Final = "drop"
"""A reply of `Mailbox.replies`: close the connection once the message is in, answering nothing."""


# ------------------------------------------------------------------------------------ the SMTP server


class Mailbox:
    """aiosmtpd's handler: keeps every message it takes; `replies` are answered to the next messages
    instead of taking them (a 4xx or 5xx line, or DROP)."""

    def __init__(self) -> None:
        self.port = 0
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.replies: deque[str] = deque()
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.replies:
            reply = self.replies.popleft()
            if reply != DROP:
                return reply
            assert server.transport is not None
            server.transport.close()
            return "250 OK"  # never reaches the client
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append(envelope)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        success = (data.login, data.password) == (b"sales@vendor", b"p@ss/w:rd")
        return AuthResult(success=success, handled=False)  # not handled: aiosmtpd answers 235 or 535


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(box, hostname="mail.test", authenticator=box.authenticate, auth_require_tls=False),
        "127.0.0.1",
        0,
    )
    box.port = server.sockets[0].getsockname()[1]
    yield box
    server.close()
    await server.wait_closed()


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def smtp_url(mailbox: Mailbox) -> str:
    return f"smtp://127.0.0.1:{mailbox.port}"


@pytest.fixture
def settings(settings: Settings, smtp_url: str) -> Settings:
    return settings.model_copy(update={"sales_email": SALES_EMAIL, "smtp_url": SecretStr(smtp_url)})


@pytest.fixture
def naps() -> list[float]:
    """The delays the mailer waited (recorded, not slept)."""
    return []


@pytest.fixture
def services(services: Services, naps: list[float]) -> Services:
    async def nap(seconds: float) -> None:
        naps.append(seconds)

    return dataclasses.replace(services, sales_mailer=SalesMailer.from_settings(services.settings, sleep=nap))


# ------------------------------------------------------------------------------------------ helpers


async def request_more_minutes(slack: SlackDriver, fake_slack: FakeSlack, note: str = "Busy season") -> str:
    """An administrator asks for 2,000 more voice minutes; the DM they get after, as text."""
    view = await open_modal(slack, fake_slack)
    assert await submit(slack, submission(view, kind="voice_minutes", quantity="2000", note=note)) == {}
    told = await fake_slack.wait_for("chat.postMessage", where=lambda c: dm_to(ADMIN)(c) and c.ok)
    return all_text(told.params)


async def only_request(store: Store) -> UpgradeRequest:
    [request] = await store.upgrades.recent("demo")
    return request


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and the HTML part."""
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    markup = message.get_body(("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(markup, EmailMessage)
    return plain.get_content().replace("\r\n", "\n"), markup.get_content().replace("\r\n", "\n")


# ------------------------------------------------------------------------------------------ journeys


async def test_a_request_reaches_sales_in_slack_and_by_email(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, mailbox: Mailbox, naps: list[float]
) -> None:
    hostile = 'Fix <script>alert("x")</script> & <b>now</b>'
    fake_slack.users[ADMIN] = {"real_name": "Ann <img src=x> O'Neil"}
    company = demo_document(DEMO_NOW).model_copy(update={"company_name": "Harbour <Lights> & Co"})
    await store.accounts.upsert("demo", company)

    told = await request_more_minutes(slack, fake_slack, note=hostile)

    assert "is with the Sales team in Slack and by email" in told
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if to_sales(c)]) == 1
    request = await only_request(store)
    assert request.delivery == Delivery.DELIVERED
    assert (request.email_status, request.email_to, request.email_attempts, request.email_error) == (
        EmailStatus.SENT,
        SALES_EMAIL,
        1,
        None,
    )
    assert request.email_at is not None
    assert naps == []

    [message] = mailbox.messages
    assert mailbox.envelopes[0].rcpt_tos == [SALES_EMAIL]
    assert mailbox.envelopes[0].mail_from == "myplan@vendor.example"
    assert message["To"] == SALES_EMAIL
    assert message["From"] == "My Plan <myplan@vendor.example>"
    assert message["Subject"] == (
        f"Upgrade request {request.id} from Harbour <Lights> & Co: More voice call minutes: 2,000 minutes"
    )
    assert message["Message-ID"] == f"<{request.id}.upgrade-request@vendor.example>"
    text, markup = parts(message)
    for evidence in [
        "Harbour <Lights> & Co (demo)",  # the account
        "BUSINESS · USD 1,299.00/month",  # the plan
        "Next payment:",
        f"Ann <img src=x> O'Neil (Slack user {ADMIN} in workspace {TEAM})",  # who asked
        "More voice call minutes: 2,000 minutes",  # what
        request.id,
        "Voice call minutes: 3,960 of 5,000 min (79%)",  # usage at request time
        "Storage: 37.5 of 100 GB (38%)",
        "Staff licences: 42 of 50 assigned (84%)",
        "Virtual Numbers: 8 of 10 numbers (80%)",
        "At or above 80%: Staff licences (84%), Virtual Numbers (80%)",
        "posted to the sales channel (C0SALES)",
        f"> {hostile}",
    ]:
        assert evidence in text, evidence
    # The HTML part says the same, every outside text escaped.
    for escaped in [
        "Harbour &lt;Lights&gt; &amp; Co (demo)",
        "Ann &lt;img src=x&gt; O&#x27;Neil",
        "Fix &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;now&lt;/b&gt;",
        "BUSINESS · USD 1,299.00/month",
        "Voice call minutes: 3,960 of 5,000 min (79%)",
        "At or above 80%: Staff licences (84%), Virtual Numbers (80%)",
    ]:
        assert escaped in markup, escaped
    for raw in ("<script", "<img", "<b>now", "<Lights>"):
        assert raw not in markup, raw


async def test_slack_refusing_the_post_does_not_stop_the_email(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, mailbox: Mailbox
) -> None:
    """The issue's test: Slack refuses the sales post; the email still goes, and the request says so."""
    view = await open_modal(slack, fake_slack)
    fake_slack.fail("chat.postMessage", error="channel_not_found")  # the sales post, not the DM after it
    assert await submit(slack, submission(view, kind="staff_licences", quantity="5")) == {}
    told = await fake_slack.wait_for("chat.postMessage", where=lambda c: dm_to(ADMIN)(c) and c.ok)

    request = await only_request(store)
    assert (request.delivery, request.delivery_error) == (Delivery.FAILED, "channel_not_found")
    assert (request.email_status, request.email_attempts) == (EmailStatus.SENT, 1)
    text = all_text(told.params)
    assert "was emailed to the Sales team" in text
    assert "the post to the Sales channel failed (Slack said `channel_not_found`)" in text
    [message] = mailbox.messages
    plain, _ = parts(message)
    assert "More staff licences: 5 licences" in plain
    assert "not posted to the sales channel (channel_not_found); this email is Sales' copy" in plain


async def test_a_4xx_is_tried_again_after_the_backoff(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, mailbox: Mailbox, naps: list[float]
) -> None:
    mailbox.replies.append("451 4.3.0 Try again later")
    assert "in Slack and by email" in await request_more_minutes(slack, fake_slack)
    assert naps == [BACKOFF[0]]
    assert len(mailbox.messages) == 1
    request = await only_request(store)
    assert (request.email_status, request.email_attempts, request.email_error) == (EmailStatus.SENT, 2, None)


async def test_a_5xx_is_not_tried_again(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, mailbox: Mailbox, naps: list[float]
) -> None:
    mailbox.replies.append("554 5.7.1 Relaying denied")
    told = await request_more_minutes(slack, fake_slack)
    assert "is with the Sales team in Slack (the email copy could not be sent)" in told
    assert naps == []
    assert mailbox.messages == []
    request = await only_request(store)
    assert (request.email_status, request.email_attempts, request.email_error) == (
        EmailStatus.FAILED,
        1,
        "554 5.7.1 Relaying denied",
    )
    assert request.delivery == Delivery.DELIVERED


async def test_a_message_without_an_answer_is_unconfirmed_and_not_sent_again(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, mailbox: Mailbox, naps: list[float]
) -> None:
    """The server may have taken what it never answered: sending it again could make a second copy."""
    mailbox.replies.append(DROP)
    told = await request_more_minutes(slack, fake_slack)
    assert "the mail server did not confirm the email copy" in told
    assert naps == []
    request = await only_request(store)
    assert (request.email_status, request.email_attempts) == (EmailStatus.UNCONFIRMED, 1)
    assert request.email_error is not None


async def test_the_email_names_the_requester_by_id_when_slack_cannot_say(
    slack: SlackDriver, fake_slack: FakeSlack, mailbox: Mailbox
) -> None:
    fake_slack.fail("users.info", error="internal_error")
    await request_more_minutes(slack, fake_slack)
    plain, _ = parts(mailbox.messages[0])
    assert re.search(rf"^Requested by: +Slack user {ADMIN} in workspace {TEAM}$", plain, re.MULTILINE)


class TestEmailOnly:
    """No sales channel applies: the request is only emailed."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"sales_channel": None})

    async def test_the_request_is_emailed_and_the_requester_told(
        self, slack: SlackDriver, fake_slack: FakeSlack, store: Store, mailbox: Mailbox
    ) -> None:
        told = await request_more_minutes(slack, fake_slack)
        request = await only_request(store)
        assert "was emailed to the Sales team, with your plan and usage attached." in told
        assert f"Quote `{request.id}`" in told
        assert [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")] == [ADMIN]
        assert (request.delivery, request.email_status) == (Delivery.NO_CHANNEL, EmailStatus.SENT)
        plain, _ = parts(mailbox.messages[0])
        assert "not posted: no Slack sales channel is set for this account" in plain


class TestSmtpDown:
    """Nothing listens at SMTP_URL, and Slack refuses the post too: Sales cannot be reached at all."""

    @pytest.fixture
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{closed_port()}"

    async def test_it_is_tried_three_times_then_recorded_failed_and_the_request_kept(
        self, slack: SlackDriver, fake_slack: FakeSlack, store: Store, naps: list[float]
    ) -> None:
        view = await open_modal(slack, fake_slack)
        fake_slack.fail("chat.postMessage", error="not_in_channel")
        assert await submit(slack, submission(view, kind="plan", note="Enterprise, please")) == {}
        told = await fake_slack.wait_for("chat.postMessage", where=lambda c: dm_to(ADMIN)(c) and c.ok)

        assert naps == list(BACKOFF)
        request = await only_request(store)
        assert (request.delivery, request.email_status, request.email_attempts) == (
            Delivery.FAILED,
            EmailStatus.FAILED,
            3,
        )
        assert request.email_error is not None
        assert "Error connecting to 127.0.0.1" in request.email_error
        text = all_text(told.params)
        assert "is saved, but *Sales could not be reached*" in text
        assert "(Slack said `not_in_channel`), and it could not be emailed either" in text
        assert f"quote `{request.id}`" in text


# -------------------------------------------------------------------------------------- the parts


async def test_the_server_login_is_percent_decoded(mailbox: Mailbox) -> None:
    server = SmtpServer.from_url(f"smtp://sales%40vendor:p%40ss%2Fw%3Ard@127.0.0.1:{mailbox.port}")
    mailer = SalesMailer(server, to=SALES_EMAIL, sender="myplan@vendor.example")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "myplan@vendor.example", SALES_EMAIL, "Hello"
    message.set_content("Hi")
    outcome = await mailer.send(message)
    assert (outcome.status, outcome.attempts) == (EmailStatus.SENT, 1)
    assert mailbox.logins == [(b"sales@vendor", b"p@ss/w:rd")]


async def test_a_refused_login_is_not_tried_again(mailbox: Mailbox) -> None:
    slept: list[float] = []

    async def nap(seconds: float) -> None:
        slept.append(seconds)

    server = SmtpServer.from_url(f"smtp://sales%40vendor:wrong@127.0.0.1:{mailbox.port}")
    mailer = SalesMailer(server, to=SALES_EMAIL, sender="myplan@vendor.example", sleep=nap)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "myplan@vendor.example", SALES_EMAIL, "Hello"
    message.set_content("Hi")
    outcome = await mailer.send(message)
    assert (outcome.status, outcome.attempts, slept) == (EmailStatus.FAILED, 1, [])
    assert outcome.error is not None
    assert outcome.error.startswith("535")
    assert mailbox.messages == []


async def test_no_outside_text_breaks_a_header(
    slack: SlackDriver, fake_slack: FakeSlack, store: Store, mailbox: Mailbox
) -> None:
    await request_more_minutes(slack, fake_slack)
    request = await only_request(store)
    evidence = request.evidence.model_copy(update={"company_name": "Evil\r\nBcc: victim@example.com"})
    message = sales_email(
        request.model_copy(update={"evidence": evidence}),
        sender="myplan@vendor.example",
        to=SALES_EMAIL,
        requester_name=None,
        now=DEMO_NOW,
    )
    parsed = message_from_bytes(message.as_bytes(), policy=default_policy)
    assert parsed["Bcc"] is None
    assert parsed["Subject"].startswith(f"Upgrade request {request.id} from Evil Bcc: victim@example.com:")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example", SmtpServer("mail.example", 587, implicit_tls=False)),
        ("smtps://mail.example", SmtpServer("mail.example", 465, implicit_tls=True)),
        ("smtp://Mail.Example:2525/", SmtpServer("mail.example", 2525, implicit_tls=False)),
        (
            "smtps://me%40vendor.example:s3cr%2Ft%3A%40@smtp.vendor.example",
            SmtpServer("smtp.vendor.example", 465, True, "me@vendor.example", "s3cr/t:@"),
        ),
        ("smtp://apikey:@[::1]:25", SmtpServer("::1", 25, False, "apikey", "")),
    ],
)
def test_smtp_urls_are_read(url: str, expected: SmtpServer) -> None:
    assert SmtpServer.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "start_tls"),
    [
        ("smtps://u:p@mail.example", False),  # TLS from the start
        ("smtp://mail.example", None),  # STARTTLS when offered: no password to protect
        ("smtp://u:p@mail.example", True),  # a password never crosses the network in clear
        ("smtp://u:p@localhost:25", None),  # this machine's own relay
        ("smtp://u:p@127.0.0.1:25", None),
    ],
)
def test_starttls_is_required_where_a_password_would_go_in_clear(url: str, start_tls: bool | None) -> None:
    assert SmtpServer.from_url(url).start_tls is start_tls


@pytest.mark.parametrize(
    "url",
    [
        "http://me:hunter2@mail.example",
        "smtp://me:hunter2@",
        "smtp://me:hunter2@h:0",
        "smtp://me:hunter2@h:port",
    ],
)
def test_a_bad_smtp_url_is_refused_without_repeating_it(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL") as raised:
        SmtpServer.from_url(url)
    assert "hunter2" not in str(raised.value)


def test_the_password_is_not_in_the_repr() -> None:
    assert "hunter2" not in repr(SmtpServer.from_url("smtp://me:hunter2@mail.example"))


# ------------------------------------------------------------------------------------------ settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in ("SALES_EMAIL", "SMTP_URL", "SMTP_FROM", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    return monkeypatch


@pytest.mark.parametrize(
    ("given", "value", "missing"),
    [("SALES_EMAIL", SALES_EMAIL, "SMTP_URL"), ("SMTP_URL", "smtp://mail.example", "SALES_EMAIL")],
)
def test_half_an_email_configuration_names_both_variables(
    environment: pytest.MonkeyPatch, given: str, value: str, missing: str
) -> None:
    environment.setenv(given, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == (
        f"{missing} is not set but {given} is: emailing upgrade requests to Sales needs both SALES_EMAIL "
        f"and SMTP_URL; to send no email unset {given}"
    )


def test_smtp_from_alone_is_a_mistake(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("SMTP_FROM", "myplan@vendor.example")
    with pytest.raises(SettingsError, match=r"^SMTP_FROM is set but SALES_EMAIL and SMTP_URL are not"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SALES_EMAIL", "sales-at-vendor"),
        ("SMTP_URL", "https://me:hunter2@mail.example"),
        ("SMTP_URL", "smtp://h:x"),
    ],
)
def test_a_bad_address_or_url_is_named_and_no_password_repeated(
    environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    environment.setenv("SALES_EMAIL", SALES_EMAIL)
    environment.setenv("SMTP_URL", "smtp://mail.example")
    environment.setenv(variable, value)
    with pytest.raises(SettingsError, match=rf"^{variable}: ") as raised:
        load_settings()
    assert "hunter2" not in str(raised.value)


def test_the_mailer_is_built_from_the_settings(environment: pytest.MonkeyPatch, store: Store) -> None:
    environment.setenv("SALES_EMAIL", "Sales@Vendor.Example")
    environment.setenv("SMTP_URL", "smtps://me:pw@mail.vendor.example")
    mailer = Services.build(load_settings(), store).sales_mailer
    assert mailer is not None
    assert (mailer.to, mailer.sender) == ("sales@vendor.example", "myplan@vendor.example")
    assert mailer.server == SmtpServer("mail.vendor.example", 465, True, "me", "pw")

    environment.setenv("SMTP_FROM", "noreply@myplan.example")
    mailer = Services.build(load_settings(), store).sales_mailer
    assert mailer is not None
    assert mailer.sender == "noreply@myplan.example"

    for variable in ("SALES_EMAIL", "SMTP_URL", "SMTP_FROM"):
        environment.delenv(variable)
    assert Services.build(load_settings(), store).sales_mailer is None
