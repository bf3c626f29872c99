"""The audit trail: one append-only, hash-chained log of everything Pledge decides or changes.

Every decision, disclosure, consent change, subject change and admin action is an event. The
events form a single chain (``seq`` 1, 2, 3…); each hash covers the event and the previous
hash, and the head (``audit_head``) is locked while appending, so concurrent writers queue
instead of forking the chain. ``pledge verify`` recomputes it.

The head is a single row every writer needs: a writer takes its lock last, after any other
row it locks (the consent ledger: subjects, then chain heads, then this), and appends as
late in its transaction as it can, so that the lock is held briefly and the lock order is
the same for everyone (no deadlock).

Events never hold personal data: a subject appears by its pseudonymous id, details are
purposes, categories, decisions and reasons.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, insert, select, update

from pledge.clock import Clock, utc_now
from pledge.ids import new_id
from pledge.proof import GENESIS, record_hash
from pledge.store.tables import audit_events, audit_head


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What to record: an action, who did it, about whom, and non-personal details."""

    action: str
    actor: str
    subject_id: str | None = None
    purpose: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """A recorded event with its place in the chain."""

    seq: int
    id: str
    occurred_at: dt.datetime
    actor: str
    action: str
    subject_id: str | None
    purpose: str | None
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready data."""
        return {
            "seq": self.seq,
            "id": self.id,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject_id": self.subject_id,
            "purpose": self.purpose,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def event_content(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """The part of an audit row its hash covers (everything but the hashes themselves)."""
    return {
        "seq": row["seq"],
        "id": row["id"],
        "occurred_at": row["occurred_at"],
        "actor": row["actor"],
        "action": row["action"],
        "subject_id": row["subject_id"],
        "purpose": row["purpose"],
        "details": row["details"],
    }


def append(
    connection: Connection, entries: Sequence[AuditEntry], *, clock: Clock = utc_now
) -> list[AuditEvent]:
    """Append entries to the chain inside the caller's transaction.

    The head row is locked (``SELECT … FOR UPDATE`` where the database has it; SQLite's write
    transaction already serialises) until the caller commits.

    Returns:
        The recorded events, in order.
    """
    if not entries:
        return []
    head = connection.execute(_LOCK_HEAD).one()
    seq, previous = head.seq, head.hash
    rows: list[dict[str, Any]] = []
    events: list[AuditEvent] = []
    for entry in entries:
        seq += 1
        row = {
            "seq": seq,
            "id": new_id(),
            "occurred_at": entry.occurred_at or clock(),
            "actor": entry.actor,
            "action": entry.action,
            "subject_id": entry.subject_id,
            "purpose": entry.purpose,
            "details": json.dumps(dict(entry.details), sort_keys=True, separators=(",", ":")),
        }
        digest = record_hash(previous, event_content(row))
        rows.append({**row, "prev_hash": previous, "hash": digest})
        events.append(
            AuditEvent(
                seq=seq,
                id=row["id"],
                occurred_at=row["occurred_at"],
                actor=entry.actor,
                action=entry.action,
                subject_id=entry.subject_id,
                purpose=entry.purpose,
                details=dict(entry.details),
                prev_hash=previous,
                hash=digest,
            )
        )
        previous = digest
    connection.execute(_INSERT_EVENTS, rows)
    connection.execute(_MOVE_HEAD, {"head_seq": seq, "head_hash": previous})
    return events


# Built once: every append reuses their compiled form.
_LOCK_HEAD = (
    select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
)
_INSERT_EVENTS = insert(audit_events)
_MOVE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == 1)
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
)


def record(connection: Connection, entry: AuditEntry, *, clock: Clock = utc_now) -> AuditEvent:
    """Append one entry (see :func:`append`)."""
    return append(connection, [entry], clock=clock)[0]


@dataclass(frozen=True)
class AuditFilter:
    """Which events to read: all fields optional, combined with AND."""

    subject_id: str | None = None
    action: str | None = None
    actor: str | None = None
    purpose: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after_seq: int = 0
    limit: int = 100


def read(connection: Connection, where: AuditFilter) -> list[AuditEvent]:
    """Events matching ``where``, oldest first, at most ``where.limit`` of them."""
    query = select(audit_events).where(audit_events.c.seq > where.after_seq)
    column_filters = {
        "subject_id": where.subject_id,
        "action": where.action,
        "actor": where.actor,
        "purpose": where.purpose,
    }
    for name, value in column_filters.items():
        if value is not None:
            query = query.where(audit_events.c[name] == value)
    if where.since is not None:
        query = query.where(audit_events.c.occurred_at >= where.since)
    if where.until is not None:
        query = query.where(audit_events.c.occurred_at < where.until)
    rows = connection.execute(query.order_by(audit_events.c.seq).limit(where.limit)).mappings()
    return [_event(row) for row in rows]


def iterate(connection: Connection, *, batch: int = 10_000) -> Iterator[RowMapping]:
    """Every audit row in chain order, read in batches (for verification and export)."""
    after = 0
    while True:
        rows = (
            connection.execute(
                select(audit_events)
                .where(audit_events.c.seq > after)
                .order_by(audit_events.c.seq)
                .limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1]["seq"]


def head(connection: Connection) -> tuple[int, str]:
    """The chain's head: ``(seq, hash)`` of the last event, ``(0, GENESIS)`` when empty."""
    row = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).one_or_none()
    return (row.seq, row.hash) if row else (0, GENESIS)


def _event(row: RowMapping) -> AuditEvent:
    return AuditEvent(
        seq=row["seq"],
        id=row["id"],
        occurred_at=row["occurred_at"],
        actor=row["actor"],
        action=row["action"],
        subject_id=row["subject_id"],
        purpose=row["purpose"],
        details=json.loads(row["details"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
