"""``verify`` catches deletions made with care: the rows that point to the deleted ones patched.

The consent ledger and the audit trail are two chains that witness each other: every consent
event has the audit event that recorded it, in the same order, and every consent audit event
its consent event. Checkpoints are recorded in the audit trail too. Each test deletes records
behind Pledge's back, sets the heads and the state to match, and checks what names the loss;
the last ones state what no check inside the database can see.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update
from tests.integration.tampering import (
    Recorded,
    audit_seq_of,
    broken,
    delete_last_event_and_patch,
    record_small_ledger,
    rehash_audit_trail,
    rewrite_last_event,
    truncate_audit_trail,
)

from pledge.consent.proof import seal_checkpoint, verify
from pledge.consent.service import ConsentLedger
from pledge.enforcement import audit
from pledge.store.database import Database
from pledge.store.tables import (
    audit_events,
    checkpoint_heads,
    checkpoints,
    consent_events,
    consent_heads,
    consent_state,
)
from pledge.subjects.service import Subjects


@pytest.fixture
def database(store: Database) -> Database:
    """These tests run on SQLite and on PostgreSQL (see ``tests/backends.py``)."""
    return store


@pytest.fixture
def recorded(ledger: ConsentLedger, subjects: Subjects) -> Recorded:
    """A small, valid ledger: audit seqs 1–2 create ann and bob, 3–8 record six decisions."""
    return record_small_ledger(ledger, subjects)


def test_deleting_the_last_consent_event_with_head_and_state_patched_is_caught_by_its_audit_event(
    recorded: Recorded, database: Database
) -> None:
    """Bob's withdrawal is gone and his chain ends, consistently, at the grant before it; the
    audit event that recorded the withdrawal is still there, and names it."""
    gone = delete_last_event_and_patch(database, recorded.bob)
    seq = audit_seq_of(database, gone["id"])
    report = verify(database)
    assert report.problem_count == 1, report.problems
    problem = broken(report, "audit_events", f"seq {seq}")
    assert f"records consent event {gone['id']}" in problem.problem
    assert f"subject {recorded.bob} seq 2: consent.withdrawn newsletter" in problem.problem
    assert "not in the ledger (deleted)" in problem.problem


def test_deleting_a_whole_unsealed_chain_with_its_head_and_state_is_caught_by_its_audit_events(
    recorded: Recorded, database: Database
) -> None:
    """No checkpoint ever sealed bob's chain; his two audit events still name both events."""
    with database.transaction() as connection:
        ids = connection.execute(
            select(consent_events.c.id)
            .where(consent_events.c.subject_id == recorded.bob)
            .order_by(consent_events.c.seq)
        ).scalars()
        gone = list(ids)
        for table in (consent_events, consent_heads, consent_state):
            connection.execute(delete(table).where(table.c.subject_id == recorded.bob))
    report = verify(database)
    assert report.problem_count == 2, report.problems
    for seq, event_id in enumerate(gone, start=1):
        problem = broken(report, "audit_events", f"seq {audit_seq_of(database, event_id)}")
        assert f"subject {recorded.bob} seq {seq}" in problem.problem


def test_deleting_the_audit_tail_with_its_head_reset_is_caught_by_the_consent_events_it_recorded(
    recorded: Recorded, database: Database
) -> None:
    """The trail ends, consistently, before bob's two decisions: his events name the loss."""
    truncate_audit_trail(database, 7)
    report = verify(database)
    assert report.problem_count == 2, report.problems
    for seq in (1, 2):
        problem = broken(report, "consent_events", f"subject {recorded.bob} seq {seq}")
        assert "no audit event records it" in problem.problem


def test_deleting_the_audit_tail_after_a_checkpoints_audit_head_is_caught_by_the_checkpoint(
    recorded: Recorded, database: Database
) -> None:
    """The audit head the checkpoint sealed is kept; the checkpoint.sealed event right after
    it, and what came later, are cut off."""
    sealed = seal_checkpoint(database)
    truncate_audit_trail(database, sealed.audit_seq + 1)
    problem = broken(verify(database), "checkpoints", "checkpoint 1")
    assert f"no checkpoint.sealed audit event for it at audit seq {sealed.audit_seq + 1}" in (
        problem.problem
    )


def test_deleting_all_checkpoints_is_caught_by_their_sealed_events_in_the_audit_trail(
    recorded: Recorded, database: Database
) -> None:
    """Each checkpoint left a checkpoint.sealed event in the trail, which outlives it."""
    first = seal_checkpoint(database)
    second = seal_checkpoint(database)
    with database.transaction() as connection:
        connection.execute(delete(checkpoint_heads))
        connection.execute(delete(checkpoints))
    report = verify(database)
    assert report.problem_count == 2, report.problems
    for checkpoint in (first, second):
        problem = broken(report, "audit_events", f"seq {checkpoint.audit_seq + 1}")
        assert f"records checkpoint {checkpoint.seq} sealed" in problem.problem
        assert "no longer in checkpoints (deleted)" in problem.problem


def test_deleting_the_latest_checkpoint_is_caught_by_its_sealed_event(
    recorded: Recorded, database: Database
) -> None:
    """The checkpoints left still chain to each other; the trail remembers one more."""
    seal_checkpoint(database)
    latest = seal_checkpoint(database)
    with database.transaction() as connection:
        connection.execute(delete(checkpoint_heads).where(checkpoint_heads.c.checkpoint_seq == 2))
        connection.execute(delete(checkpoints).where(checkpoints.c.seq == 2))
    problem = broken(verify(database), "audit_events", f"seq {latest.audit_seq + 1}")
    assert "records checkpoint 2 sealed" in problem.problem


def test_a_consent_event_rewritten_with_its_chain_rehashed_is_caught_by_its_audit_event(
    recorded: Recorded, database: Database
) -> None:
    """Bob's withdrawal turned into a grant, its hash and head recomputed: the chain verifies,
    the audit event still says what was decided, and who decided it."""
    rewrite_last_event(database, recorded.bob, decision="granted", actor="mallory")
    with database.transaction() as connection:
        connection.execute(
            update(consent_state)
            .where(consent_state.c.subject_id == recorded.bob)
            .values(decision="granted")
        )
    report = verify(database)
    assert report.problem_count == 1, report.problems
    problem = broken(report, "consent_events", f"subject {recorded.bob} seq 2")
    said = (
        "differs from its audit event (seq 8), which says action 'consent.withdrawn', actor 'crm'"
    )
    assert said in problem.problem


def test_an_edited_audit_event_is_reported_as_edited_and_not_as_a_disagreement(
    recorded: Recorded, database: Database
) -> None:
    """The audit event's own hash names the edit; the intact consent event is not blamed."""
    with database.transaction() as connection:
        connection.execute(
            update(audit_events).where(audit_events.c.seq == 8).values(actor="mallory")
        )
    report = verify(database)
    assert report.problem_count == 1, report.problems
    assert "hash does not match" in broken(report, "audit_events", "seq 8").problem


def test_consent_audit_events_swapped_with_the_trail_rehashed_are_caught_out_of_order(
    recorded: Recorded, database: Database
) -> None:
    """Both chains verify on their own; only their order against each other shows the swap."""
    with database.transaction() as connection:
        rows = {
            row["seq"]: dict(row)
            for row in connection.execute(
                select(audit_events).where(audit_events.c.seq.in_([3, 4]))
            ).mappings()
        }
        for seq, other in ((3, 4), (4, 3)):
            swapped = ("occurred_at", "actor", "action", "purpose", "details")
            moved = {key: rows[other][key] for key in swapped}
            connection.execute(
                update(audit_events).where(audit_events.c.seq == seq).values(**moved)
            )
    rehash_audit_trail(database)
    report = verify(database)
    problem = broken(report, "consent_events", f"subject {recorded.ann} seq 2")
    assert "comes before that of the event before it" in problem.problem
    assert "recorded out of order" in problem.problem


def test_an_audit_event_recording_a_consent_event_twice_is_caught(
    recorded: Recorded, database: Database
) -> None:
    """One audit event per consent event: a second one, however well hashed, is named."""
    with database.transaction() as connection:
        copy = dict(
            connection.execute(select(audit_events).where(audit_events.c.seq == 8)).mappings().one()
        )
        audit.append(
            connection,
            [
                audit.AuditEntry(
                    copy["action"],
                    copy["actor"],
                    copy["subject_id"],
                    copy["purpose"],
                    json.loads(copy["details"]),
                    copy["occurred_at"],
                )
            ],
        )
    problem = broken(verify(database), "audit_events", "seq 9")
    assert "again (seq 8)" in problem.problem


# --- what no check inside the database can see -------------------------------------------------


def test_a_consent_event_deleted_with_its_audit_event_at_both_chain_ends_is_not_detected(
    recorded: Recorded, database: Database
) -> None:
    """Bob's withdrawal is the last consent event of his chain and its audit event the last
    of the trail: deleted together, every head and the state patched, nothing inside the
    database still points to them. Only a checkpoint sealed before, or one exported, does."""
    gone = delete_last_event_and_patch(database, recorded.bob)
    truncate_audit_trail(database, audit_seq_of(database, gone["id"]))
    assert verify(database).ok


def test_the_same_deletion_is_caught_once_a_checkpoint_sealed_the_event(
    recorded: Recorded, database: Database
) -> None:
    """With the audit trail cut back past the checkpoint's own event, the checkpoint's sealed
    audit head and bob's sealed chain head are both gone."""
    sealed = seal_checkpoint(database)
    gone = delete_last_event_and_patch(database, recorded.bob)
    truncate_audit_trail(database, audit_seq_of(database, gone["id"]))
    report = verify(database)
    problem = broken(report, "checkpoint_heads", f"checkpoint 1 subject {recorded.bob} seq 2")
    assert "the sealed event no longer exists" in problem.problem
    assert "audit trail was truncated" in broken(report, "checkpoints", "checkpoint 1").problem
    assert sealed.audit_seq == 8
