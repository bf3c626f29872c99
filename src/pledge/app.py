"""The composition root: the only module that sees every room and wires them together.

``build_runtime(settings)`` gives the object graph a process needs: the SDK, the CLI and the
web server all start here; tests build it with a temporary SQLite file or PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pledge.clock import Clock, utc_now
from pledge.config import Settings
from pledge.consent.service import ConsentLedger
from pledge.declaration import Declaration, load
from pledge.enforcement.decisions import Decider
from pledge.enforcement.objections import Objections
from pledge.jobs import Jobs, Runner
from pledge.keys import KeyCache
from pledge.notify.delivery import MAIL_JOB, MailQueue
from pledge.notify.mail import Mailer, build_mailer
from pledge.notify.policies import PolicyVersions
from pledge.notify.templates import Templates
from pledge.notify.unsubscribe import Unsubscribe
from pledge.notify.webhooks import RecipientWebhooks
from pledge.requests.execution import RequestExecution
from pledge.requests.notifier import Notifier
from pledge.requests.service import SubjectRequests
from pledge.staff.people import PersonSignIn
from pledge.staff.service import Sessions, StaffAccounts
from pledge.store.changes import API_KEY, SUBJECT, ChangeFeed, Listeners
from pledge.store.database import Database
from pledge.subjects.crypto import Keyring
from pledge.subjects.service import Subjects


@dataclass
class Runtime:
    """Everything a running Pledge needs, built once per process."""

    settings: Settings
    declaration: Declaration
    database: Database
    subjects: Subjects
    ledger: ConsentLedger
    decider: Decider
    clock: Clock
    objections: Objections
    requests: SubjectRequests
    jobs: Jobs
    execution: RequestExecution
    webhooks: RecipientWebhooks
    mailer: MailQueue
    """Mail to people: queued in the store with the change that causes it, delivered after
    commit through the transport (``mailer.transport``: SMTP, or the outbox of the admin
    console, ``mailer.outbox``)."""
    changes: ChangeFeed
    """Tells this process's caches of what other processes change (at once, not after a TTL);
    started by the processes that keep caches long (the server, the SDK)."""
    keys: KeyCache
    """The API keys this process has checked (the server's)."""
    staff: StaffAccounts
    """The staff's accounts (the admin console's sign-in)."""
    sessions: Sessions
    """Signed-in staff and people."""
    sign_in: PersonSignIn
    """The privacy center's sign-in by a code sent to the person (sent directly, not queued:
    the person sees at once when it could not be, and a code hours late would have expired)."""
    versions: PolicyVersions
    """The versions of the policy served, for the privacy center's history."""
    unsubscribe: Unsubscribe
    """The signed one-click unsubscribe links of marketing mails."""
    templates: Templates
    """The texts of the mails to people."""

    def runner(self, *, poll: float = 1.0) -> Runner:
        """A job runner with the handlers of every job kind."""
        return Runner(
            self.jobs,
            {
                "request": self.execution.run,
                "recipient": self.webhooks.deliver,
                MAIL_JOB: self.mailer.handle,
            },
            poll=poll,
            on_dead={"request": self.execution.buried},
        )

    def close(self) -> None:
        """Commit what waits (consent decisions, then decision audit events), release the store."""
        self.changes.stop()
        try:
            self.ledger.close()
        finally:
            try:
                self.decider.close()
            finally:
                try:
                    self.webhooks.close()
                finally:
                    self.execution.close()
                self.database.dispose()


def build_runtime(
    settings: Settings,
    *,
    declaration: Declaration | None = None,
    database: Database | None = None,
    clock: Clock = utc_now,
    upgrade: bool = False,
    log_mode: str = "batched",
    notifier: Notifier | None = None,
    transport: Mailer | None = None,
) -> Runtime:
    """Build the runtime from settings.

    Args:
        settings: with the secret key read (``Settings.with_secret``).
        declaration: the declaration; loaded from ``settings.declaration`` when omitted.
        database: an existing database; built from ``settings.database_url`` when omitted.
        clock: the time source.
        upgrade: bring the schema up to date first (the embedded SQLite default does).
        log_mode: how decisions reach the audit trail: ``batched`` or ``sync``
            (see :mod:`pledge.enforcement.decision_log`).
        notifier: where messages to people about their requests go; by default the mail
            queue (``Runtime.mailer``).
        transport: what delivers the mail queue's mails; by default SMTP when
            ``settings.smtp_host`` is set, else the outbox of the admin console.
    """
    declaration = declaration or load(settings.declaration)
    database = database or Database(settings.database_url)
    if upgrade:
        database.upgrade()
    decider = Decider(
        database,
        declaration,
        cache_seconds=settings.decision_cache_seconds,
        clock=clock,
        log_mode=log_mode,
    )
    keyring = Keyring(settings.secret_key)
    subjects = Subjects(database, keyring, clock=clock, on_change=decider.invalidate)
    ledger = ConsentLedger(
        database,
        declaration,
        subjects,
        clock=clock,
        gpc_jurisdictions=settings.gpc_jurisdictions,
        on_change=decider.invalidate,
    )
    objections = Objections(database, declaration, clock=clock, on_change=decider.invalidate)
    jobs = Jobs(database, clock=clock, lease=dt.timedelta(seconds=settings.job_lease_seconds))
    templates = Templates(declaration.controller.name, settings.public_url)
    mailer = MailQueue(
        database,
        jobs,
        keyring,
        transport or build_mailer(settings, database, keyring, clock=clock),
        templates,
        sender=settings.mail_from,
    )
    execution: RequestExecution  # built below, on the requests; asked only once running
    requests = SubjectRequests(
        database,
        declaration,
        subjects,
        ledger,
        objections,
        clock,
        notifier=notifier if notifier is not None else mailer,
        jobs=jobs,
        # Bound when called: the execution below plans the datastores.
        reaches=lambda datastore, table: execution.reaches(datastore, table),
    )
    execution = RequestExecution(
        database,
        declaration,
        requests,
        subjects,
        jobs,
        pseudonym_key=keyring.pseudonym_key,
        clock=clock,
    )
    webhooks = RecipientWebhooks(database, declaration, requests, subjects, jobs, clock=clock)
    keys = KeyCache(database, settings.api_key_cache_seconds, clock=clock)
    listeners = Listeners()
    listeners.add(lambda kind, ref: decider.invalidate(ref) if kind == SUBJECT else None)
    listeners.add(lambda kind, ref: keys.forget(ref) if kind == API_KEY else None)
    changes = ChangeFeed(database, listeners, clock=clock)  # started by long-lived processes
    return Runtime(
        staff=StaffAccounts(database, clock=clock),
        sessions=Sessions(database, clock=clock),
        sign_in=PersonSignIn(
            database, settings.secret_key, subjects, mailer.transport, templates, clock=clock
        ),
        versions=PolicyVersions(database, clock=clock),
        unsubscribe=Unsubscribe(settings.secret_key, settings.public_url),
        templates=templates,
        changes=changes,
        keys=keys,
        jobs=jobs,
        execution=execution,
        webhooks=webhooks,
        settings=settings,
        declaration=declaration,
        database=database,
        subjects=subjects,
        ledger=ledger,
        decider=decider,
        clock=clock,
        objections=objections,
        requests=requests,
        mailer=mailer,
    )
