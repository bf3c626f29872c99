"""Requests carried out in the Cloudwarm example's database on SQLite, PostgreSQL and MariaDB.

Every erasure is checked afterwards by SQL written here, independently of Pledge's plan: no
row of the person is left but the invoices under the legal hold, the user row is rewritten,
and nobody else's rows changed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import MetaData, String, cast, create_engine, func, select, text, update
from tests.cloudwarm import BACKENDS, SEED, declaration_at, example_database

from pledge import loads
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditFilter
from pledge.errors import DatastoreError, NotFound, RequestError, SchemaDrift, UsageError
from pledge.jobs.service import JobState
from pledge.notify.mail import MailOutbox
from pledge.notify.webhooks import verify_signature
from pledge.requests.model import RequestState
from pledge.staff.service import Sessions
from pledge.store.database import Database
from pledge.store.tables import job_steps, jobs
from pledge.subjects.model import Identity

PEOPLE = SEED.rows()
# Person 2 owns a home with thermostats, has support tickets, a newsletter row and invoices.
PERSON = next(
    user
    for user in PEOPLE["users"]
    if any(t["customer_email"] == user["email"] for t in PEOPLE["support_tickets"])
    and any(n["user_id"] == user["id"] for n in PEOPLE["newsletter_subscriptions"])
)
EMAIL = PERSON["email"]
TABLES = [table for table in PEOPLE if table != "firmware_releases"]


@pytest.fixture(params=BACKENDS)
def company(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database holding the seeded example, per backend."""
    yield from example_database(request.param, tmp_path)


def make_runtime(tmp_path: Path, source: str) -> Runtime:
    store = Database(f"sqlite:///{tmp_path / 'pledge.db'}")
    store.upgrade()
    return build_runtime(
        Settings(secret_key=os.urandom(32)),
        declaration=loads(source),
        database=store,
        log_mode="sync",
    )


@pytest.fixture
def runtime(company: str, tmp_path: Path) -> Iterator[Runtime]:
    """Pledge (on SQLite) with the example declaration pointing at the company database."""
    built = make_runtime(tmp_path, declaration_at(company))
    try:
        yield built
    finally:
        built.close()


def submit(runtime: Runtime, kind: str, details: dict[str, Any] | None = None) -> str:
    """A request by the person, submitted and verified by staff, then approved."""
    request = runtime.requests.submit(
        kind,
        Identity.parse("email", EMAIL),
        details=details,
        on_behalf_of_staff="Sam",
        skip_verification_reason="called from the account's phone number",
    )
    runtime.execution.approve(request.id, actor="staff:Sam")
    return request.id


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in TABLES
            }
    finally:
        engine.dispose()


def owned(url: str) -> dict[str, int]:
    """The person's rows per table, by hand-written SQL that knows the schema."""
    person = PERSON["id"]
    homes = f"SELECT id FROM homes WHERE owner_id = {person}"
    thermostats = f"SELECT id FROM thermostats WHERE home_id IN ({homes})"
    queries = {
        "users": f"SELECT COUNT(*) FROM users WHERE id = {person}",
        "homes": f"SELECT COUNT(*) FROM homes WHERE owner_id = {person}",
        "home_members": f"SELECT COUNT(*) FROM home_members WHERE user_id = {person}"
        f" OR home_id IN ({homes})",
        "thermostats": f"SELECT COUNT(*) FROM thermostats WHERE home_id IN ({homes})",
        "temperature_readings": "SELECT COUNT(*) FROM temperature_readings"
        f" WHERE thermostat_id IN ({thermostats})",
        "support_tickets": "SELECT COUNT(*) FROM support_tickets WHERE customer_email = :email",
        "newsletter_subscriptions": "SELECT COUNT(*) FROM newsletter_subscriptions"
        f" WHERE email = :email OR user_id = {person}",
        "invoices": f"SELECT COUNT(*) FROM invoices WHERE user_id = {person}",
    }
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(query), {"email": EMAIL}).scalar_one()
                for table, query in queries.items()
            }
    finally:
        engine.dispose()


def test_access_finds_every_row_of_the_person_and_reports_it(
    runtime: Runtime, company: str
) -> None:
    """The access report holds exactly the rows the hand-written SQL finds, with Art. 15 facts."""
    expected = owned(company)
    request_id = submit(runtime, "access")

    assert runtime.runner().run_until_idle() == 1
    done = runtime.requests.get(request_id)
    assert done.state is RequestState.COMPLETED
    page = runtime.execution.report(request_id, "html").content.decode()
    assert EMAIL in page and PERSON["full_name"] in page
    assert "Why we hold it" in page and "Outside-temperature analysis" in page
    assert "Partner organisations offering services jointly" in page  # receives the address

    archive = zipfile.ZipFile(io.BytesIO(runtime.execution.report(request_id, "zip").content))
    data = json.loads(archive.read("data.json"))
    found = {table["name"]: table["count"] for table in data["datastores"][0]["tables"]}
    assert found == expected
    readings = archive.read("app/temperature_readings.csv").decode().splitlines()
    assert len(readings) == expected["temperature_readings"] + 1  # with the header
    # Key and link columns come along, so rows can be joined; a password hash never does.
    assert readings[0].split(",")[:2] == ["id", "thermostat_id"]
    assert PERSON["password_hash"] not in page
    assert PERSON["password_hash"].encode() not in b"".join(
        archive.read(name) for name in archive.namelist()
    )
    users = next(t for t in data["datastores"][0]["tables"] if t["name"] == "users")
    assert users["rows"][0]["password_hash"] == "held, not shown"


def test_erasure_leaves_nothing_but_the_legal_hold(runtime: Runtime, company: str) -> None:
    """After an erasure, independent SQL finds no residue; others' rows are untouched."""
    before_all = counts(company)
    before = owned(company)
    request_id = submit(runtime, "erasure")

    runtime.runner().run_until_idle()

    assert runtime.requests.get(request_id).state is RequestState.COMPLETED
    after = owned(company)
    assert after["invoices"] == before["invoices"] > 0  # kept under the legal hold
    assert after["users"] == 1  # rewritten, not deleted: the invoices still refer to it
    assert {table: n for table, n in after.items() if table not in ("invoices", "users")} == {
        table: 0 for table in before if table not in ("invoices", "users")
    }
    engine = create_engine(company)
    try:
        with engine.connect() as connection:
            user = connection.execute(
                text("SELECT * FROM users WHERE id = :id"), {"id": PERSON["id"]}
            ).one()
            assert user.email != EMAIL and len(user.email) == 64
            assert user.full_name is None and user.phone is None
            assert user.password_hash == "!erased"
            tables = MetaData()
            tables.reflect(connection)
            for table in tables.sorted_tables:
                if table.name == "invoices":
                    continue
                for column in table.columns:
                    hits = connection.execute(
                        select(func.count())
                        .select_from(table)
                        .where(cast(column, String).in_([EMAIL, PERSON["full_name"]]))
                    ).scalar_one()
                    assert hits == 0, f"{table.name}.{column.name} still holds the person"
    finally:
        engine.dispose()
    others_before = {table: before_all[table] - before[table] for table in TABLES}
    others_after = {table: counts(company)[table] - after[table] for table in TABLES}
    assert others_after == others_before

    report = json.loads(runtime.execution.report(request_id, "json").content)
    tables = report["outcome"]["app"]["tables"]
    assert (
        tables["invoices"]["action"] == "retained" and "ten years" in tables["invoices"]["reason"]
    )
    assert tables["temperature_readings"] == {
        "action": "deleted",
        "rows": before["temperature_readings"],
    }
    assert report["outcome"]["app"]["residue"] == {}
    page = runtime.execution.report(request_id, "html").content.decode()
    assert "found nothing left but what the law requires us to keep" in page
    # What the legal hold keeps may only be stored: Pledge keeps the person, restricted.
    subject = runtime.subjects.get(runtime.requests.get(request_id).subject_id)
    assert subject.restricted and not subject.erased


def test_an_erasure_that_keeps_nothing_makes_pledge_forget_the_person(
    runtime: Runtime, company: str
) -> None:
    """Without a legal hold's rows, Pledge destroys the person's key after telling them."""
    engine = create_engine(company)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM invoices WHERE user_id = :id"), {"id": PERSON["id"]}
            )
    finally:
        engine.dispose()
    identity = Identity.parse("email", EMAIL)
    subject_id = runtime.subjects.find_or_create(identity, actor="test")
    sessions = Sessions(runtime.database)
    session = sessions.open_person(subject_id, lifetime=dt.timedelta(hours=1))
    request_id = submit(runtime, "erasure")

    runtime.runner().run_until_idle()

    assert runtime.requests.get(request_id).state is RequestState.COMPLETED
    left = owned(company)
    assert left.pop("users") == 1  # the account is rewritten (the declaration says so)
    assert left == dict.fromkeys(left, 0)
    assert runtime.subjects.find(identity) is None
    assert runtime.subjects.get(subject_id).erased
    assert runtime.execution.reports(request_id) == []
    with pytest.raises(RequestError, match="erased"):
        runtime.execution.report(request_id, "json")
    assert sessions.check(session.token, "person") is None
    kept = runtime.mailer.outbox
    assert isinstance(kept, MailOutbox)
    done = kept.last_mail(EMAIL, "completed")
    assert done is not None
    assert "- app.temperature_readings:" in done.text and "deleted" in done.text
    assert "- app.users: 1 row rewritten (email, full_name, phone, password_hash)" in done.text
    with runtime.database.read() as connection:
        events = audit.read(connection, AuditFilter(subject_id=subject_id, limit=1000))
    assert events[-1].action == "subject.erased"


def test_a_second_erasure_rewrites_the_pseudonym_and_removes_nothing_more(
    runtime: Runtime, company: str
) -> None:
    """A second erasure of the same person rewrites every value of a pseudonymised column
    again, whatever it looks like (a pseudonym is not taken for erased); nothing else goes."""
    submit(runtime, "erasure")
    runtime.runner().run_until_idle()
    engine = create_engine(company)
    try:
        with engine.connect() as connection:
            first = connection.execute(
                text("SELECT email FROM users WHERE id = :id"), {"id": PERSON["id"]}
            ).scalar_one()
        remaining = counts(company)
        again = runtime.requests.submit(
            "erasure",
            Identity.parse("account", str(PERSON["id"])),
            on_behalf_of_staff="Sam",
            skip_verification_reason="follow-up",
        )
        runtime.execution.approve(again.id, actor="staff:Sam")
        runtime.runner().run_until_idle()
        assert runtime.requests.get(again.id).state is RequestState.COMPLETED
        with engine.connect() as connection:
            second = connection.execute(
                text("SELECT email FROM users WHERE id = :id"), {"id": PERSON["id"]}
            ).scalar_one()
    finally:
        engine.dispose()
    assert second != first
    assert EMAIL not in (first, second)
    assert counts(company) == remaining


def test_rectification_corrects_only_what_may_be_corrected(runtime: Runtime, company: str) -> None:
    """A correctable column is corrected in place; a column that is not is refused up front."""
    with pytest.raises(UsageError, match="may not be corrected"):
        runtime.requests.submit(
            "rectification",
            Identity.parse("email", EMAIL),
            details={"corrections": {"app.users.password_hash": "x"}},
        )
    assert runtime.requests.list() == []

    request_id = submit(
        runtime, "rectification", {"corrections": {"app.users.full_name": "Ada Lovelace"}}
    )
    runtime.runner().run_until_idle()

    assert runtime.requests.get(request_id).state is RequestState.COMPLETED
    engine = create_engine(company)
    try:
        with engine.connect() as connection:
            name = connection.execute(
                text("SELECT full_name FROM users WHERE id = :id"), {"id": PERSON["id"]}
            ).scalar_one()
    finally:
        engine.dispose()
    assert name == "Ada Lovelace"


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_a_correction_no_request_can_apply_is_refused_when_submitted(
    company: str, tmp_path: Path
) -> None:
    """A correction to a table no request reaches is refused at submission, with the valid
    part: the request is never accepted to fail later (it once failed with a KeyError)."""
    source = declaration_at(
        company,
        (
            "      invoices:\n",
            "      firmware_releases:\n        columns:\n"
            "          notes: {category: user_content.support_messages, correctable: true}\n"
            "        erasure: {strategy: delete}\n      invoices:\n",
        ),
    )
    runtime = make_runtime(tmp_path, source)
    try:
        with pytest.raises(UsageError, match="no request reaches table 'firmware_releases'"):
            runtime.requests.submit(
                "rectification",
                Identity.parse("email", EMAIL),
                details={
                    "corrections": {
                        "app.users.full_name": "Ann Other",
                        "app.firmware_releases.notes": "x",
                    }
                },
            )
        assert runtime.requests.list() == []
    finally:
        runtime.close()


def test_portability_exports_only_what_the_person_provided(runtime: Runtime) -> None:
    """The portability JSON holds the ``provided`` columns and nothing else."""
    request_id = submit(runtime, "portability")
    runtime.runner().run_until_idle()

    data = json.loads(runtime.execution.report(request_id, "json").content)["data"]["app"]
    assert data["users"] == [
        {"email": EMAIL, "full_name": PERSON["full_name"], "phone": PERSON["phone"]}
    ]
    assert "invoices" not in data and "thermostats" not in data
    assert set(data["temperature_readings"][0]) == {"target_celsius"}


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_the_dry_run_shows_the_plan_with_row_counts(runtime: Runtime, company: str) -> None:
    """A dry run lists every table, how rows are found, how many there are; nothing changes."""
    request = runtime.requests.submit(
        "erasure",
        Identity.parse("email", EMAIL),
        on_behalf_of_staff="Sam",
        skip_verification_reason="in person",
    )
    before = counts(company)

    planned = {item.table: item for item in runtime.execution.dry_run(request.id).tables}

    assert {table: item.rows for table, item in planned.items()} == owned(company)
    assert planned["invoices"].action == "retain (legal hold)"
    assert planned["users"].action.startswith("rewrite email")
    assert (
        "support_tickets.customer_email → users.email (owner)"
        in planned["support_tickets"].found_by
    )
    assert counts(company) == before


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_a_schema_that_changed_fails_clearly_and_changes_nothing(
    runtime: Runtime, company: str
) -> None:
    """A column dropped since it was declared stops the request before any change."""
    engine = create_engine(company)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE support_tickets DROP COLUMN body"))
    engine.dispose()
    before = counts(company)
    request_id = submit(runtime, "erasure")

    with pytest.raises(SchemaDrift, match=r"column support_tickets\.body is gone"):
        runtime.execution.dry_run(request_id)
    runtime.runner().run_until_idle()

    failed = runtime.requests.get(request_id)
    assert failed.state is RequestState.FAILED and not failed.retryable
    assert "support_tickets.body is gone" in (failed.failure or "")
    assert counts(company) == before


def test_an_unreachable_datastore_is_retried_and_changes_nothing(tmp_path: Path) -> None:
    """A datastore that is down leaves the request running and its job queued for later."""
    runtime = make_runtime(tmp_path, declaration_at(f"sqlite:///{tmp_path / 'missing.db'}"))
    try:
        request_id = submit(runtime, "erasure")
        with pytest.raises(DatastoreError, match="unreachable"):
            runtime.execution.dry_run(request_id)

        assert runtime.runner().run_until_idle() == 1  # tried once, then waits for its retry

        job = runtime.jobs.for_request(request_id)
        assert job is not None and job["state"] == JobState.QUEUED and "unreachable" in job["error"]
        assert runtime.requests.get(request_id).state is RequestState.RUNNING
        assert not (tmp_path / "missing.db").exists()
    finally:
        runtime.close()


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_a_request_is_carried_out_only_once_approved(runtime: Runtime) -> None:
    """Verified is not enough: without approval there is no job; approving twice is refused."""
    request = runtime.requests.submit(
        "access",
        Identity.parse("email", EMAIL),
        on_behalf_of_staff="Sam",
        skip_verification_reason="in person",
    )
    assert runtime.runner().run_until_idle() == 0
    with pytest.raises(RequestError, match="approve it first"):
        runtime.execution.run_now(request.id, owner="test")
    runtime.execution.approve(request.id, actor="staff:Sam")
    with pytest.raises(RequestError, match="planned request cannot become planned"):
        runtime.execution.approve(request.id, actor="staff:Sam")
    done = runtime.execution.run_now(request.id, owner="test")
    assert done.state is RequestState.COMPLETED


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_reports_expire(runtime: Runtime) -> None:
    """A report can be read until it expires, then it is refused and purged."""
    request_id = submit(runtime, "access")
    runtime.runner().run_until_idle()
    assert [item["format"] for item in runtime.execution.reports(request_id)] == [
        "html",
        "zip",
    ]
    runtime.execution.clock = lambda: runtime.clock() + runtime.execution.report_lifetime

    with pytest.raises(RequestError, match="expired"):
        runtime.execution.report(request_id, "html")
    assert runtime.execution.reports(request_id) == []
    with pytest.raises(NotFound, match="no report format"):
        runtime.execution.report(request_id, "pdf")


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_every_step_is_audited_once(runtime: Runtime) -> None:
    """Each step of the job appears once in the audit trail, in order."""
    request_id = submit(runtime, "erasure")
    runtime.runner().run_until_idle()
    subject_id = runtime.requests.get(request_id).subject_id
    with runtime.database.read() as connection:
        events = audit.read(connection, AuditFilter(subject_id=subject_id, limit=1000))
    steps = [event.details["step"] for event in events if event.action == "request.step"]
    assert steps == ["found:app", "erase:app", "verify:app", "restrict", "recipients", "report"]
    # The invoices kept under the legal hold may only be stored from now on.
    assert runtime.subjects.get(subject_id).restricted


class Receiver(BaseHTTPRequestHandler):
    """A recipient's webhook endpoint: fails the first call, then takes them."""

    calls: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append((dict(self.headers), body))
        self.send_response(500 if len(Receiver.calls) == 1 else 204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_recipients_are_told_by_signed_webhook_and_retried(
    company: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Art. 19: a recipient with a webhook gets a signed notice (retried after a 500)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.calls = []
    monkeypatch.setenv("PARTNER_HOOK_SECRET", "s3cret")
    source = declaration_at(
        company,
        (
            "    obligations: Cloudwarm urges",
            f"    webhook:\n      url: http://127.0.0.1:{server.server_port}/pledge\n"
            "      secret: ${PARTNER_HOOK_SECRET}\n    obligations: Cloudwarm urges",
        ),
    )
    runtime = make_runtime(tmp_path, source)
    try:
        request_id = submit(runtime, "erasure")
        runtime.runner().run_until_idle()
        job = runtime.jobs.for_request(request_id)
        assert job is not None and job["state"] == JobState.DONE
        assert len(Receiver.calls) == 1  # refused; waits for its retry
        with runtime.database.transaction() as connection:  # the retry is due now
            connection.execute(update(jobs).values(run_after=runtime.clock()))
        runtime.runner().run_until_idle()
    finally:
        runtime.close()
        server.shutdown()
        server.server_close()

    assert len(Receiver.calls) == 2
    headers, body = Receiver.calls[-1]
    assert verify_signature("s3cret", headers["Pledge-Signature"], body)
    assert not verify_signature("wrong", headers["Pledge-Signature"], body)
    sent = json.loads(body)
    assert sent["event"] == "request.erasure" and sent["subject"] == {"email": [EMAIL]}
    assert headers["Idempotency-Key"] == f"recipient:{request_id}:partners"


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_the_notice_names_the_person_after_pledge_forgot_them(
    company: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Art. 19 with a name: an erasure that keeps nothing makes Pledge forget the person before
    the recipient's job runs; the notice still carries their identities, sealed when it was
    queued, and the snapshot is dropped once delivered."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.calls = [({}, b"")]  # the receiver takes the first notice
    monkeypatch.setenv("PARTNER_HOOK_SECRET", "s3cret")
    engine = create_engine(company)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM invoices WHERE user_id = :id"), {"id": PERSON["id"]})
    engine.dispose()
    source = declaration_at(
        company,
        (
            "    obligations: Cloudwarm urges",
            f"    webhook:\n      url: http://127.0.0.1:{server.server_port}/pledge\n"
            "      secret: ${PARTNER_HOOK_SECRET}\n    obligations: Cloudwarm urges",
        ),
    )
    runtime = make_runtime(tmp_path, source)
    try:
        request_id = submit(runtime, "erasure")
        runtime.runner().run_until_idle()
        subject_id = runtime.requests.get(request_id).subject_id
        assert runtime.subjects.get(subject_id).erased  # forgotten before the notice went
        with runtime.database.read() as connection:
            kept = connection.execute(
                select(func.count())
                .select_from(job_steps)
                .where(job_steps.c.name == "notice", job_steps.c.data_encrypted.is_not(None))
            ).scalar_one()
    finally:
        runtime.close()
        server.shutdown()
        server.server_close()

    sent = json.loads(Receiver.calls[-1][1])
    assert sent["subject"] == {"email": [EMAIL]}
    assert kept == 0  # delivered: the snapshot is gone


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_a_restriction_queues_the_recipients_notices(company: str, tmp_path: Path) -> None:
    """Art. 19 covers restriction too: its completion queues a notice per webhook recipient."""
    source = declaration_at(
        company,
        (
            "    obligations: Cloudwarm urges",
            "    webhook:\n      url: https://partner.example/pledge\n"
            "      secret: ${PARTNER_HOOK_SECRET}\n    obligations: Cloudwarm urges",
        ),
    )
    runtime = make_runtime(tmp_path, source)
    try:
        request = runtime.requests.submit(
            "restriction",
            Identity.parse("email", EMAIL),
            on_behalf_of_staff="Sam",
            skip_verification_reason="in person",
        )
        assert runtime.requests.get(request.id).state is RequestState.COMPLETED
        with runtime.database.read() as connection:
            keys = connection.execute(select(jobs.c.key, jobs.c.kind, jobs.c.state)).all()
    finally:
        runtime.close()
    assert sorted(tuple(row) for row in keys) == [
        (f"mail:{request.id}:completed:1", "mail", "done"),  # the person told, at once
        (f"recipient:{request.id}:partners", "recipient", "queued"),
        (f"request:{request.id}", "request", "done"),  # the effect's own job, carried out
    ]


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_a_request_whose_runners_keep_stopping_fails_with_the_reason(runtime: Runtime) -> None:
    """A job that eight runners in a row took and never finished (each killed half-way) is
    given up: the request fails, retryable, saying why, instead of running forever."""
    from pledge.jobs.service import MAX_ATTEMPTS

    request_id = submit(runtime, "access")
    for _ in range(MAX_ATTEMPTS):
        assert runtime.jobs.claim("a runner that is killed") is not None
        with runtime.database.transaction() as connection:
            connection.execute(
                update(jobs).values(lease_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            )
    runtime.runner().run_until_idle()
    failed = runtime.requests.get(request_id)
    assert failed.state is RequestState.FAILED and failed.retryable
    assert "given up after 8 attempts" in (failed.failure or "")
    job = runtime.jobs.for_request(request_id)
    assert job is not None and job["state"] == JobState.DEAD
