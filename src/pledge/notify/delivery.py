"""Mail to people, transactional: queued with the change that causes it, delivered after commit.

Every mail about a request (the verification code, an extension, a denial, the completion)
and every message forwarded to the privacy officer is a job (kind ``mail``), enqueued in the
transaction of the change that causes it, so that a change rolled back sends nothing and a
change committed is told, whatever happens next:

- once the transaction has committed, the process that made it claims the job and delivers
  the mail at once (a hook after commit);
- if that attempt fails (the SMTP server is down) the job is tried again by a runner, after 1,
  5, 15, 30 minutes, 1, 2 and 4 hours; if the process dies before or during it, a runner
  takes the job up once it is due or its lease has run out. After eight tries (``MAX_ATTEMPTS``)
  it is given up (dead-lettered) and shown in the admin console.

The job's row holds nothing personal: its key (``mail:<request>:<kind>:<n>``), its payload
(the kind, the request), and errors that name an exception's class and the SMTP status code.
The mail itself (address, subject, text, HTML, headers) is sealed under a key of Pledge's own,
not the subject's (:meth:`Keyring.seal`), and kept with the job: the completion mail of an
erasure is delivered even after Pledge has forgotten the person. Once delivered, the sealed
mail is destroyed (the development outbox keeps its own sealed copy, that being its purpose).

Delivery is at least once: a process that dies after the SMTP server took the mail but before
the job was marked done sends it again. Both copies carry the same ``Message-ID``
(``<pledge.JOB@domain>``), derived from the job, so that the copy is recognisable as one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import smtplib
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from pledge.ids import new_id
from pledge.jobs.runner import run_claimed
from pledge.jobs.service import Job, Jobs, JobState, Retry
from pledge.notify.mail import Composer, Mail, Mailer, MailOutbox, message_domain
from pledge.requests.notifier import Message
from pledge.store.database import Database, after_commit
from pledge.store.tables import jobs as jobs_table
from pledge.subjects.crypto import Keyring

log = logging.getLogger(__name__)

MAIL_JOB = "mail"
"""The kind of the job that delivers one mail."""
MAIL_STEP = "mail"
"""The name under which a mail job keeps its sealed mail (until it is delivered)."""
RETRY_DELAYS = tuple(dt.timedelta(minutes=minutes) for minutes in (1, 5, 15, 30, 60, 120, 240))
"""How long a mail waits after each failed attempt: about eight hours in all."""
UNDELIVERED_SHOWN = 200
"""How many undelivered mails the admin console lists."""


def mail_context(job_id: str) -> str:
    """What a mail job's mail is sealed to: its job."""
    return f"mail/{job_id}"


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after attempt ``attempts`` failed (see :data:`RETRY_DELAYS`)."""
    return RETRY_DELAYS[max(0, min(attempts, len(RETRY_DELAYS)) - 1)]


def failure(error: BaseException) -> str:
    """Why a mail was not sent, naming no personal value: the exception's class, and the SMTP
    status code (the server's text, and the exception's, may quote the address)."""
    codes: list[int] = []
    if isinstance(error, smtplib.SMTPResponseException):
        codes = [error.smtp_code]
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
    named = " ".join([type(error).__name__, *(str(code) for code in codes)])
    return f"not sent: {named}"


@dataclass(frozen=True)
class UndeliveredMail:
    """A mail not delivered (yet): tried and failed, or given up. Nothing personal: the mail
    stays sealed; its address is never shown.

    The admin console lists these with the mails of the outbox, so it reads them by the same
    names (``subject``, ``to``, ``text``, ``headers``, ``created_at``, ``kind``).
    """

    job_id: str
    kind: str
    request_id: str | None
    state: str
    attempts: int
    reason: str
    created_at: dt.datetime
    tried_at: dt.datetime

    @property
    def given_up(self) -> bool:
        """Whether no runner tries it again."""
        return self.state in (JobState.DEAD, JobState.FAILED)

    @property
    def subject(self) -> str:
        """What it was, for the list."""
        about = f" about request {self.request_id}" if self.request_id else ""
        return f"Not delivered: the {self.kind} mail{about}"

    @property
    def to(self) -> str:
        """Where it stands (never the address)."""
        tries = f"{self.attempts} attempt{'' if self.attempts == 1 else 's'}"
        return f"{'given up' if self.given_up else 'to be tried again'} after {tries}"

    @property
    def text(self) -> str:
        """Why."""
        return self.reason

    @property
    def headers(self) -> Mapping[str, str]:
        """Its job."""
        return {"Job": self.job_id, "State": self.state, "Last tried": self.tried_at.isoformat()}


class MailQueue(Mailer):
    """Mail to people through the store: each mail a job, queued with the change that causes it
    and delivered after commit by ``transport``; the runtime's mailer.

    It is the requests service's :class:`~pledge.requests.notifier.Notifier` (a request's
    message is composed into a mail when queued), a :class:`Mailer` (:meth:`deliver` queues
    a mail in a transaction of its own: a message forwarded to the privacy officer), and the
    handler of ``mail`` jobs (:meth:`handle`).

    Args:
        database: Pledge's store.
        jobs: the job table.
        keyring: seals the mails (a key of Pledge's own, not the subject's).
        transport: what delivers: SMTP, or the outbox of the admin console.
        composer: turns a request's message into a mail.
        sender: the From address (the domain of each mail's ``Message-ID``).
    """

    def __init__(
        self,
        database: Database,
        jobs: Jobs,
        keyring: Keyring,
        transport: Mailer,
        composer: Composer,
        *,
        sender: str,
    ) -> None:
        self.database = database
        self.jobs = jobs
        self.keyring = keyring
        self.transport = transport
        self.composer = composer
        self.domain = message_domain(sender)
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:mail"

    @property
    def outbox(self) -> MailOutbox | None:
        """The outbox of the admin console when mail is kept there (no SMTP server), else None."""
        return self.transport if isinstance(self.transport, MailOutbox) else None

    @property
    def description(self) -> str:
        """Where mails go."""
        return self.transport.description

    # --- queuing ------------------------------------------------------------------------------

    def queue(self, connection: Connection, message: Message) -> None:
        """Queue a request's message, composed into a mail, in the caller's transaction."""
        self.queue_mail(connection, self.composer.request_mail(message))

    def queue_mail(self, connection: Connection, mail: Mail) -> str:
        """Queue ``mail`` in the caller's transaction (of ``Database.transaction``); it is
        delivered once the transaction has committed. Returns the job's id."""
        key = self._key(connection, mail)
        payload: dict[str, Any] = {"kind": mail.kind}
        if mail.request_id is not None:
            payload["request_id"] = mail.request_id
        job_id = self.jobs.enqueue(connection, MAIL_JOB, key, payload, request_id=mail.request_id)
        sealed = replace(mail, message_id=f"<pledge.{job_id}@{self.domain}>")
        self.jobs.attach(
            connection, job_id, MAIL_STEP, self.keyring.seal(sealed.to_json(), mail_context(job_id))
        )
        after_commit(connection, lambda: self.deliver_now(key))
        return job_id

    def deliver(self, mail: Mail) -> None:
        """Queue ``mail`` in a transaction of its own (nothing else changes with it), and
        deliver it after commit. Raising means it was not queued."""
        with self.database.transaction() as connection:
            self.queue_mail(connection, mail)

    def _key(self, connection: Connection, mail: Mail) -> str:
        """``mail:<request>:<kind>:<n>``, the n-th mail of its kind about the request (the
        caller's transaction holds the request's row); ``mail:<kind>:<id>`` about none."""
        if mail.request_id is None:
            return f"{MAIL_JOB}:{mail.kind}:{new_id()}"
        prefix = f"{MAIL_JOB}:{mail.request_id}:{mail.kind}:"
        count = 1
        # Found by the key's unique index, one probe per earlier mail of the kind (a few).
        while connection.execute(
            select(jobs_table.c.id).where(jobs_table.c.key == f"{prefix}{count}")
        ).first():
            count += 1
        return f"{prefix}{count}"

    # --- delivering ---------------------------------------------------------------------------

    def deliver_now(self, key: str) -> None:
        """Deliver the mail of job ``key`` in this process, now (after the commit that queued
        it); a job another runner holds is left to it. Never raises an ``Exception``: what is
        not delivered here is delivered by a runner."""
        try:
            job = self.jobs.claim(self.owner, (MAIL_JOB,), key=key, early=True)
            if job is not None:
                run_claimed(self.jobs, job, self.handle)
        except Exception as error:
            log.warning("mail %s not delivered at once: %s; a runner will", key, failure(error))

    def handle(self, job: Job) -> None:
        """Deliver the mail of a ``mail`` job (a runner's handler); :class:`Retry` when the
        transport did not take it. A job whose mail is gone was delivered before."""
        step = self.jobs.step(job.id, MAIL_STEP)
        if step is None or step.data_encrypted is None:
            return  # delivered by an earlier attempt, which died before marking the job done
        mail = Mail.from_json(self.keyring.unseal(step.data_encrypted, mail_context(job.id)))
        try:
            self.transport.deliver(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise Retry(failure(error), after=retry_delay(job.attempts)) from None
        with self.database.transaction() as connection:
            self.jobs.detach(connection, job.id, MAIL_STEP)

    # --- reading ------------------------------------------------------------------------------

    def undelivered(self, limit: int = UNDELIVERED_SHOWN) -> list[UndeliveredMail]:
        """The mails not delivered: given up (dead or failed for good) or tried and waiting to
        be tried again, the latest first."""
        failed = jobs_table.c.state.in_([str(JobState.DEAD), str(JobState.FAILED)])
        waiting = and_(jobs_table.c.state != str(JobState.DONE), jobs_table.c.error.is_not(None))
        with self.database.read() as connection:
            rows = connection.execute(
                select(jobs_table)
                .where(jobs_table.c.kind == MAIL_JOB, or_(failed, waiting))
                .order_by(jobs_table.c.updated_at.desc(), jobs_table.c.id.desc())
                .limit(limit)
            ).mappings()
            return [
                UndeliveredMail(
                    job_id=row["id"],
                    kind=str(json.loads(row["payload"]).get("kind", "")),
                    request_id=row["request_id"],
                    state=row["state"],
                    attempts=row["attempts"],
                    reason=row["error"] or "",
                    created_at=row["created_at"],
                    tried_at=row["updated_at"],
                )
                for row in rows
            ]


__all__ = [
    "MAIL_JOB",
    "MAIL_STEP",
    "RETRY_DELAYS",
    "MailQueue",
    "UndeliveredMail",
    "failure",
    "mail_context",
    "retry_delay",
]
