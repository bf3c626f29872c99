"""Mail to people is queued in Pledge's store with the change that causes it and delivered after
commit: a mail server that is down, a process killed between the commit and the delivery, or
a person forgotten right after their erasure loses no mail; a mail that keeps failing is given
up and shown in the admin console; nothing personal is left in the clear. On SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import re
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select, text
from tests.cloudwarm import declaration_at, example_database
from tests.e2e.api_support import declaration
from tests.e2e.pages_support import add_staff, client, sign_in_staff, soup
from tests.integration.test_execution import EMAIL as PERSON_EMAIL
from tests.integration.test_execution import PERSON
from tests.integration.test_mail import Inbox, free_port

from pledge import loads
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.jobs.service import MAX_ATTEMPTS
from pledge.notify.mail import Mail, Mailer
from pledge.requests.model import RequestState
from pledge.store.database import Database
from pledge.store.tables import jobs, metadata
from pledge.subjects.model import Identity

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "ann.mailtest@example.com"
ANN = Identity.parse("email", EMAIL)
SENDER = "privacy@acme.example"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += dt.timedelta(**delta)


class Transport(Mailer):
    """A mail server the test takes down (``failure`` is raised while set) and brings back;
    what it took, in order. With ``dies``, it takes one mail and then the process "dies"."""

    def __init__(self, failure: BaseException | None = None, *, dies: bool = False) -> None:
        self.failure = failure
        self.dies = dies
        self.sent: list[Mail] = []

    def deliver(self, mail: Mail) -> None:
        """Take the mail, or fail."""
        if self.failure is not None:
            raise self.failure
        self.sent.append(mail)
        if self.dies:
            self.dies = False
            raise SystemExit("the process died after the server took the mail")

    @property
    def description(self) -> str:
        """Where mails go."""
        return "the test's mail server"


@pytest.fixture
def clock() -> Clock:
    """The test's clock."""
    return Clock()


def make(
    store: Database,
    clock: Clock,
    transport: Mailer | None = None,
    *,
    secret: bytes | None = None,
    source: str | None = None,
    **settings: Any,
) -> Runtime:
    """A runtime on ``store``; its mail goes to ``transport`` (the outbox in the store when
    omitted)."""
    return build_runtime(
        Settings(secret_key=secret or os.urandom(32), mail_from=SENDER, **settings),
        declaration=loads(source) if source else declaration(),
        database=store,
        clock=clock,
        log_mode="sync",
        transport=transport,
    )


def mail_jobs(runtime: Runtime) -> list[dict[str, Any]]:
    """The rows of the mail jobs, oldest first."""
    with runtime.database.read() as connection:
        rows = connection.execute(select(jobs).where(jobs.c.kind == "mail").order_by(jobs.c.id))
        return [dict(row) for row in rows.mappings()]


def code_in(mail: Mail) -> str:
    """The six-digit code of a verification mail."""
    found = re.search(r"^    (\d{6})$", mail.text, re.MULTILINE)
    assert found, mail.text
    return found[1]


def refused() -> smtplib.SMTPRecipientsRefused:
    """What smtplib raises when the server refuses the address: its text quotes the address."""
    return smtplib.SMTPRecipientsRefused({EMAIL: (450, f"4.2.1 <{EMAIL}>: try later".encode())})


def test_a_mail_the_server_did_not_take_is_delivered_by_a_runner_once_it_is_back(
    store: Database, clock: Clock
) -> None:
    """The SMTP server is down: the request is received all the same, its mail stays queued
    with the reason, and a runner delivers it once, when it is due and the server is back."""
    transport = Transport(ConnectionRefusedError(111, "Connection refused"))
    runtime = make(store, clock, transport)
    try:
        request = runtime.requests.submit("access", ANN)
        assert runtime.requests.get(request.id).state is RequestState.RECEIVED
        [job] = mail_jobs(runtime)
        assert (job["state"], job["attempts"]) == ("queued", 1)
        assert job["error"] == "not sent: ConnectionRefusedError"
        assert json.loads(job["payload"]) == {"kind": "verification", "request_id": request.id}
        assert transport.sent == []
        transport.failure = None
        assert runtime.runner().run_until_idle() == 0  # tried again a minute later
        clock.advance(minutes=1)
        assert runtime.runner().run_until_idle() == 1
        [mail] = transport.sent
        assert mail.to == EMAIL and mail.message_id == f"<pledge.{job['id']}@acme.example>"
        verified = runtime.requests.verify(request.id, code_in(mail))
        assert verified.state is RequestState.VERIFIED
        clock.advance(days=1)
        assert runtime.runner().run_until_idle() == 0
        assert len(transport.sent) == 1
        step = runtime.jobs.step(job["id"], "mail")
        assert step is not None and step.data_encrypted is None  # destroyed once delivered
    finally:
        runtime.close()


def test_a_real_smtp_server_that_was_down_receives_the_mail_once_with_its_message_id(
    store: Database, clock: Clock
) -> None:
    """Nothing listens on the port when the request is made; a server starts there, and the
    runner's next attempt delivers the mail, with the Message-ID of its job."""
    port = free_port()
    runtime = make(store, clock, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    inbox = Inbox()
    try:
        request = runtime.requests.submit("access", ANN)
        [job] = mail_jobs(runtime)
        assert job["error"] == "not sent: ConnectionRefusedError"
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            clock.advance(minutes=1)
            assert runtime.runner().run_until_idle() == 1
        finally:
            controller.stop()
    finally:
        runtime.close()
    [message] = inbox.messages
    assert message["To"] == EMAIL
    assert message["Message-ID"] == f"<pledge.{job['id']}@acme.example>"
    assert request.id in str(message.get_body(("plain",)))


@pytest.mark.parametrize("server_took_it", [False, True])
def test_a_process_that_dies_after_the_commit_leaves_the_mail_to_a_runner(
    store: Database, clock: Clock, server_took_it: bool
) -> None:
    """The process dies (an exception no handler catches) in the delivery right after the
    commit: before the server took the mail, the runner that takes the job over delivers it
    once; after, it delivers it again (at least once), with the same Message-ID."""
    transport = Transport(None if server_took_it else SystemExit("killed"), dies=server_took_it)
    runtime = make(store, clock, transport)
    try:
        with pytest.raises(SystemExit):
            runtime.requests.submit("access", ANN)
        [request] = runtime.requests.list()
        assert request.state is RequestState.RECEIVED  # committed before the process died
        transport.failure = None
        assert runtime.runner().run_until_idle() == 0  # the dead process's lease still holds
        clock.advance(seconds=runtime.jobs.lease.total_seconds() + 1)
        assert runtime.runner().run_until_idle() == 1
        assert runtime.runner().run_until_idle() == 0
        [job] = mail_jobs(runtime)
        assert (job["state"], job["attempts"]) == ("done", 2)
    finally:
        runtime.close()
    ids = [mail.message_id for mail in transport.sent]
    assert ids == [f"<pledge.{job['id']}@acme.example>"] * (2 if server_took_it else 1)


KILLED = """
import base64, os, signal, sys
from pledge.app import build_runtime
from pledge.config import Settings
from pledge.notify.mail import Mailer
from pledge.store.database import Database
from pledge.subjects.model import Identity
from tests.e2e.api_support import declaration

class Killed(Mailer):
    def deliver(self, mail):
        os.kill(os.getpid(), signal.SIGKILL)

settings = Settings(secret_key=base64.b64decode(sys.argv[2]), mail_from="privacy@acme.example")
runtime = build_runtime(
    settings, declaration=declaration(), database=Database(sys.argv[1]), transport=Killed()
)
runtime.requests.submit("access", Identity.parse("email", sys.argv[3]))
"""


def test_a_process_killed_between_the_commit_and_the_delivery_leaves_the_mail_to_a_runner(
    store: Database, clock: Clock
) -> None:
    """A real process submits a request and is killed with SIGKILL as it delivers the mail;
    once its lease has run out, a runner of another runtime delivers the mail, once."""
    secret = os.urandom(32)
    url = store.url.render_as_string(hide_password=False)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED, url, base64.b64encode(secret).decode(), EMAIL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -9, killed.stderr
    transport = Transport()
    runtime = make(store, clock, transport, secret=secret)
    try:
        [request] = runtime.requests.list()
        assert request.state is RequestState.RECEIVED
        [job] = mail_jobs(runtime)
        assert (job["state"], job["attempts"]) == ("running", 1)
        clock.advance(seconds=runtime.jobs.lease.total_seconds() + 60)  # its lease ran out
        assert runtime.runner().run_until_idle() == 1
        assert runtime.runner().run_until_idle() == 0
        [mail] = transport.sent
        assert mail.to == EMAIL and mail.message_id == f"<pledge.{job['id']}@acme.example>"
        assert runtime.requests.verify(request.id, code_in(mail)).state is RequestState.VERIFIED
    finally:
        runtime.close()


@pytest.fixture
def company(tmp_path: Path) -> Iterator[str]:
    """Cloudwarm's database on SQLite, the person's invoices gone: an erasure keeps nothing."""
    for url in example_database("sqlite", tmp_path):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM invoices WHERE user_id = :id"), {"id": PERSON["id"]}
            )
        engine.dispose()
        yield url


def test_the_completion_mail_of_an_erasure_outlives_the_person_it_tells(
    store: Database, clock: Clock, company: str
) -> None:
    """The server is down when the erasure completes, and Pledge forgets the person right
    after (their key destroyed); the mail, sealed under a key of Pledge's own, is delivered
    later all the same and says what was erased."""
    transport = Transport(ConnectionRefusedError(111, "Connection refused"))
    runtime = make(store, clock, transport, source=declaration_at(company))
    try:
        request = runtime.requests.submit(
            "erasure",
            Identity.parse("email", PERSON_EMAIL),
            on_behalf_of_staff="Sam",
            skip_verification_reason="identified in person",
        )
        runtime.execution.approve(request.id, actor="staff:Sam")
        assert runtime.runner().run_until_idle() == 1
        assert runtime.requests.get(request.id).state is RequestState.COMPLETED
        assert runtime.subjects.get(request.subject_id).erased
        assert transport.sent == []
        transport.failure = None
        clock.advance(minutes=1)
        assert runtime.runner().run_until_idle() == 1
    finally:
        runtime.close()
    [mail] = transport.sent
    assert (mail.to, mail.kind) == (PERSON_EMAIL, "completed")
    assert "What was done, table by table:" in mail.text
    assert "- app.temperature_readings:" in mail.text and "deleted" in mail.text


def test_two_runtimes_on_one_store_share_the_outbox_of_the_admin_console(
    store: Database, clock: Clock
) -> None:
    """Without an SMTP server, a mail one process sends is kept in the store: another
    process's outbox holds it, and its admin console lists it."""
    secret = os.urandom(32)
    first = make(store, clock, secret=secret)
    second = make(Database(store.url.render_as_string(hide_password=False)), clock, secret=secret)
    try:
        first.requests.submit("access", ANN)
        assert second.mailer.outbox is not None
        kept = second.mailer.outbox.last_mail(EMAIL, "verification")
        assert kept is not None and kept.message_id.startswith("<pledge.")
        browser = client(second)
        add_staff(browser)
        sign_in_staff(browser)
        [listed] = soup(browser.get("/admin/outbox").text).select("li.mail")
        assert listed["data-kind"] == "verification"
        assert EMAIL in listed.get_text() and code_in(kept) in listed.get_text()
    finally:
        second.close()
        first.close()


def test_a_mail_failing_on_every_attempt_is_given_up_and_shown_without_its_address(
    store: Database, clock: Clock
) -> None:
    """Eight attempts over about eight hours, then the mail is dead: never tried again, and
    the admin console lists it with the reason (the exception's class and the SMTP status),
    never the address the server's refusal quoted."""
    transport = Transport(refused())
    runtime = make(store, clock, transport)
    try:
        request = runtime.requests.submit("access", ANN)
        for _ in range(MAX_ATTEMPTS - 1):
            clock.advance(hours=4)
            assert runtime.runner().run_until_idle() == 1
        [job] = mail_jobs(runtime)
        assert (job["state"], job["attempts"]) == ("dead", MAX_ATTEMPTS)
        assert job["error"] == "given up after 8 attempts: not sent: SMTPRecipientsRefused 450"
        clock.advance(days=1)
        assert runtime.runner().run_until_idle() == 0
        browser = client(runtime)
        add_staff(browser)
        sign_in_staff(browser)
        page = soup(browser.get("/admin/outbox").text)
    finally:
        runtime.close()
    [listed] = page.select("li.mail")
    words = listed.get_text(" ", strip=True)
    assert listed["data-kind"] == "verification"
    assert f"Not delivered: the verification mail about request {request.id}" in words
    assert "given up after 8 attempts" in words and "SMTPRecipientsRefused 450" in words
    assert EMAIL not in page.get_text() and len(transport.sent) == 0


def test_nothing_personal_is_left_in_the_clear_in_the_store_or_the_logs(
    store: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Codes, an extension, a denial and a message to the privacy officer, through a server
    that refuses them (its error quoting the address), then the outbox in the store: no job
    row, error, audit event, table or log line holds the address or the message."""
    secret = os.urandom(32)
    caplog.set_level(logging.DEBUG)
    refusing = make(store, clock, Transport(refused()), secret=secret)
    try:
        first = refusing.requests.submit("access", ANN)
        refusing.requests.extend(first.id, "Three systems to search.", by=1, actor="staff:Ada")
        refusing.requests.deny(first.id, "Not you.", ground="other", actor="staff:Ada")
        refusing.requests.submit("erasure", ANN)
        refusing.mailer.deliver(
            Mail("dpo@acme.example", "A message", "Erase me, please.", "<p>…</p>", "contact")
        )
        clock.advance(minutes=1)
        assert refusing.runner().run_until_idle() == 5
    finally:
        refusing.close()
    keeping = make(Database(store.url.render_as_string(hide_password=False)), clock, secret=secret)
    try:
        clock.advance(minutes=5)
        assert keeping.runner().run_until_idle() == 5  # into the outbox in the store
        assert keeping.mailer.outbox is not None
        assert len(keeping.mailer.outbox.kept()) == 5
        with keeping.database.read() as connection:
            stored = [
                value
                for table in metadata.sorted_tables
                for row in connection.execute(select(table))
                for value in row
            ]
    finally:
        keeping.close()
    assert {job["state"] for job in mail_jobs_of(store)} == {"done"}
    for secret_text in (EMAIL, "Erase me"):
        assert not any(secret_text.encode() in as_bytes(value) for value in stored), secret_text
        assert secret_text not in caplog.text


def mail_jobs_of(store: Database) -> list[dict[str, Any]]:
    """The mail jobs' rows, read from the store directly."""
    with store.read() as connection:
        rows = connection.execute(select(jobs).where(jobs.c.kind == "mail")).mappings()
        return [dict(row) for row in rows]


def as_bytes(value: Any) -> bytes:
    """A stored value as bytes, to search."""
    return value if isinstance(value, bytes) else str(value).encode()
