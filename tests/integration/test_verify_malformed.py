"""``verify`` names a malformed row (its table, and its id or seq) and goes on; it never crashes.

SQLite stores any value in any column: a ``seq`` of ``'abc'``, an ``occurred_at`` of
``'garbage'``, text that is not UTF-8, a blob for an id. PostgreSQL's column types refuse
those (each refusal is tested here too), but hold others that are just as malformed for
Pledge: a hash of the wrong length, details that are not JSON, a timestamp of ``infinity`` or
past the year 9999, which Python cannot represent. Each case is written with plain SQL.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, IntegrityError
from tests.integration.tampering import Recorded, broken, record_small_ledger

from pledge import Declaration
from pledge.consent.proof import VerifyReport, seal_checkpoint, verify
from pledge.consent.service import ConsentLedger
from pledge.store.database import Database
from pledge.store.tables import audit_events, consent_events, metadata
from pledge.subjects.crypto import Keyring
from pledge.subjects.service import Subjects


@pytest.fixture
def database(store: Database) -> Database:
    """These tests run on SQLite and on PostgreSQL (see ``tests/backends.py``)."""
    return store


@pytest.fixture
def recorded(ledger: ConsentLedger, subjects: Subjects, database: Database) -> Recorded:
    """A small, valid ledger with one checkpoint: every proof table has rows."""
    found = record_small_ledger(ledger, subjects)
    seal_checkpoint(database)
    return found


# One row of each proof table: bob's last event and everything that points to it.
WHERE = {
    "consent_events": "subject_id = :bob AND seq = 2",
    "consent_heads": "subject_id = :bob",
    "consent_state": "subject_id = :bob",
    "checkpoints": "seq = 1",
    "checkpoint_heads": "subject_id = :bob",
    "audit_events": "seq = 8",
    "audit_head": "id = 1",
}

NOT_UTF8 = "CAST(X'FF' AS TEXT)"
NOT_UTF8_ON_POSTGRESQL = "convert_from('\\xff'::bytea, 'UTF8')"


@dataclass(frozen=True)
class Case:
    """A malformed value, where it goes and how verify names it.

    ``refused`` means PostgreSQL's column type refuses the value: there the test checks the
    refusal instead, since no such row can exist; ``refused_by_sqlite`` the same on SQLite.
    """

    table: str
    column: str
    value: str  # an SQL expression
    record: str  # with {bob}, {event} (bob's seq 2) and {audit_id} (audit seq 8)
    says: str
    refused: bool = False
    on_postgresql: str | None = None  # the expression there, when it differs
    refused_by_sqlite: bool = False  # an INTEGER PRIMARY KEY: SQLite's rowid, a number always

    @property
    def name(self) -> str:
        """The case's test id."""
        return f"{self.table}.{self.column}={self.value}"


CASES = [
    Case("consent_events", "seq", "'abc'", "event {event} (subject {bob})",
         "seq 'abc' is not a whole number", refused=True),
    Case("consent_events", "occurred_at", "'garbage'", "subject {bob} seq 2",
         "occurred_at 'garbage' is not a time", refused=True),
    Case("consent_events", "occurred_at", "'infinity'", "subject {bob} seq 2",
         "occurred_at 'infinity' is not a time"),
    Case("consent_events", "occurred_at", "'10000-01-01 00:00:00+00'", "subject {bob} seq 2",
         "is not a time"),
    Case("consent_events", "hash", "'abc'", "subject {bob} seq 2",
         "hash 'abc' is not a SHA-256 (64 lowercase hex digits)"),
    Case("consent_events", "prev_hash", "upper(prev_hash)", "subject {bob} seq 2",
         "prev_hash '"),
    Case("consent_events", "actor", NOT_UTF8, "subject {bob} seq 2",
         "actor b'\\xff' is not text", refused=True, on_postgresql=NOT_UTF8_ON_POSTGRESQL),
    Case("consent_events", "subject_id", "X'00'", "event {event} (subject b'\\x00')",
         "subject_id b'\\x00' is not text", refused=True,
         on_postgresql=NOT_UTF8_ON_POSTGRESQL),
    Case("consent_heads", "seq", "'abc'", "subject {bob}", "seq 'abc' is not a whole number",
         refused=True),
    Case("consent_heads", "hash", "'abc'", "subject {bob}", "hash 'abc' is not a SHA-256"),
    Case("consent_state", "decision", NOT_UTF8, "subject {bob} purpose newsletter",
         "decision b'\\xff' is not text", refused=True, on_postgresql=NOT_UTF8_ON_POSTGRESQL),
    Case("checkpoints", "created_at", "'garbage'", "checkpoint 1",
         "created_at 'garbage' is not a time", refused=True),
    Case("checkpoints", "created_at", "'infinity'", "checkpoint 1",
         "created_at 'infinity' is not a time"),
    Case("checkpoints", "subjects", "'two'", "checkpoint 1", "subjects 'two' is not a whole",
         refused=True),
    Case("checkpoints", "consent_root", "'xyz'", "checkpoint 1", "consent_root 'xyz' is not"),
    Case("checkpoint_heads", "seq", "'abc'", "checkpoint 1 subject {bob} seq abc",
         "seq 'abc' is not a whole number", refused=True),
    Case("checkpoint_heads", "hash", "'abc'", "checkpoint 1 subject {bob} seq 2",
         "hash 'abc' is not a SHA-256"),
    Case("audit_events", "seq", "'abc'", "", "", refused=True, refused_by_sqlite=True),
    Case("checkpoints", "seq", "'abc'", "", "", refused=True, refused_by_sqlite=True),
    Case("audit_events", "occurred_at", "'garbage'", "seq 8",
         "occurred_at 'garbage' is not a time", refused=True),
    Case("audit_events", "occurred_at", "'-infinity'", "seq 8",
         "occurred_at '-infinity' is not a time"),
    Case("audit_events", "details", "'{not json'", "seq 8", "details '{not json' is not JSON"),
    Case("audit_events", "details", "'[1, 2]'", "seq 8", "is JSON but not an object"),
    Case("audit_events", "hash", "'abc'", "seq 8", "hash 'abc' is not a SHA-256"),
    Case("audit_events", "action", NOT_UTF8, "seq 8", "action b'\\xff' is not text",
         refused=True, on_postgresql=NOT_UTF8_ON_POSTGRESQL),
    Case("audit_head", "seq", "'abc'", "head", "seq 'abc' is not a whole number",
         refused=True),
    Case("audit_head", "hash", "'abc'", "head", "hash 'abc' is not a SHA-256"),
]  # fmt: skip


def tamper(database: Database, case: Case, recorded: Recorded) -> None:
    """Write the case's value with plain SQL."""
    value = case.value
    if database.dialect == "postgresql" and case.on_postgresql:
        value = case.on_postgresql
    with database.transaction() as connection:
        connection.execute(
            text(f"UPDATE {case.table} SET {case.column} = {value} WHERE {WHERE[case.table]}"),
            {"bob": recorded.bob} if ":bob" in WHERE[case.table] else {},
        )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_malformed_value_is_named_with_its_row_and_verify_goes_on(
    case: Case, recorded: Recorded, database: Database
) -> None:
    """The finding names the table and the row; the other checks still run."""
    postgresql = database.dialect == "postgresql"
    if (postgresql and case.refused) or (not postgresql and case.refused_by_sqlite):
        with pytest.raises((DataError, IntegrityError)):  # the column's type refuses it
            tamper(database, case, recorded)
        return
    with database.read() as connection:
        event = connection.execute(
            select(consent_events.c.id).where(
                consent_events.c.subject_id == recorded.bob, consent_events.c.seq == 2
            )
        ).scalar_one()
        audit_id = connection.execute(
            select(audit_events.c.id).where(audit_events.c.seq == 8)
        ).scalar_one()
    tamper(database, case, recorded)
    report = verify(database)
    record = case.record.format(bob=recorded.bob, event=event, audit_id=audit_id)
    problem = broken(report, case.table, record)
    assert problem.problem.startswith("malformed: "), problem
    assert case.says in problem.problem
    assert report.counts["consent_events"] >= 5 and report.counts["audit_events"] >= 8


def test_verify_goes_on_past_a_malformed_row_to_the_next_broken_one(
    recorded: Recorded, database: Database
) -> None:
    """A garbage timestamp in ann's chain does not hide an edit in bob's."""
    with database.transaction() as connection:
        connection.execute(
            text("UPDATE audit_events SET details = 'garbage' WHERE seq = 3"),
        )
        connection.execute(
            text("UPDATE consent_events SET actor = 'mallory' WHERE subject_id = :bob"),
            {"bob": recorded.bob},
        )
    report = verify(database)
    assert (
        "malformed: details 'garbage' is not JSON"
        in broken(report, "audit_events", "seq 3").problem
    )
    assert (
        "hash does not match"
        in broken(report, "consent_events", f"subject {recorded.bob} seq 1").problem
    )


def test_an_audit_event_with_a_seq_below_1_is_read_and_named(
    recorded: Recorded, database: Database
) -> None:
    """A row placed before the chain's start is not skipped: it breaks the sequence there."""
    with database.transaction() as connection:
        connection.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 8"))
    report = verify(database)
    assert "sequence breaks: expected seq 1" in broken(report, "audit_events", "seq -1").problem


# --- every column of every proof table, with every kind of wrong value (SQLite) ---------------

WRONG_VALUES = ("'garbage'", "X'FF00'", NOT_UTF8, "1.5", "-7", "''", "9223372036854775807")
NOT_READ = {("consent_heads", "updated_at"), ("consent_state", "updated_at")}
"""Columns verify does not read: nothing about the proof rests on them."""
WITNESSES = {"checkpoint_heads": {"checkpoint_heads", "checkpoints"}}
"""A sealed head moved together with the event it seals is named by its checkpoint's root."""


def test_no_value_in_any_column_of_a_proof_table_makes_verify_crash(
    declaration: Declaration, tmp_path: Path
) -> None:
    """For each column position, a wrong value in that column of one row of every proof table
    at once, on SQLite, which holds any value anywhere (PostgreSQL's types refuse most of
    these, see the cases above): verify returns a report naming every table whose checked
    column changed."""
    pristine = tmp_path / "pristine.db"
    database = Database(f"sqlite:///{pristine}")
    database.upgrade()
    subjects = Subjects(database, Keyring(os.urandom(32)))
    ledger = ConsentLedger(database, declaration, subjects)
    recorded = record_small_ledger(ledger, subjects)
    seal_checkpoint(database)
    ledger.close()
    database.dispose()
    tables = [metadata.tables[name] for name in WHERE]
    widest = max(len(table.columns) for table in tables)
    for value in WRONG_VALUES:
        for position in range(widest):
            copy = tmp_path / f"copy-{position}.db"
            shutil.copyfile(pristine, copy)
            target = Database(f"sqlite:///{copy}")
            changed = set()
            for table in tables:
                if position >= len(table.columns):
                    continue
                column = list(table.columns)[position].name
                try:
                    with target.transaction() as connection:
                        connection.execute(
                            text(f"UPDATE {table.name} SET {column} = {value}"
                                 f" WHERE {WHERE[table.name]}"),
                            {"bob": recorded.bob} if ":bob" in WHERE[table.name] else {},
                        )  # fmt: skip
                except Exception:  # a constraint refused it (unique, foreign key, not null)
                    continue
                if (table.name, column) not in NOT_READ:
                    changed.add(table.name)
            report = _verify(target)
            named = {problem.table for problem in report.problems}
            unnamed = {table for table in changed if not WITNESSES.get(table, {table}) & named}
            assert not unnamed, (value, position, unnamed, report.problems)
            target.dispose()
            copy.unlink()


def _verify(database: Database) -> VerifyReport:
    """verify, failing the test with the value's context on any exception."""
    report = verify(database)
    assert isinstance(report, VerifyReport)
    return report


def test_worker_processes_name_text_that_is_not_utf8_as_one_pass_does(
    declaration: Declaration, tmp_path: Path
) -> None:
    """SQLite text that is not UTF-8 makes a first reading stop; the store is read again,
    tolerantly, in every worker process: the same finding as in one pass."""
    database = Database(f"sqlite:///{tmp_path / 'p.db'}")
    database.upgrade()
    subjects = Subjects(database, Keyring(os.urandom(32)))
    ledger = ConsentLedger(database, declaration, subjects)
    recorded = record_small_ledger(ledger, subjects)
    ledger.close()
    with database.transaction() as connection:
        connection.execute(
            text(f"UPDATE consent_events SET actor = {NOT_UTF8} WHERE subject_id = :bob"),
            {"bob": recorded.bob},
        )
    whole = verify(database, workers=1)
    parallel = verify(database, workers=2, chunk=2)
    problem = broken(parallel, "consent_events", f"subject {recorded.bob} seq 1")
    assert "actor b'\\xff' is not text" in problem.problem
    assert parallel.problems == whole.problems
    database.dispose()
