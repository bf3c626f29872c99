"""Sending e-mail: the transports. Over SMTP when a server is configured, else into the outbox
of the admin console, kept in Pledge's store (the development default: nothing leaves the
machine, and every process sees the same mails).

Mail to people about their requests, and the messages forwarded to the privacy officer, are
not handed to a transport directly: they are queued with the change that causes them and
delivered after commit (:mod:`pledge.notify.delivery`). The sign-in code of the privacy
center is sent directly, so that the person sees at once when it could not be.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import delete, insert, select

from pledge.clock import Clock, utc_now
from pledge.config import Settings
from pledge.errors import KeyDestroyed
from pledge.ids import new_id
from pledge.requests.notifier import Message
from pledge.store.database import Database
from pledge.store.tables import outbox
from pledge.subjects.crypto import Keyring

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
            ``completed``, ``failed``, ``policy_change``, ``contact``, ``child``.
        request_id: the request it is about, if any.
        headers: extra headers (``List-Unsubscribe``…).
        created_at: when it was composed.
        message_id: its ``Message-ID``; a queued mail's is derived from its job, so that a
            mail sent twice is recognisable as one. Empty: a new one is made when sent.
    """

    to: str
    subject: str
    text: str
    html: str
    kind: str
    request_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    created_at: dt.datetime = field(default_factory=utc_now)
    message_id: str = ""

    def to_email(self, sender: str) -> EmailMessage:
        """The mail as a MIME message from ``sender``: text, with the HTML as an alternative."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = format_datetime(self.created_at)
        message["Message-ID"] = self.message_id or make_msgid(domain=message_domain(sender))
        for name, value in self.headers.items():
            message[name] = value
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message

    def to_json(self) -> bytes:
        """The mail as JSON, to be sealed."""
        return json.dumps(
            {
                "to": self.to,
                "subject": self.subject,
                "text": self.text,
                "html": self.html,
                "kind": self.kind,
                "request_id": self.request_id,
                "headers": dict(self.headers),
                "created_at": self.created_at.isoformat(),
                "message_id": self.message_id,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Mail:
        """The mail of :meth:`to_json`."""
        values = json.loads(data)
        return cls(
            to=values["to"],
            subject=values["subject"],
            text=values["text"],
            html=values["html"],
            kind=values["kind"],
            request_id=values["request_id"],
            headers=dict(values["headers"]),
            created_at=dt.datetime.fromisoformat(values["created_at"]),
            message_id=values["message_id"],
        )


def message_domain(sender: str) -> str:
    """The domain of a sender's address, for the ``Message-ID`` of its mails."""
    return sender.rpartition("@")[2].strip("> ") or "localhost"


class Mailer:
    """Delivers mails: a transport (SMTP, the outbox of the admin console), or the queue in
    front of one (:class:`pledge.notify.delivery.MailQueue`)."""

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
    ) -> None:
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


class MailOutbox(Mailer):
    """Keeps mails in Pledge's store instead of sending them: the admin console's outbox.

    Every process on the store keeps its mails here and sees every other's. Each mail is
    sealed under a key of Pledge's own (``Keyring.seal``), so that it outlives the subject's
    key like a mail that was sent; the newest ``size`` are kept. A mail kept twice (by a job
    that died before it was marked done) is kept once, by its ``Message-ID``.

    Args:
        database: Pledge's store.
        keyring: seals and opens the mails.
        sender: the From address (the domain of the ``Message-ID`` it gives a mail without one).
        size: how many mails to keep.
        clock: the time source.
    """

    def __init__(
        self,
        database: Database,
        keyring: Keyring,
        *,
        sender: str = "privacy@localhost",
        size: int = OUTBOX_SIZE,
        clock: Clock = utc_now,
    ) -> None:
        self.database = database
        self.keyring = keyring
        self.domain = message_domain(sender)
        self.size = size
        self.clock = clock

    def deliver(self, mail: Mail) -> None:
        """Keep the mail (raises ``StoreUnavailable`` when the store cannot take it)."""
        kept = replace(mail, message_id=mail.message_id or make_msgid(domain=self.domain))
        row_id = new_id()
        sealed = self.keyring.seal(kept.to_json(), _context(row_id))
        with self.database.transaction() as connection:
            known = connection.execute(
                select(outbox.c.id).where(outbox.c.message_id == kept.message_id)
            ).first()
            if known is not None:
                return
            connection.execute(
                insert(outbox).values(
                    id=row_id,
                    message_id=kept.message_id,
                    kind=kept.kind,
                    request_id=kept.request_id,
                    created_at=self.clock(),
                    mail_encrypted=sealed,
                )
            )
            oldest_kept = connection.execute(
                select(outbox.c.id).order_by(outbox.c.id.desc()).offset(self.size - 1).limit(1)
            ).scalar()
            if oldest_kept is not None:
                connection.execute(delete(outbox).where(outbox.c.id < oldest_kept))

    def kept(self) -> list[Mail]:
        """The mails kept, newest first (one that no longer opens, sealed under another
        master key, is left out)."""
        with self.database.read() as connection:
            rows = connection.execute(
                select(outbox.c.id, outbox.c.mail_encrypted)
                .order_by(outbox.c.id.desc())
                .limit(self.size)
            ).all()
        found = []
        for row in rows:
            try:
                found.append(Mail.from_json(self.keyring.unseal(row[1], _context(row[0]))))
            except KeyDestroyed:
                continue
        return found

    @property
    def mails(self) -> list[Mail]:
        """The mails kept, oldest first."""
        return list(reversed(self.kept()))

    def last_mail(self, to: str, kind: str | None = None) -> Mail | None:
        """The newest mail to ``to`` (of ``kind``, when given), or None."""
        for mail in self.kept():
            if mail.to == to and (kind is None or mail.kind == kind):
                return mail
        return None

    @property
    def description(self) -> str:
        """Where mails go."""
        return "the outbox of the admin console (no SMTP server is configured)"


def _context(row_id: str) -> str:
    """What a kept mail is sealed to: its row."""
    return f"outbox/{row_id}"


def build_mailer(
    settings: Settings, database: Database, keyring: Keyring, *, clock: Clock = utc_now
) -> Mailer:
    """The transport the settings ask for: SMTP when ``smtp_host`` is set, else the outbox."""
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    return MailOutbox(database, keyring, sender=settings.mail_from, clock=clock)


__all__ = [
    "OUTBOX_SIZE",
    "Composer",
    "Mail",
    "MailOutbox",
    "Mailer",
    "SmtpMailer",
    "build_mailer",
    "message_domain",
]
