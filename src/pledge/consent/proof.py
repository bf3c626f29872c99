"""Proof that the consent ledger and the audit trail are as they were written.

Three layers of tamper evidence:

- each subject's consent events form a hash chain (``seq`` 1, 2, 3…, each hash covering the
  event and the previous hash), its end kept in ``consent_heads``;
- :func:`seal_checkpoint` copies every chain head and the audit head into a checkpoint,
  itself chained to the previous checkpoint. A chain deleted or truncated together with its
  head row still leaves its sealed head behind, which no longer matches;
- :func:`verify` recomputes everything, streaming each table in order, and names each broken
  record, the first one first. It also checks that the materialised ``consent_state`` is the
  last decision of each chain, since that is what decisions are taken from.

What cannot be detected: changes made after the last checkpoint by someone who rewrites a
chain *and* its head row consistently, or truncates the audit trail *and* its head, or
rewrites every checkpoint after the one they change. Seal checkpoints regularly and keep
their hashes somewhere else (``pledge checkpoint --format json``) to close that window.

Each checkpoint copies every head, so ``checkpoint_heads`` grows by one row per subject per
checkpoint: seal daily rather than every minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, func, insert, literal, select, update

from pledge.clock import Clock, utc_now
from pledge.consent.chain import (
    HASHED_FIELDS,
    by_subject,
    checkpoint_content,
    consent_root,
    event_content,
    head_line,
)
from pledge.consent.checks import (
    AuditRange,
    ConsentRange,
    Findings,
    Problem,
    Task,
    check,
    run,
    snapshot,
)
from pledge.errors import UsageError
from pledge.proof import GENESIS, record_hash
from pledge.store.database import Database
from pledge.store.tables import (
    audit_events,
    audit_head,
    checkpoint_heads,
    checkpoints,
    consent_events,
    consent_heads,
)

__all__ = [
    "HASHED_FIELDS",
    "Checkpoint",
    "Problem",
    "Progress",
    "VerifyReport",
    "checkpoint_content",
    "consent_root",
    "event_content",
    "latest_checkpoint",
    "seal_checkpoint",
    "verify",
]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while verifying."""

PARALLEL_FROM = 200_000
"""Stores with at least this many events (consent and audit) are verified in parallel."""


# --- checkpoints ---------------------------------------------------------------------------------


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


def seal_checkpoint(database: Database, clock: Clock = utc_now) -> Checkpoint:
    """Seal a checkpoint: every subject's consent head, the audit head, chained to the last.

    Every consent write takes the audit head's lock before it commits (last of its locks), and
    this takes it first: the checkpoint is a consistent cut (a consent write has committed
    both its chain head and its audit event, or neither), and writes wait while it is sealed.

    Args:
        database: Pledge's store.
        clock: the time source.

    Returns:
        The new checkpoint.
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
        digest, count = hashlib.sha256(), 0
        for subject_id, head_seq, head_hash in copied:
            digest.update(head_line(subject_id, head_seq, head_hash))
            count += 1
        row.update(subjects=count, consent_root=digest.hexdigest())
        sealed = record_hash(previous, checkpoint_content(row))
        connection.execute(
            update(checkpoints)
            .where(checkpoints.c.seq == seq)
            .values(subjects=count, consent_root=row["consent_root"], hash=sealed)
        )
    return Checkpoint(**row, prev_hash=previous, hash=sealed)


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


# --- verification --------------------------------------------------------------------------------


class VerifyReport(Findings):
    """What :func:`verify` found: counts of what was checked and every problem.

    ``problems`` are in the order found (checkpoints, consent chains by subject, sealed
    roots, audit trail by seq), at most ``limit`` of them; ``problem_count`` counts all.
    """

    @property
    def ok(self) -> bool:
        """Whether everything verified."""
        return self.problem_count == 0

    @property
    def first(self) -> Problem | None:
        """The first broken record found, or None."""
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return {
            "ok": self.ok,
            "counts": dict(self.counts),
            "problem_count": self.problem_count,
            "first": self.first.to_dict() if self.first else None,
            "problems": [problem.to_dict() for problem in self.problems],
        }


def verify(
    database: Database,
    *,
    progress: Progress | None = None,
    batch: int = 10_000,
    max_problems: int = 1000,
    workers: int | None = None,
    chunk: int | None = None,
) -> VerifyReport:
    """Check every consent chain, every checkpoint and the audit trail.

    Each table is streamed in order (``ORDER BY subject_id, seq``), never queried per record,
    from a consistent snapshot that does not block writers. Large stores are split into
    ranges of subjects and of audit seqs, checked by worker processes (spawned: a script
    calling this must guard its top level with ``if __name__ == "__main__":``).

    Args:
        database: Pledge's store.
        progress: called as ``progress(stage, done, total)`` as the work advances.
        batch: how many rows to fetch at a time.
        max_problems: how many problems to keep in the report (all are counted).
        workers: processes to use; default: one per CPU (up to 8) for stores of at least
            :data:`PARALLEL_FROM` events, else checked in this process.
        chunk: events per range; default: enough ranges to keep every worker busy.

    Returns:
        The report; ``report.ok`` is False on any break, ``report.first`` names the first.

    Raises:
        StoreUnavailable: the database cannot be reached.
        UsageError: an in-memory SQLite store (other processes cannot read it).
    """
    in_memory = database.url.get_backend_name() == "sqlite" and not database.url.database
    if in_memory or database.url.database == ":memory:":
        raise UsageError("verify reads a database file or server, not an in-memory SQLite store")
    report = VerifyReport(limit=max_problems)
    tick = progress or _silent
    url = database.url.render_as_string(hide_password=False)
    with snapshot(url) as connection:
        totals = {
            "consent events": _count(connection, consent_events),
            "audit events": _count(connection, audit_events),
        }
        sealed = _check_checkpoint_chain(connection, report)
        if workers is None:
            many = sum(totals.values()) >= PARALLEL_FROM
            workers = min(os.cpu_count() or 1, 8) if many else 1
        # In one process one range each; in several, about three ranges per worker.
        size = chunk or (max(50_000, sum(totals.values()) // (workers * 3) + 1))
        split = size if workers > 1 or chunk else None
        tasks = [*_consent_ranges(connection, split), *_audit_ranges(connection, split, sealed)]
        for stage, total in totals.items():
            tick(stage, 0, total)
        if workers > 1:
            findings, roots = _in_workers(
                url,
                tasks,
                workers,
                batch,
                max_problems,
                totals,
                tick,
                meanwhile=lambda: _check_roots(connection, sealed),
            )
        else:
            findings = _here(connection, tasks, batch, max_problems, totals, tick)
            roots = _check_roots(connection, sealed)
    consent = [found for task, found in zip(tasks, findings, strict=True) if _is_consent(task)]
    audit = [found for task, found in zip(tasks, findings, strict=True) if not _is_consent(task)]
    for found in consent:
        report.merge(found)
    report.merge(roots)
    for found in audit:
        report.merge(found)
    _check_sealed_audit(report, sealed)
    report.counts["checkpoints"] = len(sealed)
    return report


def _silent(stage: str, done: int, total: int) -> None:
    return None


def _is_consent(task: Task) -> bool:
    return isinstance(task, ConsentRange)


def _stage(task: Task) -> str:
    return "consent events" if _is_consent(task) else "audit events"


def _count(connection: Connection, table: Any) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _here(
    connection: Connection,
    tasks: list[Task],
    batch: int,
    limit: int,
    totals: dict[str, int],
    tick: Progress,
) -> list[Findings]:
    done = dict.fromkeys(totals, 0)
    results = []
    for task in tasks:
        stage = _stage(task)
        base = done[stage]

        def advance(rows: int, stage: str = stage, base: int = base) -> None:
            tick(stage, base + rows, max(totals[stage], base + rows))

        found = check(connection, task, batch, limit, advance)
        done[stage] += found.counts.get(stage.replace(" ", "_"), 0)
        tick(stage, done[stage], max(totals[stage], done[stage]))
        results.append(found)
    return results


def _in_workers(
    url: str,
    tasks: list[Task],
    workers: int,
    batch: int,
    limit: int,
    totals: dict[str, int],
    tick: Progress,
    *,
    meanwhile: Callable[[], Findings],
) -> tuple[list[Findings], Findings]:
    done = dict.fromkeys(totals, 0)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[Future[Findings]] = [
            pool.submit(run, url, task, batch, limit) for task in tasks
        ]
        stages = {future: _stage(task) for future, task in zip(futures, tasks, strict=True)}
        beside = meanwhile()
        for future in as_completed(futures):
            stage = stages[future]
            done[stage] += future.result().counts.get(stage.replace(" ", "_"), 0)
            tick(stage, done[stage], max(totals[stage], done[stage]))
        return [future.result() for future in futures], beside


def _consent_ranges(connection: Connection, size: int | None) -> list[Task]:
    """Ranges of subjects holding about ``size`` events each (one range when None)."""
    if size is None:
        return [ConsentRange(None, None)]
    bounds: list[str] = []
    heads = connection.execute(
        select(consent_heads.c.subject_id, consent_heads.c.seq).order_by(
            by_subject(connection, consent_heads.c.subject_id)
        ),
        execution_options={"yield_per": 10_000},
    )
    filled, cut = 0, False
    for subject_id, seq in heads:
        if cut:
            bounds.append(subject_id)
            filled, cut = 0, False
        filled += seq
        cut = filled >= size
    edges: list[str | None] = [None, *bounds, None]
    return [ConsentRange(low, high) for low, high in itertools.pairwise(edges)]


def _audit_ranges(connection: Connection, size: int | None, sealed: list[Any]) -> list[Task]:
    """Ranges of about ``size`` audit seqs (one range when None), the last open-ended."""
    last = connection.execute(select(func.max(audit_events.c.seq))).scalar_one() or 0
    starts = [1] if size is None else list(range(1, max(last, 1) + 1, size))
    marked = {row["audit_seq"] for row in sealed}
    ranges: list[Task] = []
    for index, low in enumerate(starts):
        high = starts[index + 1] if index + 1 < len(starts) else None
        inside = frozenset(seq for seq in marked if seq >= low and (high is None or seq < high))
        ranges.append(AuditRange(low, high, inside))
    return ranges


def _check_checkpoint_chain(connection: Connection, report: VerifyReport) -> list[Any]:
    rows = list(
        connection.execute(select(checkpoints).order_by(checkpoints.c.seq)).mappings().all()
    )
    previous, expected = GENESIS, 1
    for row in rows:
        wrong = []
        if row["seq"] != expected:
            wrong.append(f"sequence breaks: expected checkpoint {expected}")
        if row["prev_hash"] != previous:
            wrong.append("prev_hash does not link to the previous checkpoint")
        if record_hash(row["prev_hash"], checkpoint_content(row)) != row["hash"]:
            wrong.append("hash does not match its content (edited)")
        if wrong:
            report.add("checkpoints", f"checkpoint {row['seq']}", "; ".join(wrong))
        previous, expected = row["hash"], row["seq"] + 1
    return rows


def _check_roots(connection: Connection, sealed: list[Any]) -> Findings:
    """Recompute each checkpoint's consent root from its sealed heads."""
    findings = Findings()
    roots = {row["seq"]: (hashlib.sha256(), [0]) for row in sealed}
    rows = connection.execute(
        select(
            checkpoint_heads.c.checkpoint_seq,
            checkpoint_heads.c.subject_id,
            checkpoint_heads.c.seq,
            checkpoint_heads.c.hash,
        ).order_by(
            checkpoint_heads.c.checkpoint_seq,
            by_subject(connection, checkpoint_heads.c.subject_id),
        ),
        execution_options={"yield_per": 10_000},
    )
    for checkpoint_seq, subject_id, seq, sealed_hash in rows:
        root = roots.get(checkpoint_seq)
        if root is None:
            findings.add(
                "checkpoint_heads",
                f"checkpoint {checkpoint_seq} subject {subject_id} seq {seq}",
                "sealed head of a checkpoint that does not exist",
            )
            continue
        root[0].update(head_line(subject_id, seq, sealed_hash))
        root[1][0] += 1
    for row in sealed:
        digest, count = roots[row["seq"]]
        if count[0] != row["subjects"] or digest.hexdigest() != row["consent_root"]:
            findings.add(
                "checkpoints",
                f"checkpoint {row['seq']}",
                f"its sealed heads ({count[0]} subjects) no longer give its consent_root"
                f" ({row['subjects']} subjects): a sealed head was added, removed or changed",
            )
    return findings


def _check_sealed_audit(report: VerifyReport, sealed: list[Any]) -> None:
    """Each checkpoint's audit head must still be in the trail, unchanged."""
    for row in sealed:
        seq, sealed_hash = row["audit_seq"], row["audit_hash"]
        if seq == 0 and sealed_hash == GENESIS:
            continue
        found = report.marks.get(seq)
        if found is None:
            report.add(
                "checkpoints",
                f"checkpoint {row['seq']}",
                f"sealed audit event seq {seq} no longer exists (the audit trail was truncated)",
            )
        elif found != sealed_hash:
            report.add(
                "checkpoints",
                f"checkpoint {row['seq']}",
                f"sealed audit event seq {seq} differs from the one stored",
            )
