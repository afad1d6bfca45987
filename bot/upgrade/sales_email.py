"""Upgrade requests emailed to Sales (`SALES_EMAIL`, through the SMTP server of `SMTP_URL`).

The email says what the Sales post says (account, plan, who asked for what, the usage when they asked, what
is at or above 80%) in a plain-text part and an HTML part, every outside text escaped in the HTML; it also
says whether the request reached Slack, so Sales know where to look.

It is sent at most once. A try is repeated (`backoff`: after 2 s, then 8 s) only when the server certainly
did not take the message: it could not be reached, the connection failed before the message was being handed
over, or the server answered 4xx ("try later"). A 5xx is refused for good and not repeated. When the
connection breaks or goes silent while the message is being handed over, the server may have taken it: that
is UNCONFIRMED, and not sent again.

`SMTP_URL`: `smtp://[user:password@]host[:port]` (port 587), upgraded with STARTTLS when the server offers
it, and required when a password would otherwise cross the network in clear (any host but a loopback one);
`smtps://…` (port 465) is TLS from the first byte. The user and password are percent-decoded.

aiosmtplib is imported only to send: a process without `SALES_EMAIL` never loads it.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Final
from urllib.parse import unquote, urlsplit

from bot.plan.usage import money, percent_used, quantity, whole_percent
from bot.settings import Settings
from bot.upgrade.summary import high_figures, request_title, wanted
from store.domain.upgrades import (
    MAX_EMAIL_ERROR_CHARS,
    Delivery,
    EmailStatus,
    UpgradeRequest,
    UsageFigure,
)

log = logging.getLogger(__name__)

SMTP_PORT: Final = 587
SMTPS_PORT: Final = 465
BACKOFF: Final = (2.0, 8.0)
"""Seconds to wait before the second and the third (last) try."""
TIMEOUT: Final = 15.0
"""Seconds for each step of a try (connecting, each command, the message)."""
SENDER_NAME: Final = "My Plan"
INVOICE_NOTE: Final = "Figures may lag; the monthly invoice is authoritative for usage and fees."

Sleep = Callable[[float], Awaitable[None]]


# ------------------------------------------------------------------------------------------ the server


@dataclass(frozen=True)
class SmtpServer:
    """Where the email goes out, as `SMTP_URL` says."""

    host: str
    port: int
    implicit_tls: bool
    """smtps://: TLS from the first byte; smtp://: plain, then STARTTLS (see `start_tls`)."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Raises ValueError (never repeating the URL, which holds the password) when it is not one."""
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise ValueError("SMTP_URL: the port must be a number from 1 to 65535") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname or port == 0:
            raise ValueError("SMTP_URL must be smtp://[user:password@]host[:port] or smtps://…")
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port or (SMTPS_PORT if implicit_tls else SMTP_PORT),
            implicit_tls=implicit_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    @property
    def start_tls(self) -> bool | None:
        """aiosmtplib's `start_tls`: False with implicit TLS; True (required) when logging in to a host that
        is not this machine; None (when the server offers it) otherwise."""
        if self.implicit_tls:
            return False
        if self.username is not None and not _loopback(self.host):
            return True
        return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ------------------------------------------------------------------------------------------- the email


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _one_line(text: str) -> str:
    """Header-safe: no line breaks (no header injection), runs of white space as one space."""
    return " ".join(text.split())


def _figure(figure: UsageFigure) -> str:
    percent = percent_used(figure.used, figure.limit)
    if percent is None or figure.limit is None:
        return f"{figure.name}: {quantity(figure.used)} {figure.unit} used"
    return (
        f"{figure.name}: {quantity(figure.used)} of {quantity(figure.limit)} {figure.unit} "
        f"({whole_percent(percent)}%)"
    )


def _in_slack(request: UpgradeRequest) -> str:
    match request.delivery:
        case Delivery.DELIVERED:
            return f"posted to the sales channel ({request.sales_channel}): acknowledge it there"
        case Delivery.NO_CHANNEL:
            return "not posted: no Slack sales channel is set for this account; this email is Sales' copy"
        case Delivery.FAILED | Delivery.PENDING:
            reason = f" ({request.delivery_error})" if request.delivery_error else ""
            return f"not posted to the sales channel{reason}; this email is Sales' copy"


@dataclass(frozen=True)
class _Content:
    """The email's facts, once, for both parts."""

    heading: str
    facts: list[tuple[str, str]]
    note: str
    usage_heading: str
    allowances: list[str]
    features: list[str]
    high: str
    footer: str

    @classmethod
    def of(cls, request: UpgradeRequest, requester_name: str | None) -> _Content:
        evidence = request.evidence
        who = f"Slack user {request.requested_by} in workspace {request.team_id}"
        facts = [
            ("Account", f"{evidence.company_name} ({request.account_id})"),
            ("Wants", wanted(request)),
            ("Requested by", f"{requester_name} ({who})" if requester_name else who),
            ("Plan", f"{evidence.plan_name} · {money(evidence.monthly_fee, evidence.currency)}/month"),
            ("Next payment", evidence.next_payment_date.isoformat()),
            ("Requested at", _utc(request.created_at)),
            ("Reference", request.id),
        ]
        if evidence.account_manager:
            facts.append(("Account manager", f"Slack user {evidence.account_manager}"))
        facts.append(("In Slack", _in_slack(request)))
        high = high_figures(evidence)
        listed = ", ".join(
            f"{f.name} ({whole_percent(p)}%)"
            for f in high
            if (p := percent_used(f.used, f.limit)) is not None
        )
        return cls(
            heading=f"{request_title(request)} · {evidence.company_name}",
            facts=facts,
            note=request.note,
            usage_heading=f"Usage this billing period, as of {_utc(evidence.data_as_of)}",
            allowances=[_figure(f) for f in evidence.allowances],
            features=[_figure(f) for f in evidence.features],
            high=f"At or above 80%: {listed}" if high else "Nothing is at or above 80% of its allowance.",
            footer=f"Sent by My Plan for Slack. {INVOICE_NOTE}",
        )

    def text(self) -> str:
        width = max(len(label) for label, _ in self.facts) + 2
        lines = [self.heading, "", *(f"{label + ':':<{width}}{value}" for label, value in self.facts)]
        if self.note:
            lines += ["", "Note:", *(f"> {line}" for line in self.note.splitlines())]
        lines += ["", self.usage_heading + ":", *(f"  {line}" for line in self.allowances)]
        if self.features:
            lines += ["Feature usage:", *(f"  {line}" for line in self.features)]
        lines += ["", self.high, "", "-- ", self.footer]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        e = html.escape
        rows = "\n".join(
            f'<tr><th align="left" valign="top" style="padding:2px 12px 2px 0">{e(label)}</th>'
            f"<td>{e(value)}</td></tr>"
            for label, value in self.facts
        )
        parts = [
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>',
            '<body style="font-family:sans-serif">',
            f"<h2>{e(self.heading)}</h2>",
            f"<table>\n{rows}\n</table>",
        ]
        if self.note:
            note = "<br>\n".join(e(line) for line in self.note.splitlines())
            parts.append(f"<h3>Note</h3>\n<blockquote>{note}</blockquote>")
        parts.append(f"<h3>{e(self.usage_heading)}</h3>\n{_html_list(self.allowances)}")
        if self.features:
            parts.append(f"<h3>Feature usage</h3>\n{_html_list(self.features)}")
        parts += [
            f"<p><strong>{e(self.high)}</strong></p>",
            f'<p style="color:#666">{e(self.footer)}</p>',
            "</body></html>",
        ]
        return "\n".join(parts) + "\n"


def _html_list(lines: Sequence[str]) -> str:
    return "<ul>\n" + "\n".join(f"<li>{html.escape(line)}</li>" for line in lines) + "\n</ul>"


def sales_email(
    request: UpgradeRequest, *, sender: str, to: str, requester_name: str | None, now: datetime
) -> EmailMessage:
    """The email to Sales about a stored request (after its Slack delivery, which it reports)."""
    content = _Content.of(request, requester_name)
    evidence = request.evidence
    message = EmailMessage()
    subject = f"{request_title(request)} {request.id} from {evidence.company_name}: {wanted(request)}"
    message["Subject"] = _one_line(subject)[:250]
    message["From"] = Address(SENDER_NAME, addr_spec=sender)
    message["To"] = to
    message["Date"] = format_datetime(now.astimezone(UTC))
    # One id per request: were a copy ever made, mail clients would show one.
    message["Message-ID"] = f"<{request.id}.upgrade-request@{sender.rpartition('@')[2]}>"
    message["X-My-Plan-Request"] = request.id
    message.set_content(content.text())
    message.add_alternative(content.html(), subtype="html")
    return message


# ------------------------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class EmailOutcome:
    status: EmailStatus
    attempts: int
    error: str | None = None


class _Unconfirmed(Exception):
    """The message went out and no answer came back (its cause says why)."""


def _describe(error: BaseException) -> str:
    import aiosmtplib

    if isinstance(error, aiosmtplib.SMTPResponseException):
        text = f"{error.code} {error.message}"
    elif isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return _one_line(text)[:MAX_EMAIL_ERROR_CHARS]


def _transient(error: Exception) -> bool:
    """Worth another try: a 4xx answer, or no server to talk to (down, unreachable, the line dropped);
    not a 5xx, an untrusted certificate, or a server without what we need (STARTTLS, AUTH)."""
    import aiosmtplib

    if isinstance(error, aiosmtplib.SMTPResponseException):
        return 400 <= error.code < 500
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(400 <= r.code < 500 for r in error.recipients)
    if isinstance(error, ssl.SSLCertVerificationError) or isinstance(
        error.__cause__, ssl.SSLCertVerificationError
    ):
        return False
    transient = (
        aiosmtplib.SMTPServerDisconnected,
        aiosmtplib.SMTPConnectError,
        aiosmtplib.SMTPTimeoutError,
        OSError,
        TimeoutError,
    )
    return isinstance(error, transient)


def _send_errors() -> tuple[type[Exception], ...]:
    """What a failed send raises."""
    import aiosmtplib

    return (aiosmtplib.SMTPException, OSError, TimeoutError)


class SalesMailer:
    """Emails requests to Sales through one SMTP server."""

    def __init__(
        self,
        server: SmtpServer,
        *,
        to: str,
        sender: str,
        backoff: Sequence[float] = BACKOFF,
        timeout: float = TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self.to = to
        self.sender = sender
        self.backoff = tuple(backoff)
        self.timeout = timeout
        self._sleep = sleep
        self._tls_context = tls_context

    @classmethod
    def from_settings(
        cls, settings: Settings, *, backoff: Sequence[float] = BACKOFF, sleep: Sleep = asyncio.sleep
    ) -> SalesMailer | None:
        """The mailer `SALES_EMAIL` and `SMTP_URL` describe; None when they are not set. The sender is
        `SMTP_FROM`, else myplan@ the domain of `SALES_EMAIL`."""
        if settings.sales_email is None or settings.smtp_url is None:
            return None
        sender = settings.smtp_from or f"myplan@{settings.sales_email.rpartition('@')[2]}"
        server = SmtpServer.from_url(settings.smtp_url.get_secret_value())
        return cls(server, to=settings.sales_email, sender=sender, backoff=backoff, sleep=sleep)

    def message(self, request: UpgradeRequest, *, requester_name: str | None, now: datetime) -> EmailMessage:
        return sales_email(request, sender=self.sender, to=self.to, requester_name=requester_name, now=now)

    async def send(self, message: EmailMessage) -> EmailOutcome:
        """Hand the message to the server, trying again after each `backoff` delay while that may help."""
        data = message.as_bytes(policy=SMTP_POLICY)
        send_errors = _send_errors()
        delays = iter(self.backoff)
        attempts = 0
        while True:
            attempts += 1
            try:
                await self._attempt(data)
            except _Unconfirmed as lost:
                reason = _describe(lost.__cause__ or lost)
                log.warning(
                    "email %s: sent, but %s did not answer (%s)",
                    message["X-My-Plan-Request"],
                    self.server.host,
                    reason,
                )
                return EmailOutcome(EmailStatus.UNCONFIRMED, attempts, reason)
            except send_errors as error:
                reason = _describe(error)
                delay = next(delays, None) if _transient(error) else None
                if delay is None:
                    log.warning(
                        "email %s not sent after %d tries: %s", message["X-My-Plan-Request"], attempts, reason
                    )
                    return EmailOutcome(EmailStatus.FAILED, attempts, reason)
                log.info(
                    "email %s: try %d failed (%s), again in %ss",
                    message["X-My-Plan-Request"],
                    attempts,
                    reason,
                    delay,
                )
                await self._sleep(delay)
            else:
                return EmailOutcome(EmailStatus.SENT, attempts)

    async def _attempt(self, data: bytes) -> None:
        import aiosmtplib

        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.implicit_tls,
            start_tls=server.start_tls,
            username=server.username,
            password=server.password,
            timeout=self.timeout,
            tls_context=self._tls_context,
        )
        async with client:  # connect, STARTTLS, log in; QUIT on the way out
            await client.mail(self.sender)
            await client.rcpt(self.to)
            try:
                await client.data(data)
            except aiosmtplib.SMTPResponseException:
                raise  # an answer: the server did not take it
            except _send_errors() as error:
                raise _Unconfirmed() from error
