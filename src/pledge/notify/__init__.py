"""E-mail to people (SMTP, or the outbox of the admin console when no server is configured),
from templates with a text and an HTML part, queued in the store with the change that causes
it and delivered after commit; one-click unsubscribe links (RFC 8058)."""

from __future__ import annotations

from pledge.notify.delivery import MailQueue
from pledge.notify.mail import Mail, Mailer, MailOutbox, SmtpMailer, build_mailer
from pledge.notify.unsubscribe import Unsubscribe

__all__ = [
    "Mail",
    "MailOutbox",
    "MailQueue",
    "Mailer",
    "SmtpMailer",
    "Unsubscribe",
    "build_mailer",
]
