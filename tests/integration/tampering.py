"""What the verification tests share: a small ledger, and ways to tamper with the store.

Every change here is plain SQL behind Pledge's back, as someone with write access to the
database could make it, including the careful kind: rows deleted with the rows that point to
them patched to match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from pledge.consent.proof import HASHED_FIELDS, Problem, VerifyReport
from pledge.consent.service import ConsentLedger
from pledge.enforcement import audit
from pledge.proof import GENESIS, record_hash
from pledge.store.database import Database
from pledge.store.tables import (
    audit_events,
    audit_head,
    consent_events,
    consent_heads,
    consent_state,
)
from pledge.subjects.model import Identity
from pledge.subjects.service import Subjects


@dataclass
class Recorded:
    """Two subjects with a few decisions each: ann (4 events) and bob (2 events)."""

    ann: str
    bob: str


def record_small_ledger(ledger: ConsentLedger, subjects: Subjects) -> Recorded:
    """Two subjects and six decisions; audit seqs 1–2 create them, 3–8 record the decisions."""
    ann = subjects.create([Identity.parse("account", "ann")], actor="test")
    bob = subjects.create([Identity.parse("account", "bob")], actor="test")
    ledger.grant(ann, "newsletter", channel="form", actor="signup")
    ledger.grant(ann, "analytics", channel="banner", actor="banner")
    ledger.withdraw(ann, "newsletter", channel="form", actor="settings")
    ledger.refuse(ann, "personalised_ads", channel="banner", actor="banner")
    ledger.grant(bob, "newsletter", channel="api", actor="crm")
    ledger.withdraw(bob, "newsletter", channel="api", actor="crm")
    return Recorded(ann=ann, bob=bob)


def broken(report: VerifyReport, table: str, record: str) -> Problem:
    """The problem reported for ``record`` in ``table`` (fails when there is none)."""
    assert not report.ok, "verify found nothing wrong"
    for problem in report.problems:
        if problem.table == table and problem.record == record:
            return problem
    raise AssertionError(f"no problem for {table} {record}; found {report.problems}")


def truncate_audit_trail(database: Database, first: int) -> None:
    """Delete the audit events from seq ``first`` on and set the head to the one before."""
    with database.transaction() as connection:
        connection.execute(delete(audit_events).where(audit_events.c.seq >= first))
        previous = connection.execute(
            select(audit_events.c.hash).where(audit_events.c.seq == first - 1)
        ).scalar_one_or_none()
        connection.execute(update(audit_head).values(seq=first - 1, hash=previous or GENESIS))


def audit_seq_of(database: Database, event_id: str) -> int:
    """The seq of the audit event that recorded consent event ``event_id``."""
    with database.read() as connection:
        for row in audit.iterate(connection):
            if f'"event_id":"{event_id}"' in row["details"]:
                return int(row["seq"])
    raise AssertionError(f"no audit event records {event_id}")


def last_event(database: Database, subject_id: str) -> dict[str, Any]:
    """The last consent event of a subject's chain, every column."""
    with database.read() as connection:
        return dict(
            connection.execute(
                select(consent_events)
                .where(consent_events.c.subject_id == subject_id)
                .order_by(consent_events.c.seq.desc())
                .limit(1)
            )
            .mappings()
            .one()
        )


def delete_last_event_and_patch(database: Database, subject_id: str) -> dict[str, Any]:
    """Delete a chain's last event and set its head and state to what is left, consistently.

    Returns:
        The deleted event.
    """
    gone = last_event(database, subject_id)
    with database.transaction() as connection:
        connection.execute(delete(consent_events).where(consent_events.c.id == gone["id"]))
        rows = (
            connection.execute(
                select(consent_events)
                .where(consent_events.c.subject_id == subject_id)
                .order_by(consent_events.c.seq)
            )
            .mappings()
            .all()
        )
        end = rows[-1]
        connection.execute(
            update(consent_heads)
            .where(consent_heads.c.subject_id == subject_id)
            .values(seq=end["seq"], hash=end["hash"])
        )
        connection.execute(delete(consent_state).where(consent_state.c.subject_id == subject_id))
        last: dict[str, Any] = {}
        for row in rows:
            last[row["purpose"]] = row
        for purpose, row in last.items():
            connection.execute(
                consent_state.insert().values(
                    subject_id=subject_id,
                    purpose=purpose,
                    decision=row["decision"],
                    guardian_id=row["guardian_id"],
                    event_id=row["id"],
                    updated_at=row["occurred_at"],
                )
            )
    return gone


def rewrite_last_event(database: Database, subject_id: str, **changes: Any) -> None:
    """Change a chain's last event and recompute its hash and its head: the chain verifies."""
    event = last_event(database, subject_id)
    event.update(changes)
    content = {name: event[name] for name in HASHED_FIELDS}
    digest = record_hash(event["prev_hash"], content)
    with database.transaction() as connection:
        connection.execute(
            update(consent_events)
            .where(consent_events.c.id == event["id"])
            .values(**changes, hash=digest)
        )
        connection.execute(
            update(consent_heads)
            .where(consent_heads.c.subject_id == subject_id)
            .values(hash=digest)
        )


def rehash_audit_trail(database: Database) -> None:
    """Recompute every audit event's links and hash, and the head: the trail verifies again
    whatever was changed in it, as after a rewrite by someone who knows how it is hashed."""
    with database.transaction() as connection:
        rows = [
            dict(row)
            for row in connection.execute(select(audit_events).order_by(audit_events.c.seq))
            .mappings()
            .all()
        ]
        previous = GENESIS
        for row in rows:
            digest = record_hash(previous, audit.event_content(row))
            connection.execute(
                update(audit_events)
                .where(audit_events.c.seq == row["seq"])
                .values(prev_hash=previous, hash=digest)
            )
            previous = digest
        connection.execute(update(audit_head).values(seq=rows[-1]["seq"], hash=previous))
