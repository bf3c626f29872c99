"""``verify`` detects every kind of tampering with the ledger, the checkpoints and the audit trail.

Each test records a few decisions, changes the store behind Pledge's back with plain SQL (as
someone with database access could), and checks that verification names the broken record.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from tests.integration.tampering import (
    Recorded,
    broken,
    record_small_ledger,
    truncate_audit_trail,
)

from pledge.consent.checks import snapshot
from pledge.consent.proof import seal_checkpoint, verify
from pledge.consent.service import ConsentLedger
from pledge.store.database import Database
from pledge.store.tables import (
    audit_events,
    audit_head,
    checkpoint_heads,
    checkpoints,
    consent_events,
    consent_heads,
    consent_state,
)
from pledge.subjects.model import Identity
from pledge.subjects.service import Subjects


@pytest.fixture
def database(store: Database) -> Database:
    """These tests run on SQLite and on PostgreSQL (see ``tests/backends.py``)."""
    return store


@pytest.fixture
def recorded(ledger: ConsentLedger, subjects: Subjects) -> Recorded:
    """A small, valid ledger."""
    return record_small_ledger(ledger, subjects)


def test_an_untouched_store_verifies(recorded: Recorded, database: Database) -> None:
    """Everything recomputes: chains, heads, state, checkpoints and audit trail."""
    seal_checkpoint(database)
    report = verify(database)
    assert report.ok, report.problems
    assert report.first is None
    assert report.counts["subjects"] == 2
    assert report.counts["consent_events"] == 6
    assert report.counts["checkpoints"] == 1
    assert report.counts["checkpoint_heads"] == 2
    # two subjects created, six decisions, one checkpoint sealed
    assert report.counts["audit_events"] == 2 + 6 + 1


def test_an_empty_store_verifies(database: Database) -> None:
    """No records, no problems; a checkpoint of nothing verifies too."""
    assert verify(database).ok
    seal_checkpoint(database)
    assert verify(database).ok


def test_editing_a_field_of_an_event_is_detected(recorded: Recorded, database: Database) -> None:
    """Turning a withdrawal into a grant breaks that event's hash."""
    with database.transaction() as connection:
        connection.execute(
            update(consent_events)
            .where(consent_events.c.subject_id == recorded.ann, consent_events.c.seq == 3)
            .values(decision="granted")
        )
    report = verify(database)
    problem = broken(report, "consent_events", f"subject {recorded.ann} seq 3")
    assert "hash does not match" in problem.problem
    assert report.first == problem


def test_reordering_events_is_detected(recorded: Recorded, database: Database) -> None:
    """Swapping the places of two events breaks both."""
    with database.transaction() as connection:
        where = consent_events.c.subject_id == recorded.ann
        connection.execute(
            update(consent_events).where(where, consent_events.c.seq == 2).values(seq=99)
        )
        connection.execute(
            update(consent_events).where(where, consent_events.c.seq == 3).values(seq=2)
        )
        connection.execute(
            update(consent_events).where(where, consent_events.c.seq == 99).values(seq=3)
        )
    report = verify(database)
    broken(report, "consent_events", f"subject {recorded.ann} seq 2")
    broken(report, "consent_events", f"subject {recorded.ann} seq 3")


def test_deleting_one_event_is_detected(recorded: Recorded, database: Database) -> None:
    """A missing event leaves a gap and a broken link in the next one."""
    with database.transaction() as connection:
        connection.execute(
            delete(consent_events).where(
                consent_events.c.subject_id == recorded.ann, consent_events.c.seq == 2
            )
        )
    report = verify(database)
    problem = broken(report, "consent_events", f"subject {recorded.ann} seq 3")
    assert "expected seq 2" in problem.problem and "prev_hash" in problem.problem


def test_deleting_the_last_event_is_detected_by_the_head_row(
    recorded: Recorded, database: Database
) -> None:
    """Truncating a chain leaves its head row pointing past the end."""
    with database.transaction() as connection:
        connection.execute(
            delete(consent_events).where(
                consent_events.c.subject_id == recorded.bob, consent_events.c.seq == 2
            )
        )
    problem = broken(verify(database), "consent_heads", f"subject {recorded.bob} seq 2")
    assert "does not match the last event" in problem.problem


def test_truncating_a_chain_and_its_head_is_detected_by_the_checkpoint(
    recorded: Recorded, database: Database
) -> None:
    """Even with the head row rewritten to fit, the sealed head no longer exists."""
    seal_checkpoint(database)
    with database.transaction() as connection:
        where = consent_events.c.subject_id == recorded.bob
        connection.execute(delete(consent_events).where(where, consent_events.c.seq == 2))
        first = connection.execute(select(consent_events.c.hash).where(where)).scalar_one()
        connection.execute(
            update(consent_heads)
            .where(consent_heads.c.subject_id == recorded.bob)
            .values(seq=1, hash=first)
        )
        connection.execute(delete(consent_state).where(consent_state.c.subject_id == recorded.bob))
    report = verify(database)
    problem = broken(report, "checkpoint_heads", f"checkpoint 1 subject {recorded.bob} seq 2")
    assert "no longer exists" in problem.problem


def test_deleting_a_whole_subjects_chain_with_its_head_is_detected(
    recorded: Recorded, database: Database
) -> None:
    """Events, head row and state all gone: the checkpoint still remembers the chain."""
    seal_checkpoint(database)
    with database.transaction() as connection:
        connection.execute(
            delete(consent_events).where(consent_events.c.subject_id == recorded.bob)
        )
        connection.execute(delete(consent_heads).where(consent_heads.c.subject_id == recorded.bob))
        connection.execute(delete(consent_state).where(consent_state.c.subject_id == recorded.bob))
    report = verify(database)
    problem = broken(report, "checkpoint_heads", f"checkpoint 1 subject {recorded.bob} seq 2")
    assert "head row is gone too" in problem.problem
    assert report.first == problem


def test_deleting_only_a_head_row_is_detected(recorded: Recorded, database: Database) -> None:
    """A chain without its head row is reported, even before any checkpoint."""
    with database.transaction() as connection:
        connection.execute(delete(consent_heads).where(consent_heads.c.subject_id == recorded.ann))
    problem = broken(verify(database), "consent_heads", f"subject {recorded.ann}")
    assert "no head row" in problem.problem


def test_a_forged_consent_state_is_detected(recorded: Recorded, database: Database) -> None:
    """The state decisions are taken from must be the chain's last decision."""
    with database.transaction() as connection:
        connection.execute(
            update(consent_state)
            .where(
                consent_state.c.subject_id == recorded.ann, consent_state.c.purpose == "newsletter"
            )
            .values(decision="granted")
        )
    problem = broken(
        verify(database), "consent_state", f"subject {recorded.ann} purpose newsletter"
    )
    assert "state says granted" in problem.problem and "withdrawn" in problem.problem


def test_editing_an_audit_event_is_detected(recorded: Recorded, database: Database) -> None:
    """Changing what the audit trail says an actor did breaks that event's hash."""
    with database.transaction() as connection:
        connection.execute(
            update(audit_events).where(audit_events.c.seq == 4).values(actor="nobody")
        )
    report = verify(database)
    problem = broken(report, "audit_events", "seq 4")
    assert "hash does not match" in problem.problem
    assert report.first == problem


def test_deleting_the_last_audit_event_is_detected(recorded: Recorded, database: Database) -> None:
    """The audit head still points at the event that is gone."""
    with database.transaction() as connection:
        last = connection.execute(select(audit_head.c.seq)).scalar_one()
        connection.execute(delete(audit_events).where(audit_events.c.seq == last))
    problem = broken(verify(database), "audit_head", f"seq {last}")
    assert f"last event (seq {last - 1})" in problem.problem


def test_truncating_the_audit_trail_and_its_head_is_detected_by_the_checkpoint(
    recorded: Recorded, database: Database
) -> None:
    """A checkpoint remembers the audit head it sealed."""
    sealed = seal_checkpoint(database)
    truncate_audit_trail(database, sealed.audit_seq)
    problem = broken(verify(database), "checkpoints", "checkpoint 1")
    assert "audit trail was truncated" in problem.problem


def test_tampering_with_a_checkpoint_is_detected(recorded: Recorded, database: Database) -> None:
    """A checkpoint's own fields are hashed and chained."""
    seal_checkpoint(database)
    seal_checkpoint(database)
    with database.transaction() as connection:
        connection.execute(update(checkpoints).where(checkpoints.c.seq == 1).values(subjects=1))
    report = verify(database)
    problem = broken(report, "checkpoints", "checkpoint 1")
    assert "hash does not match" in problem.problem


def test_tampering_with_a_sealed_head_is_detected(recorded: Recorded, database: Database) -> None:
    """Changing what a checkpoint sealed breaks its consent root."""
    seal_checkpoint(database)
    with database.transaction() as connection:
        connection.execute(
            update(checkpoint_heads)
            .where(checkpoint_heads.c.subject_id == recorded.ann)
            .values(hash="f" * 64)
        )
    report = verify(database)
    broken(report, "checkpoint_heads", f"checkpoint 1 subject {recorded.ann} seq 4")
    problem = broken(report, "checkpoints", "checkpoint 1")
    assert "consent_root" in problem.problem


def test_checkpoints_chain_to_each_other_and_seal_the_heads(
    recorded: Recorded, ledger: ConsentLedger, database: Database
) -> None:
    """Each checkpoint links to the previous one and holds the heads of that moment."""
    first = seal_checkpoint(database)
    ledger.grant(recorded.bob, "analytics", channel="api", actor="crm")
    second = seal_checkpoint(database)
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash
    assert second.audit_seq == first.audit_seq + 2  # the first's checkpoint.sealed, the grant
    assert second.consent_root != first.consent_root
    assert first.subjects == second.subjects == 2
    assert verify(database).ok


def test_progress_is_reported_per_stage(recorded: Recorded, database: Database) -> None:
    """The progress callback hears each stage from zero to its total."""
    heard: list[tuple[str, int, int]] = []
    verify(database, progress=lambda stage, done, total: heard.append((stage, done, total)))
    assert ("consent events", 6, 6) in heard
    assert ("audit events", 8, 8) in heard


def test_problems_beyond_the_limit_are_counted_not_kept(
    recorded: Recorded, database: Database
) -> None:
    """A store broken everywhere still gives a short report with the full count."""
    with database.transaction() as connection:
        connection.execute(update(consent_events).values(actor="mallory"))
    report = verify(database, max_problems=2)
    assert len(report.problems) == 2 and report.problem_count == 6


def test_ranges_and_worker_processes_find_what_one_pass_finds(
    recorded: Recorded, ledger: ConsentLedger, subjects: Subjects, database: Database
) -> None:
    """Splitting the work by subject and by audit seq changes neither problems nor counts."""
    for name in ("cem", "dee", "eve"):
        person = subjects.create([Identity.parse("account", name)], actor="test")
        ledger.grant(person, "analytics", channel="api", actor="crm")
    seal_checkpoint(database)
    with database.transaction() as connection:
        connection.execute(
            update(consent_events)
            .where(consent_events.c.subject_id == recorded.bob, consent_events.c.seq == 1)
            .values(actor="mallory")
        )
        connection.execute(update(audit_events).where(audit_events.c.seq == 7).values(actor="x"))
        connection.execute(delete(consent_heads).where(consent_heads.c.subject_id == recorded.ann))
    whole = verify(database, workers=1)
    ranged = verify(database, workers=1, chunk=2)
    parallel = verify(database, workers=2, chunk=3)
    assert len(whole.problems) >= 3
    assert ranged.problems == whole.problems == parallel.problems
    assert ranged.counts == whole.counts == parallel.counts


def test_verifying_does_not_keep_writers_waiting(
    recorded: Recorded, ledger: ConsentLedger, database: Database
) -> None:
    """Verification reads a snapshot; decisions recorded meanwhile go through at once."""
    url = database.url.render_as_string(hide_password=False)
    with snapshot(url) as reading:
        before = reading.execute(select(consent_events.c.id)).all()
        event = ledger.grant(recorded.bob, "analytics", channel="api", actor="crm")
        after = reading.execute(select(consent_events.c.id)).all()
    assert len(before) == len(after) == 6  # the snapshot does not see the new event
    assert event.seq == 3
