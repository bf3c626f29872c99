"""Checkpoints: every consent chain head and the audit head, sealed, and their checks.

A checkpoint copies every chain head into ``checkpoint_heads``, hashes them into its
``consent_root``, records the audit head, and is chained to the previous checkpoint. Sealing
one also appends a ``checkpoint.sealed`` event to the audit trail, right after the audit head
it sealed, naming the checkpoint and its hash: the trail then witnesses the checkpoints, and
the checkpoints the trail. A checkpoint deleted (the last ones, or all of them) leaves its
``checkpoint.sealed`` event behind; an audit trail truncated before a checkpoint's event is
missing the event its checkpoint points to.

Each checkpoint copies every head, so ``checkpoint_heads`` grows by one row per subject per
checkpoint: seal daily rather than every minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, insert, literal, select, update

from pledge.clock import Clock, utc_now
from pledge.consent.audit_checks import CHECKPOINT_SEALED, sealing
from pledge.consent.chain import by_subject, checkpoint_content, head_line
from pledge.consent.findings import Findings
from pledge.consent.rows import RowParser, malformed, raw_columns, shown
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.proof import GENESIS, record_hash
from pledge.store.database import Database
from pledge.store.tables import audit_head, checkpoint_heads, checkpoints, consent_heads

Head = tuple[str, int, str]
"""A chain head as sealed: ``(subject_id, seq, hash)``."""

CHECKPOINT_COLUMNS = (
    "seq",
    "created_at",
    "subjects",
    "consent_root",
    "audit_seq",
    "audit_hash",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A sealed snapshot of every consent chain head and the audit head."""

    seq: int
    created_at: dt.datetime
    subjects: int
    consent_root: str
    audit_seq: int
    audit_hash: str
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint as plain JSON-ready data."""
        return {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "subjects": self.subjects,
            "consent_root": self.consent_root,
            "audit_seq": self.audit_seq,
            "audit_hash": self.audit_hash,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def seal_checkpoint(
    database: Database, clock: Clock = utc_now, *, actor: str = "system"
) -> Checkpoint:
    """Seal a checkpoint: every subject's consent head, the audit head, chained to the last.

    Every consent write takes the audit head's lock before it commits (last of its locks), and
    this takes it first: the checkpoint is a consistent cut (a consent write has committed
    both its chain head and its audit event, or neither), and writes wait while it is sealed.
    The ``checkpoint.sealed`` audit event follows the sealed audit head directly.

    Args:
        database: Pledge's store.
        clock: the time source.
        actor: who seals it, as the audit trail records it.

    Returns:
        The new checkpoint.
    """
    return seal_checkpoint_with_heads(database, clock, actor=actor)[0]


def seal_checkpoint_with_heads(
    database: Database, clock: Clock = utc_now, *, actor: str = "system"
) -> tuple[Checkpoint, list[Head]]:
    """:func:`seal_checkpoint`, also returning the heads it sealed (to export them).

    Args:
        database: Pledge's store.
        clock: the time source.
        actor: who seals it, as the audit trail records it.

    Returns:
        The new checkpoint and its heads, ordered by subject.
    """
    with database.transaction() as connection:
        head = connection.execute(
            select(audit_head.c.seq, audit_head.c.hash)
            .where(audit_head.c.id == 1)
            .with_for_update()
        ).one_or_none()
        audit_seq, audit_hash = (head.seq, head.hash) if head else (0, GENESIS)
        last = connection.execute(
            select(checkpoints.c.seq, checkpoints.c.hash)
            .order_by(checkpoints.c.seq.desc())
            .limit(1)
        ).one_or_none()
        seq, previous = (last.seq + 1, last.hash) if last else (1, GENESIS)
        row: dict[str, Any] = {
            "seq": seq,
            "created_at": clock(),
            "subjects": 0,
            "consent_root": GENESIS,  # filled in below, once the heads are copied
            "audit_seq": audit_seq,
            "audit_hash": audit_hash,
        }
        connection.execute(insert(checkpoints).values(**row, prev_hash=previous, hash=GENESIS))
        connection.execute(
            insert(checkpoint_heads).from_select(
                ["checkpoint_seq", "subject_id", "seq", "hash"],
                select(
                    literal(seq, Integer),
                    consent_heads.c.subject_id,
                    consent_heads.c.seq,
                    consent_heads.c.hash,
                ).where(consent_heads.c.seq > 0),
            )
        )
        # The root is computed from what was copied, so it always describes the stored rows.
        copied = connection.execute(
            select(checkpoint_heads.c.subject_id, checkpoint_heads.c.seq, checkpoint_heads.c.hash)
            .where(checkpoint_heads.c.checkpoint_seq == seq)
            .order_by(by_subject(connection, checkpoint_heads.c.subject_id)),
            execution_options={"yield_per": 10_000},
        )
        digest, heads = hashlib.sha256(), []
        for subject_id, head_seq, head_hash in copied:
            digest.update(head_line(subject_id, head_seq, head_hash))
            heads.append((subject_id, head_seq, head_hash))
        row.update(subjects=len(heads), consent_root=digest.hexdigest())
        sealed = record_hash(previous, checkpoint_content(row))
        connection.execute(
            update(checkpoints)
            .where(checkpoints.c.seq == seq)
            .values(subjects=len(heads), consent_root=row["consent_root"], hash=sealed)
        )
        details = {"checkpoint": seq, "hash": sealed, "subjects": len(heads)}
        audit.record(connection, AuditEntry(CHECKPOINT_SEALED, actor, details=details), clock=clock)
    return Checkpoint(**row, prev_hash=previous, hash=sealed), heads


def latest_checkpoint(database: Database) -> Checkpoint | None:
    """The most recent checkpoint, or None before the first.

    Args:
        database: Pledge's store.

    Returns:
        The checkpoint.
    """
    with database.read() as connection:
        row = (
            connection.execute(select(checkpoints).order_by(checkpoints.c.seq.desc()).limit(1))
            .mappings()
            .one_or_none()
        )
    return Checkpoint(**row) if row else None


# --- checks ----------------------------------------------------------------------------------


@dataclass
class Sealed:
    """The checkpoints as stored: the well-formed ones, and the seq of every one."""

    checkpoints: list[dict[str, Any]]
    seqs: set[Any]


def check_checkpoint_chain(connection: Connection, findings: Findings) -> Sealed:
    """Check each checkpoint's fields, seq, link and hash.

    Args:
        connection: a snapshot.
        findings: where problems go.

    Returns:
        The checkpoints; a malformed one is reported and left out of the other checks.
    """
    parse = RowParser(connection, checkpoints, CHECKPOINT_COLUMNS)
    rows = connection.execute(
        select(*raw_columns(connection, checkpoints, CHECKPOINT_COLUMNS)).order_by(
            checkpoints.c.seq
        )
    ).all()
    previous, expected = GENESIS, 1
    sealed = Sealed([], set())
    for stored in rows:
        values, complaints = parse(stored)
        row = dict(zip(CHECKPOINT_COLUMNS, values, strict=True))
        sealed.seqs.add(row["seq"])
        if complaints:
            findings.add("checkpoints", f"checkpoint {shown(row['seq'])}", malformed(complaints))
            if "seq" not in complaints and "hash" not in complaints:
                previous, expected = row["hash"], row["seq"] + 1
            continue
        wrong = []
        if row["seq"] != expected:
            wrong.append(f"sequence breaks: expected checkpoint {expected}")
        if row["prev_hash"] != previous:
            wrong.append("prev_hash does not link to the previous checkpoint")
        if record_hash(row["prev_hash"], checkpoint_content(row)) != row["hash"]:
            wrong.append("hash does not match its content (edited)")
        if wrong:
            findings.add("checkpoints", f"checkpoint {row['seq']}", "; ".join(wrong))
        sealed.checkpoints.append(row)
        previous, expected = row["hash"], row["seq"] + 1
    return sealed


def check_roots(connection: Connection, sealed: Sealed) -> Findings:
    """Recompute each checkpoint's consent root from its sealed heads, as they are stored."""
    findings = Findings()
    roots = {row["seq"]: (hashlib.sha256(), [0]) for row in sealed.checkpoints}
    rows = connection.execute(
        select(
            *raw_columns(
                connection, checkpoint_heads, ("checkpoint_seq", "subject_id", "seq", "hash")
            )
        ).order_by(
            checkpoint_heads.c.checkpoint_seq,
            by_subject(connection, checkpoint_heads.c.subject_id),
        ),
        execution_options={"yield_per": 10_000},
    )
    for checkpoint_seq, subject_id, seq, sealed_hash in rows:
        root = roots.get(checkpoint_seq)
        if root is None:
            if checkpoint_seq not in sealed.seqs:
                findings.add(
                    "checkpoint_heads",
                    f"checkpoint {shown(checkpoint_seq)} subject {shown(subject_id)} seq {seq}",
                    "sealed head of a checkpoint that does not exist",
                )
            continue
        root[0].update(head_line(subject_id, seq, sealed_hash))
        root[1][0] += 1
    for row in sealed.checkpoints:
        digest, count = roots[row["seq"]]
        if count[0] != row["subjects"] or digest.hexdigest() != row["consent_root"]:
            findings.add(
                "checkpoints",
                f"checkpoint {row['seq']}",
                f"its sealed heads ({count[0]} subjects) no longer give its consent_root"
                f" ({row['subjects']} subjects): a sealed head was added, removed or changed",
            )
    return findings


def check_sealed_audit(findings: Findings, sealed: Sealed, audit_end: int) -> None:
    """Each checkpoint's audit head must still be in the trail, unchanged, and followed by
    the ``checkpoint.sealed`` event naming it; each such event must name a checkpoint that is
    still there.

    Args:
        findings: the merged findings of every range (their ``marks`` and ``sealings``).
        sealed: the checkpoints.
        audit_end: the last audit seq of the main snapshot: a ``checkpoint.sealed`` event
            after it is of a checkpoint sealed since (worker processes read later snapshots).
    """
    by_seq = {row["seq"]: row for row in sealed.checkpoints}
    for row in sealed.checkpoints:
        seq, sealed_hash = row["audit_seq"], row["audit_hash"]
        where = f"checkpoint {row['seq']}"
        if not (seq == 0 and sealed_hash == GENESIS):
            found = findings.marks.get(seq)
            if found is None:
                findings.add(
                    "checkpoints",
                    where,
                    f"sealed audit event seq {seq} no longer exists (the audit trail was"
                    " truncated)",
                )
            elif found != sealed_hash:
                findings.add(
                    "checkpoints",
                    where,
                    f"sealed audit event seq {seq} differs from the one stored",
                )
        event = findings.sealings.get(seq + 1)
        if event is None or sealing(event)[0] != row["seq"]:
            findings.add(
                "checkpoints",
                where,
                f"no {CHECKPOINT_SEALED} audit event for it at audit seq {seq + 1} (the audit"
                " trail was truncated, or the checkpoint was made behind Pledge's back)",
            )
    for audit_seq, details in sorted(findings.sealings.items()):
        if audit_seq > audit_end:
            continue
        number, recorded_hash = sealing(details)
        stored = by_seq.get(number)
        if stored is None and number in sealed.seqs:
            continue  # malformed, and reported as such
        if stored is None:
            findings.add(
                "audit_events",
                f"seq {audit_seq}",
                f"records checkpoint {shown(number)} sealed, which is no longer in checkpoints"
                " (deleted)",
            )
        elif stored["hash"] != recorded_hash or stored["audit_seq"] != audit_seq - 1:
            findings.add(
                "audit_events",
                f"seq {audit_seq}",
                f"records checkpoint {number} sealed with another hash or audit head than the"
                " stored one (the checkpoint was rewritten)",
            )
