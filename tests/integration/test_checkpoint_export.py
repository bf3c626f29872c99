"""A checkpoint exported to a signed file proves, later, that nothing it sealed was removed.

Everything inside the database can be deleted together with what witnesses it; the file,
kept elsewhere, cannot. Each test exports a checkpoint, changes the store (or the file)
behind Pledge's back, and checks what ``verify(..., against=...)`` names.
"""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import delete
from tests.integration.tampering import (
    Recorded,
    broken,
    record_small_ledger,
    truncate_audit_trail,
)

from pledge.consent.export import export_document, public_key, read_export
from pledge.consent.proof import seal_checkpoint_with_heads, verify
from pledge.consent.service import ConsentLedger
from pledge.store.database import Database
from pledge.store.tables import (
    checkpoint_heads,
    checkpoints,
    consent_events,
    consent_heads,
    consent_state,
)
from pledge.subjects.model import Identity
from pledge.subjects.service import Subjects

MASTER_KEY = bytes(range(32))


@pytest.fixture
def database(store: Database) -> Database:
    """These tests run on SQLite and on PostgreSQL (see ``tests/backends.py``)."""
    return store


@pytest.fixture
def recorded(ledger: ConsentLedger, subjects: Subjects) -> Recorded:
    """A small, valid ledger: audit seqs 1–2 create ann and bob, 3–8 record six decisions."""
    return record_small_ledger(ledger, subjects)


def export(database: Database) -> str:
    """Seal a checkpoint and return its signed file's text."""
    checkpoint, heads = seal_checkpoint_with_heads(database)
    return export_document(checkpoint, heads, MASTER_KEY)


def delete_checkpoints(database: Database) -> None:
    """Delete every checkpoint and every head they sealed."""
    with database.transaction() as connection:
        connection.execute(delete(checkpoint_heads))
        connection.execute(delete(checkpoints))


def test_an_untouched_store_verifies_against_its_exported_checkpoint(
    recorded: Recorded, database: Database
) -> None:
    """Every sealed head is there; so is the checkpoint, its audit head and its event."""
    exported = read_export(export(database), public_key(MASTER_KEY))
    assert exported.problems == []
    report = verify(database, against=exported)
    assert report.ok, report.problems
    assert report.counts["exported_heads"] == 2


def test_the_file_holds_the_checkpoint_every_sealed_head_and_the_public_key(
    recorded: Recorded, database: Database
) -> None:
    """One head a line, ``subject:seq:hash``; the events they end are counted."""
    document = json.loads(export(database))
    assert document["format"] == "pledge-checkpoint/1"
    assert document["checkpoint"]["seq"] == 1 and document["checkpoint"]["audit_seq"] == 8
    assert sorted(head.split(":")[:2] for head in document["heads"]) == sorted(
        [[recorded.ann, "4"], [recorded.bob, "2"]]
    )
    assert document["consent_events"] == 6
    assert document["public_key"] == public_key(MASTER_KEY)
    assert len(document["signature"]) == 128


def test_the_same_master_key_always_signs_with_the_same_key() -> None:
    """The signing key is derived from the master key, nothing else."""
    assert public_key(MASTER_KEY) == public_key(bytes(range(32)))
    assert public_key(MASTER_KEY) != public_key(os.urandom(32))


def test_a_file_altered_after_it_was_signed_fails_its_signature(
    recorded: Recorded, database: Database
) -> None:
    """Dropping bob's head from the file, with its counts fixed up, breaks the signature."""
    document = json.loads(export(database))
    document["heads"] = [head for head in document["heads"] if not head.startswith(recorded.bob)]
    document["consent_events"] = 4
    report = verify(database, against=read_export(json.dumps(document)))
    problem = broken(report, "checkpoint file", "signature")
    assert "does not verify" in problem.problem and "altered" in problem.problem
    assert (
        "do not give its consent_root" in broken(report, "checkpoint file", "checkpoint 1").problem
    )


def test_a_file_signed_with_another_key_is_refused_when_the_master_key_is_known(
    recorded: Recorded, database: Database
) -> None:
    """A forger can sign with a key of their own, but it is not this installation's."""
    checkpoint, heads = seal_checkpoint_with_heads(database)
    forged = export_document(checkpoint, heads, os.urandom(32))
    assert read_export(forged).problems == []  # on its own, it verifies
    report = verify(database, against=read_export(forged, public_key(MASTER_KEY)))
    problem = broken(report, "checkpoint file", "signature")
    assert f"not this installation's key {public_key(MASTER_KEY)}" in problem.problem


def test_deleting_all_checkpoints_and_their_events_is_caught_against_the_exported_one(
    recorded: Recorded, database: Database
) -> None:
    """Checkpoints gone and the trail cut back to the audit head the last one sealed: inside
    the database nothing is missing any more; the file still names all three."""
    text = export(database)
    delete_checkpoints(database)
    truncate_audit_trail(database, 9)  # the checkpoint.sealed event
    assert verify(database).ok  # the limit of what the database alone can prove
    report = verify(database, against=read_export(text, public_key(MASTER_KEY)))
    assert (
        "no longer in the database (deleted)"
        in broken(report, "checkpoints", "checkpoint 1").problem
    )
    assert (
        "checkpoint.sealed event of the exported checkpoint 1"
        in broken(report, "audit_events", "seq 9").problem
    )


def test_a_chain_deleted_with_every_witness_inside_the_database_is_named_by_the_file(
    recorded: Recorded, database: Database
) -> None:
    """Bob's chain, head and state, his audit events at the trail's end and the checkpoints
    are all deleted, the audit head reset: verify alone finds nothing; against the file, his
    sealed head is named, with the audit head that is gone."""
    text = export(database)
    with database.transaction() as connection:
        for table in (consent_events, consent_heads, consent_state):
            connection.execute(delete(table).where(table.c.subject_id == recorded.bob))
    delete_checkpoints(database)
    truncate_audit_trail(database, 7)  # bob's two decisions and the checkpoint's event
    assert verify(database).ok
    report = verify(database, against=read_export(text))
    problem = broken(report, "consent_events", f"subject {recorded.bob} seq 2")
    assert "sealed in the exported checkpoint 1; no longer in the ledger (deleted)" in (
        problem.problem
    )
    assert "no longer in the trail (truncated)" in broken(report, "audit_events", "seq 8").problem
    counted = broken(report, "consent_events", "count").problem
    assert counted == "consent events: 4, fewer than the 6 the exported checkpoint 1 sealed"
    chains = broken(report, "consent_events", "subjects").problem
    assert chains.startswith("subjects with a chain: 1, fewer than the 2")
    assert "audit events: 6, fewer than the 9" in broken(report, "audit_events", "count").problem


def test_an_audit_tail_without_consent_decisions_is_caught_only_against_an_exported_checkpoint(
    recorded: Recorded, subjects: Subjects, database: Database
) -> None:
    """A subject created (one audit event, no consent event) and then cut from the trail,
    with the checkpoints: nothing inside the database witnesses it."""
    subjects.create([Identity.parse("account", "cem")], actor="test")  # audit seq 9
    text = export(database)
    delete_checkpoints(database)
    truncate_audit_trail(database, 9)
    assert verify(database).ok
    problem = broken(verify(database, against=read_export(text)), "audit_events", "seq 9")
    assert "the audit head sealed in the exported checkpoint 1" in problem.problem


def test_a_rewritten_head_is_named_against_the_file(recorded: Recorded, database: Database) -> None:
    """A sealed head whose event now has another hash is reported as rewritten."""
    document = json.loads(export(database))
    with database.transaction() as connection:
        connection.execute(
            consent_events.update()
            .where(consent_events.c.subject_id == recorded.ann, consent_events.c.seq == 4)
            .values(hash="f" * 64)
        )
    report = verify(database, against=read_export(json.dumps(document)))
    problem = broken(report, "consent_events", f"subject {recorded.ann} seq 4")
    assert "hash does not match" in problem.problem
    rewritten = "differs from the head sealed in the exported checkpoint 1 (rewritten)"
    assert [p for p in report.problems if p.table == "consent_events" and rewritten in p.problem]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json at all", "is not JSON"),
        ('{"format": "something-else/1"}', "not a pledge-checkpoint/1 file"),
        ('{"format": "pledge-checkpoint/1", "checkpoint": {"seq": "one"}}', "malformed: seq"),
    ],
)
def test_a_file_that_is_not_an_exported_checkpoint_is_a_finding(
    text: str, says: str, recorded: Recorded, database: Database
) -> None:
    """Whatever the file holds, verify reports it and checks the store all the same."""
    report = verify(database, against=read_export(text))
    assert says in broken(report, "checkpoint file", "file").problem
    assert report.problem_count == 1
    assert report.counts["consent_events"] == 6
