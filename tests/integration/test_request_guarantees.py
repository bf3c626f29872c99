"""What a request promises beyond finding rows: real pseudonyms, failures that name no personal
value, and no false proof when nothing was found. On Cloudwarm's database, every backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from tests.cloudwarm import BACKENDS, declaration_at, example_database
from tests.integration.test_execution import EMAIL, PEOPLE, PERSON, make_runtime

from pledge.app import Runtime
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditFilter
from pledge.requests.model import RequestState
from pledge.store.tables import jobs
from pledge.subjects.model import Identity

OTHER = next(user for user in PEOPLE["users"] if user["id"] != PERSON["id"])


@pytest.fixture(params=BACKENDS)
def company(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database holding the seeded example, per backend."""
    yield from example_database(request.param, tmp_path)


def staff_request(runtime: Runtime, kind: str, identity: Identity, **details: object) -> str:
    """A request submitted and verified by staff, then approved and run."""
    request = runtime.requests.submit(
        kind,
        identity,
        details=details or None,
        on_behalf_of_staff="Sam",
        skip_verification_reason="identified in person",
    )
    runtime.execution.approve(request.id, actor="staff:Sam")
    runtime.runner().run_until_idle()
    return request.id


def test_a_failure_of_the_database_names_no_personal_value(company: str, tmp_path: Path) -> None:
    """A correction that the database refuses (another person's e-mail address, unique): the
    request fails with a reason naming the constraint, and neither the reason, the job row
    nor the audit trail holds either address (MySQL's own message would: 'Duplicate entry')."""
    runtime = make_runtime(tmp_path, declaration_at(company))
    try:
        request_id = staff_request(
            runtime,
            "rectification",
            Identity.parse("email", EMAIL),
            corrections={"app.users.email": OTHER["email"]},
        )
        failed = runtime.requests.get(request_id)
        with runtime.database.read() as connection:
            errors = [row.error or "" for row in connection.execute(select(jobs.c.error))]
            events = audit.read(connection, AuditFilter(limit=1000))
    finally:
        runtime.close()
    assert failed.state is RequestState.FAILED
    assert "unique constraint" in (failed.failure or "")
    recorded = " ".join([failed.failure or "", *errors, *(json.dumps(e.details) for e in events)])
    assert OTHER["email"] not in recorded and EMAIL not in recorded


def test_values_that_look_like_pseudonyms_are_rewritten_all_the_same(
    company: str, tmp_path: Path
) -> None:
    """A phone stored as bare digits (all of them hexadecimal characters) is pseudonymised like
    any other value, and the verification does not take it for erased."""
    engine = create_engine(company)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET phone = '4930123456789' WHERE id = :id"), {"id": PERSON["id"]}
        )
    engine.dispose()
    source = declaration_at(
        company, ("            phone: null\n", "            phone: {pseudonym: hmac}\n")
    )
    runtime = make_runtime(tmp_path, source)
    try:
        request_id = staff_request(runtime, "erasure", Identity.parse("email", EMAIL))
        assert runtime.requests.get(request_id).state is RequestState.COMPLETED
    finally:
        runtime.close()
    engine = create_engine(company)
    with engine.connect() as connection:
        phone = connection.execute(
            text("SELECT phone FROM users WHERE id = :id"), {"id": PERSON["id"]}
        ).scalar_one()
    engine.dispose()
    assert phone != "4930123456789" and len(phone) >= 16


def test_pseudonyms_of_two_erasures_link_nothing(company: str, tmp_path: Path) -> None:
    """With hmac, the key is this erasure's alone: two people with the same value in the same
    column get unrelated pseudonyms, and nobody can recompute one from a guess."""
    engine = create_engine(company)
    with engine.begin() as connection:
        for user in (PERSON, OTHER):
            connection.execute(
                text("UPDATE users SET full_name = 'Sam Same' WHERE id = :id"), {"id": user["id"]}
            )
    engine.dispose()
    source = declaration_at(
        company, ("            full_name: null\n", "            full_name: {pseudonym: hmac}\n")
    )
    runtime = make_runtime(tmp_path, source)
    try:
        for user in (PERSON, OTHER):
            staff_request(runtime, "erasure", Identity.parse("email", user["email"]))
    finally:
        runtime.close()
    engine = create_engine(company)
    with engine.connect() as connection:
        names = connection.execute(
            text("SELECT full_name FROM users WHERE id IN (:a, :b)"),
            {"a": PERSON["id"], "b": OTHER["id"]},
        ).scalars()
        first, second = list(names)
    engine.dispose()
    assert first != second and "Sam Same" not in (first, second)


def test_an_erasure_that_finds_nothing_says_so_and_forgets_nobody(
    company: str, tmp_path: Path
) -> None:
    """Nobody has this address: the request completes as 'nothing found', with what was
    searched; the mail says so; the person is not forgotten, and the report stays."""
    runtime = make_runtime(tmp_path, declaration_at(company))
    try:
        identity = Identity.parse("email", "nobody.here@example.org")
        request_id = staff_request(runtime, "erasure", identity)
        done = runtime.requests.get(request_id)
        with runtime.database.read() as connection:
            (completed,) = [
                event
                for event in audit.read(connection, AuditFilter(subject_id=done.subject_id))
                if event.action == "request.completed"
            ]
        erased = runtime.subjects.get(done.subject_id).erased
        report = runtime.execution.report(request_id, "html").content.decode()
        kept = runtime.mailer.outbox
        assert kept is not None
        mail = kept.last_mail("nobody.here@example.org", "completed")
    finally:
        runtime.close()
    assert done.state is RequestState.COMPLETED
    assert completed.details["nothing_found"] is True
    assert "users.email" in completed.details["searched"]["app"]
    assert not erased
    assert "We found no data about you" in report and "nothing to erase" in report
    assert mail is not None and "found no data" in mail.text and "rewritten" not in mail.text


def test_a_landline_shared_with_someone_else_does_not_fail_the_erasure(
    company: str, tmp_path: Path
) -> None:
    """Two people of one household share a phone number: erasing one completes, and the
    other's row, which still holds the number, is theirs, not residue (one detail alone is
    not the person)."""
    engine = create_engine(company)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET phone = :phone WHERE id = :id"),
            {"phone": PERSON["phone"], "id": OTHER["id"]},
        )
    engine.dispose()
    runtime = make_runtime(tmp_path, declaration_at(company))
    try:
        request_id = staff_request(runtime, "erasure", Identity.parse("email", EMAIL))
        done = runtime.requests.get(request_id)
    finally:
        runtime.close()
    assert done.state is RequestState.COMPLETED, done.failure
    engine = create_engine(company)
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT phone FROM users WHERE id = :id"), {"id": OTHER["id"]}
        ).scalar_one()
    engine.dispose()
    assert kept == PERSON["phone"]
