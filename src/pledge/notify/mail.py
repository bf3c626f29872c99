"""Sending e-mail: over SMTP when a server is configured, else into an outbox that the admin
console shows (the development default: nothing leaves the machine).

Both are :class:`~pledge.requests.notifier.Notifier`\\ s, so the requests service sends
through them unchanged: a request message is composed from its templates (a text and an HTML
part) and delivered. Pages send their own mails (the sign-in code, policy change notices)
with :meth:`Mailer.deliver`.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from pledge.clock import Clock, utc_now
from pledge.config import Settings
from pledge.requests.notifier import Message, Outbox

OUTBOX_SIZE = 1000
"""How many mails the outbox keeps (the oldest go first)."""

SMTP_TIMEOUT = 10.0
"""Seconds to wait for the SMTP server before the mail counts as not sent."""


@dataclass(frozen=True, slots=True)
class Mail:
    """One e-mail, ready to send.

    Args:
        to: the recipient's address.
        subject: the subject line.
        text: the plain-text part.
        html: the HTML part (the same words).
        kind: what it is: ``sign_in``, ``verification``, ``extended``, ``denied``,
            ``completed``, ``failed``, ``policy_change``.
        request_id: the request it is about, if any.
        headers: extra headers (``List-Unsubscribe``…).
        created_at: when it was composed.
    """

    to: str
    subject: str
    text: str
    html: str
    kind: str
    request_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    created_at: dt.datetime = field(default_factory=utc_now)

    def to_email(self, sender: str) -> EmailMessage:
        """The mail as a MIME message from ``sender``: text, with the HTML as an alternative."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = format_datetime(self.created_at)
        domain = sender.rpartition("@")[2].strip("> ") or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
        for name, value in self.headers.items():
            message[name] = value
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


class Mailer:
    """Composes and delivers mails; a notifier of the requests service.

    Args:
        composer: turns a request message into a mail (see :mod:`pledge.notify.templates`).
    """

    def __init__(self, composer: Composer) -> None:
        self.composer = composer

    def send(self, message: Message) -> None:
        """Compose a request message into a mail and deliver it (raises when not sent)."""
        self.deliver(self.composer.request_mail(message))

    def deliver(self, mail: Mail) -> None:
        """Deliver one mail; raising means it was not sent."""
        raise NotImplementedError

    @property
    def description(self) -> str:
        """Where mails go, for the admin console."""
        raise NotImplementedError


class Composer:
    """What turns a request message into a mail; see :class:`pledge.notify.templates.Templates`."""

    def request_mail(self, message: Message) -> Mail:
        """The mail of a request message."""
        raise NotImplementedError


class SmtpMailer(Mailer):
    """Delivers over SMTP, one connection per mail (Pledge sends few).

    Args:
        host: the server.
        port: its port.
        sender: the From address.
        user: the login, if the server needs one.
        password: its password.
        starttls: upgrade to TLS with STARTTLS before logging in (refused if the server
            cannot).
        composer: see :class:`Mailer`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str = "",
        password: str = "",
        starttls: bool = True,
        composer: Composer,
    ) -> None:
        super().__init__(composer)
        self.host = host
        self.port = port
        self.sender = sender
        self.user = user
        self.password = password
        self.starttls = starttls

    def deliver(self, mail: Mail) -> None:
        """Send the mail; raises ``OSError`` or ``smtplib.SMTPException`` when not sent."""
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as server:
            server.ehlo()
            if self.starttls:
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            if self.user:
                server.login(self.user, self.password)
            server.send_message(mail.to_email(self.sender))

    @property
    def description(self) -> str:
        """Where mails go."""
        tls = ", STARTTLS" if self.starttls else ""
        return f"SMTP server {self.host}:{self.port}{tls}, from {self.sender}"


class MailOutbox(Outbox, Mailer):
    """Keeps mails in memory instead of sending them: the admin console's outbox.

    It is also the requests service's :class:`~pledge.requests.notifier.Outbox`: its
    ``messages`` and ``last()`` read the same mails as request messages.

    Args:
        composer: see :class:`Mailer`.
        size: how many mails to keep.
        clock: the time source.
    """

    def __init__(
        self, composer: Composer, *, size: int = OUTBOX_SIZE, clock: Clock = utc_now
    ) -> None:
        Outbox.__init__(self)
        Mailer.__init__(self, composer)
        self.clock = clock
        self._mails: deque[Mail] = deque(maxlen=size)
        self._mail_lock = threading.Lock()

    def send(self, message: Message) -> None:
        """Keep the request message, and its mail."""
        Outbox.send(self, message)
        Mailer.send(self, message)

    def deliver(self, mail: Mail) -> None:
        """Keep the mail."""
        with self._mail_lock:
            self._mails.append(mail)

    @property
    def mails(self) -> list[Mail]:
        """The mails kept, oldest first."""
        with self._mail_lock:
            return list(self._mails)

    def last_mail(self, to: str, kind: str | None = None) -> Mail | None:
        """The newest mail to ``to`` (of ``kind``, when given), or None."""
        for mail in reversed(self.mails):
            if mail.to == to and (kind is None or mail.kind == kind):
                return mail
        return None

    @property
    def description(self) -> str:
        """Where mails go."""
        return "the outbox of the admin console (no SMTP server is configured)"


def build_mailer(settings: Settings, composer: Composer) -> Mailer:
    """The mailer the settings ask for: SMTP when ``smtp_host`` is set, else the outbox."""
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            composer=composer,
        )
    return MailOutbox(composer)


__all__ = ["Composer", "Mail", "MailOutbox", "Mailer", "SmtpMailer", "build_mailer"]
