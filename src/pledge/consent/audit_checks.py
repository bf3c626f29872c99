"""The check of one range of the audit trail: sequence, links, hashes, the head row.

Every row is parsed before it is used (``rows``): a malformed one is a finding naming its
seq (or its id, when the seq is what is malformed), and the check goes on. On the way it
notes what the checkpoints need from the trail: the hash at each sealed audit seq, and each
``checkpoint.sealed`` event. Whether the consent events and the trail's ``consent.*`` events
agree is checked per subject, with the chains (``chain_checks``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from pledge.consent.findings import AuditRange, Findings
from pledge.consent.rows import Malformed, RowParser, json_object, malformed, raw_columns, shown
from pledge.enforcement import audit
from pledge.proof import GENESIS, record_hash
from pledge.store.tables import audit_events, audit_head

Tick = Callable[[int], None] | None

AUDIT_COLUMNS = (
    "seq",
    "id",
    "occurred_at",
    "actor",
    "action",
    "subject_id",
    "purpose",
    "details",
    "prev_hash",
    "hash",
)
_SEQ, _ID, _ACTION, _SUBJECT, _DETAILS, _PREV, _HASH = 0, 1, 4, 5, 7, 8, 9

CONSENT = "consent."
"""The prefix of the audit actions that record consent events (``consent.granted``…)."""

CHECKPOINT_SEALED = "checkpoint.sealed"
"""The audit action ``seal_checkpoint`` records, with the checkpoint's seq and hash."""


def audit_record(seq: Any, event_id: Any) -> str:
    """How a finding names an audit event: ``seq N``, or its id when the seq is malformed."""
    return f"seq {seq}" if type(seq) is int else f"id {shown(event_id)} (seq {shown(seq)})"


def check_audit(
    connection: Connection, task: AuditRange, batch: int, findings: Findings, tick: Tick
) -> None:
    """Check the audit events of ``task``'s range, and the head row after the last range.

    Args:
        connection: a snapshot.
        task: the range.
        batch: rows fetched at a time.
        findings: where problems, counts, sealed hashes and sealing events go.
        tick: progress, or None.
    """
    parse = RowParser(connection, audit_events, AUDIT_COLUMNS)
    columns = raw_columns(connection, audit_events, AUDIT_COLUMNS)
    first = task.low <= 1
    previous, expected = (GENESIS, 1) if first else _last_before(connection, task.low)
    done, after = 0, None if first else task.low - 1
    while True:
        query = select(*columns)
        if after is not None:
            query = query.where(audit_events.c.seq > after)
        if task.high is not None:
            query = query.where(audit_events.c.seq < task.high)
        rows = connection.execute(query.order_by(audit_events.c.seq).limit(batch)).all()
        if not rows:
            break
        for stored in rows:
            row, complaints = parse(stored)
            seq = row[_SEQ]
            placed = type(seq) is int
            wrong = [malformed(complaints)] if complaints else []
            if placed:
                if seq != expected:
                    wrong.append(f"sequence breaks: expected seq {expected} (an event is missing)")
                if row[_PREV] != previous:
                    wrong.append("prev_hash does not link to the previous event's hash")
            if not complaints:
                content = audit.event_content(dict(zip(AUDIT_COLUMNS, row, strict=True)))
                if record_hash(row[_PREV], content) != row[_HASH]:
                    wrong.append("hash does not match the event's content (edited)")
                wrong += _check_details(row, findings)
            if wrong:
                findings.add("audit_events", audit_record(seq, row[_ID]), "; ".join(wrong))
            if placed:
                if seq in task.marks:
                    findings.marks[seq] = row[_HASH]
                previous, expected = row[_HASH], seq + 1
        done += len(rows)
        after = rows[-1][_SEQ]  # as stored: the next page starts after it, whatever it is
        if tick is not None:
            tick(done)
    findings.counts["audit_events"] = done
    if task.high is None:
        _check_audit_head(connection, findings, expected - 1, previous)


def _check_details(row: list[Any], findings: Findings) -> list[str]:
    """What a well-formed event's details must hold: a JSON object; a consent decision's
    subject; a ``checkpoint.sealed`` event's checkpoint, noted for the checkpoints' check.

    The details of a consent decision are parsed with its subject's chain (``chain_checks``),
    which reports them when they are not JSON: here they are left alone.
    """
    action = row[_ACTION]
    if action.startswith(CONSENT):
        return [] if row[_SUBJECT] is not None else ["records a consent decision of no subject"]
    try:
        details = json_object(row[_DETAILS])
    except Malformed as error:
        return [f"malformed: details {shown(row[_DETAILS])} {error}"]
    if action == CHECKPOINT_SEALED:
        findings.sealings[row[_SEQ]] = details
    return []


def _last_before(connection: Connection, low: int) -> tuple[str, int]:
    """The hash to link to and the seq to expect at the start of a range beginning at ``low``."""
    before = connection.execute(
        select(*raw_columns(connection, audit_events, ("seq", "hash")))
        .where(audit_events.c.seq < low)
        .order_by(audit_events.c.seq.desc())
        .limit(1)
    ).one_or_none()
    if before is None:
        return GENESIS, 1
    seq, stored = before
    return stored, (seq + 1 if type(seq) is int else low)


def _check_audit_head(connection: Connection, findings: Findings, end: int, end_hash: str) -> None:
    names = ("id", "seq", "hash")
    heads = connection.execute(select(*raw_columns(connection, audit_head, names))).all()
    if not heads:
        findings.add("audit_head", "head", "the head row is missing")
        return
    parse = RowParser(connection, audit_head, names)
    for stored in heads:
        (head_id, seq, stored_hash), complaints = parse(stored)
        if head_id != 1 and "id" not in complaints:
            complaints["id"] = f"{shown(head_id)} is not 1 (the trail has one head)"
        if complaints:
            findings.add("audit_head", "head", malformed(complaints))
        elif seq != end or stored_hash != end_hash:
            findings.add(
                "audit_head",
                f"seq {seq}",
                f"head row does not match the last event (seq {end}): the trail was truncated,"
                " extended or rewritten",
            )


def sealing(details: dict[str, Any]) -> tuple[int | None, str | None]:
    """The checkpoint seq and hash a ``checkpoint.sealed`` event's details name.

    Args:
        details: the event's details.

    Returns:
        ``(seq, hash)``, each None when missing or malformed.
    """
    seq, stored = details.get("checkpoint"), details.get("hash")
    return (seq if type(seq) is int else None), (stored if type(stored) is str else None)
