"""Mail through a real SMTP server (aiosmtpd on loopback): what arrives is what Pledge sent."""

from __future__ import annotations

import email
import email.policy
import re
import secrets
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from tests.e2e.api_support import declaration, settings

from pledge.app import Runtime, build_runtime
from pledge.notify.mail import SmtpMailer
from pledge.notify.templates import Templates
from pledge.store.tables import jobs
from pledge.subjects.model import Identity


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message (aiosmtpd's hook)."""
        self.envelopes.append(envelope)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def mail_jobs(runtime: Runtime) -> list[dict[str, Any]]:
    """The rows of the runtime's mail jobs, oldest first."""
    with runtime.database.read() as connection:
        rows = connection.execute(select(jobs).where(jobs.c.kind == "mail").order_by(jobs.c.id))
        return [dict(row) for row in rows.mappings()]


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free loopback port, and what it received."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and the HTML part of a message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    # SMTP carries CRLF line ends; compare lines as Python writes them.
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_a_request_code_arrives_by_smtp_in_text_and_html(
    smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    """The runtime built with an SMTP host sends the verification code there."""
    inbox, port = smtp
    runtime = build_runtime(
        settings(
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
            mail_from="privacy@acme.example",
        ),
        declaration=declaration(),
        upgrade=True,
    )
    try:
        assert isinstance(runtime.mailer.transport, SmtpMailer)
        request = runtime.requests.submit("access", Identity.parse("email", "ann@example.com"))
        [message] = inbox.messages
        [job] = mail_jobs(runtime)
        assert message["Message-ID"] == f"<pledge.{job['id']}@acme.example>"
        assert job["state"] == "done"
        assert message["To"] == "ann@example.com"
        assert message["From"] == "privacy@acme.example"
        assert message["Subject"] == "Acme Cloud: confirm your privacy request"
        text, html = parts(message)
        code = re.search(r"^    (\d{6})$", text, re.MULTILINE)
        assert code is not None and f">{code[1]}</p>" in html
        assert runtime.requests.verify(request.id, code[1]).state == "verified"
        assert "http://127.0.0.1:8000/privacy" in text
    finally:
        runtime.close()


def test_every_kind_of_request_mail_arrives(smtp: tuple[Inbox, int]) -> None:
    """Extension, denial and completion go out with their words and a matching HTML part."""
    inbox, port = smtp
    from pledge.requests import messages
    from pledge.requests.model import Denial, DenialGround, RequestType

    templates = Templates("Acme Cloud", "https://acme.example")
    mailer = SmtpMailer("127.0.0.1", port, "privacy@acme.example", starttls=False)
    import datetime as dt

    due = dt.datetime(2026, 5, 2, tzinfo=dt.UTC)
    for message in (
        messages.extended("Acme Cloud", "ann@example.com", "R1", "Many systems.", due),
        messages.denied(
            "Acme Cloud",
            "ann@example.com",
            "R2",
            Denial(DenialGround.OTHER, "Not ours.", "You may complain."),
        ),
        messages.completed("Acme Cloud", "ann@example.com", "R3", RequestType.ERASURE),
    ):
        mailer.deliver(templates.request_mail(message))
    subjects = [message["Subject"] for message in inbox.messages]
    assert subjects == [
        "Acme Cloud: more time for your request",
        "Acme Cloud: your privacy request",
        "Acme Cloud: your privacy request is done",
    ]
    texts = [parts(message) for message in inbox.messages]
    assert "02 May 2026" in texts[0][0] and "Many systems." in texts[0][1]
    assert "You may complain." in texts[1][0] and "You may complain." in texts[1][1]
    assert "erasure request" in texts[2][0]


def test_a_policy_notice_arrives_with_one_click_unsubscribe(smtp: tuple[Inbox, int]) -> None:
    """The RFC 8058 headers survive the trip through SMTP."""
    inbox, port = smtp
    import datetime as dt

    templates = Templates("Acme Cloud", "https://acme.example")
    mailer = SmtpMailer("127.0.0.1", port, "privacy@acme.example", starttls=False)
    link = "https://acme.example/privacy/unsubscribe/01JD3Z6X6M0000000000000000.abc"
    mailer.deliver(
        templates.policy_change(
            "ann@example.com",
            version="2.2",
            effective=dt.date(2026, 6, 1),
            changes=["Newsletter data is now kept for 2 years."],
            unsubscribe_url=link,
        )
    )
    [message] = inbox.messages
    assert message["List-Unsubscribe"].strip() == f"<{link}>"  # a long header may be folded
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(message)
    assert "kept for 2 years" in text and "kept for 2 years" in html


def test_starttls_is_required_when_configured(smtp: tuple[Inbox, int]) -> None:
    """A server that cannot STARTTLS gets nothing when STARTTLS is asked for."""
    import smtplib

    inbox, port = smtp
    mailer = SmtpMailer("127.0.0.1", port, "privacy@acme.example", starttls=True)
    with pytest.raises(smtplib.SMTPNotSupportedError):
        mailer.deliver(
            Templates("Acme Cloud", "https://acme.example").sign_in("a@example.com", "123456", 15)
        )
    assert inbox.messages == []


def test_a_server_that_is_down_fails_the_mail_not_the_request(tmp_path: Path) -> None:
    """With the SMTP server unreachable the request is still received; the mail stays queued,
    its reason the exception's class, to be tried again in a minute."""
    port = free_port()
    runtime = build_runtime(
        settings(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False),
        declaration=declaration(),
        upgrade=True,
    )
    try:
        request = runtime.requests.submit(
            "access", Identity.parse("email", f"{secrets.token_hex(4)}@example.com")
        )
        assert runtime.requests.get(request.id).state == "received"
        [job] = mail_jobs(runtime)
    finally:
        runtime.close()
    assert (job["state"], job["attempts"]) == ("queued", 1)
    assert job["error"] == "not sent: ConnectionRefusedError"
    assert job["key"] == f"mail:{request.id}:verification:1"
