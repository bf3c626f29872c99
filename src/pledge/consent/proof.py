"""Proof that the consent ledger and the audit trail are as they were written.

Four layers of tamper evidence, each checked by :func:`verify`:

- each subject's consent events form a hash chain (``seq`` 1, 2, 3…, each hash covering the
  event and the previous hash), its end kept in ``consent_heads``; the audit trail is one
  such chain, its end in ``audit_head``;
- the two chains witness each other: every consent event has the audit event that recorded
  it (``consent.granted``, ``withdrawn``, ``refused``), in the same order, and every such
  audit event has its consent event (``chain_checks``);
- checkpoints (``checkpoints``) seal every chain head and the audit head, chained to each
  other, and each is recorded in the audit trail (``checkpoint.sealed``);
- a checkpoint exported to a signed file kept elsewhere (``export``) proves that nothing it
  sealed was removed since, checkpoints included.

Every row is parsed before it is used (``rows``): a malformed one is a finding naming its table
and its id or seq, never a crash.

What cannot be detected without an exported checkpoint: changes after the last checkpoint by
someone who removes or rewrites the newest records *and* every record that witnesses them
consistently, for instance a consent event together with its audit event when both end their
chains, or an audit tail holding no consent decision and no ``checkpoint.sealed`` event, with
the heads set to match; and a rewrite of everything after the changed record, checkpoints
included. docs/runtime.md ("Proof") has the table of what is and is not detected.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from pledge.consent.chain import (
    HASHED_FIELDS,
    by_subject,
    checkpoint_content,
    consent_root,
    event_content,
)
from pledge.consent.checkpoints import (
    Checkpoint,
    Sealed,
    check_checkpoint_chain,
    check_roots,
    check_sealed_audit,
    latest_checkpoint,
    seal_checkpoint,
    seal_checkpoint_with_heads,
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
from pledge.consent.export import ExportedCheckpoint, check_against, check_counts
from pledge.consent.rows import Malformed, raw_columns
from pledge.errors import UsageError
from pledge.store.database import Database
from pledge.store.tables import audit_events, consent_events, consent_heads

__all__ = [
    "HASHED_FIELDS",
    "Checkpoint",
    "ExportedCheckpoint",
    "Problem",
    "Progress",
    "VerifyReport",
    "checkpoint_content",
    "consent_root",
    "event_content",
    "latest_checkpoint",
    "seal_checkpoint",
    "seal_checkpoint_with_heads",
    "verify",
]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while verifying."""

PARALLEL_FROM = 200_000
"""Stores with at least this many events (consent and audit) are verified in parallel."""

_INTEGERS_BELOW = 2**62  # on SQLite, text and blobs compare above every number


class VerifyReport(Findings):
    """What :func:`verify` found: counts of what was checked and every problem.

    ``problems`` are in the order found (checkpoints, consent chains by subject with the
    audit events recording them, sealed roots, audit trail by seq, checkpoints against the
    trail, then the exported checkpoint), at most ``limit`` of them; ``problem_count``
    counts all.
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
    against: ExportedCheckpoint | None = None,
) -> VerifyReport:
    """Check every consent chain, every checkpoint and the audit trail, and each against
    the others.

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
        against: a checkpoint exported to a file (``export.read_export``): its own problems
            are reported, and everything it sealed must still be in the store.

    Returns:
        The report; ``report.ok`` is False on any break, ``report.first`` names the first.

    Raises:
        StoreUnavailable: the database cannot be reached.
        UsageError: an in-memory SQLite store (other processes cannot read it).
    """
    in_memory = database.url.get_backend_name() == "sqlite" and not database.url.database
    if in_memory or database.url.database == ":memory:":
        raise UsageError("verify reads a database file or server, not an in-memory SQLite store")
    url = database.url.render_as_string(hide_password=False)
    plan = _Plan(url, progress or _silent, batch, max_problems, workers, chunk, against)
    try:
        return _verify(plan, tolerant=False)
    except Malformed:  # SQLite text that is not UTF-8: rare, and slower to read, so only then
        return _verify(plan, tolerant=True)


@dataclass(frozen=True)
class _Plan:
    """The arguments of :func:`verify`, for :func:`_verify`."""

    url: str
    tick: Progress
    batch: int
    max_problems: int
    workers: int | None
    chunk: int | None
    against: ExportedCheckpoint | None


def _verify(plan: _Plan, *, tolerant: bool) -> VerifyReport:
    url, tick, batch, max_problems = plan.url, plan.tick, plan.batch, plan.max_problems
    workers, chunk, against = plan.workers, plan.chunk, plan.against
    report = VerifyReport(limit=max_problems)
    with snapshot(url, tolerant=tolerant) as connection:
        totals = {
            "consent events": _count(connection, consent_events),
            "audit events": _count(connection, audit_events),
        }
        sealed = check_checkpoint_chain(connection, report)
        audit_end = _last_audit_seq(connection)
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
            findings, (roots, exported) = _in_workers(
                (url, tolerant),
                tasks,
                workers,
                batch,
                max_problems,
                totals,
                tick,
                meanwhile=lambda: _beside(connection, sealed, against),
            )
        else:
            findings = _here(connection, tasks, batch, max_problems, totals, tick)
            roots, exported = _beside(connection, sealed, against)
    consent = [found for task, found in zip(tasks, findings, strict=True) if _is_consent(task)]
    audit = [found for task, found in zip(tasks, findings, strict=True) if not _is_consent(task)]
    for found in consent:
        report.merge(found)
    report.merge(roots)
    for found in audit:
        report.merge(found)
    check_sealed_audit(report, sealed, audit_end)
    report.merge(exported)
    if against is not None:
        check_counts(against, report)
    report.counts["checkpoints"] = len(sealed.checkpoints)
    return report


def _beside(
    connection: Connection, sealed: Sealed, against: ExportedCheckpoint | None
) -> tuple[Findings, Findings]:
    """What the main snapshot checks beside the ranges: the roots, the exported checkpoint."""
    exported = Findings()
    if against is not None:
        check_against(connection, against, exported)
    return check_roots(connection, sealed), exported


def _last_audit_seq(connection: Connection) -> int:
    """The highest audit seq that is a number (0 when none)."""
    query = select(func.max(audit_events.c.seq))
    if connection.dialect.name == "sqlite":  # the only one whose INTEGER column holds text
        query = query.where(audit_events.c.seq < _INTEGERS_BELOW)
    last = connection.execute(query).scalar_one()
    return int(last) if isinstance(last, int | float) else 0


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
    reading: tuple[str, bool],
    tasks: list[Task],
    workers: int,
    batch: int,
    limit: int,
    totals: dict[str, int],
    tick: Progress,
    *,
    meanwhile: Callable[[], tuple[Findings, Findings]],
) -> tuple[list[Findings], tuple[Findings, Findings]]:
    done = dict.fromkeys(totals, 0)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[Future[Findings]] = [
            pool.submit(run, reading[0], task, batch, limit, reading[1]) for task in tasks
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
        select(*raw_columns(connection, consent_heads, ("subject_id", "seq"))).order_by(
            by_subject(connection, consent_heads.c.subject_id)
        ),
        execution_options={"yield_per": 10_000},
    )
    filled, cut = 0, False
    for subject_id, seq in heads:
        if type(subject_id) is not str:
            continue  # malformed: the ranges are bounded by well-formed ids only
        if cut:
            bounds.append(subject_id)
            filled, cut = 0, False
        filled += seq if type(seq) is int and seq > 0 else 1
        cut = filled >= size
    edges: list[str | None] = [None, *bounds, None]
    return [ConsentRange(low, high) for low, high in itertools.pairwise(edges)]


def _audit_ranges(connection: Connection, size: int | None, sealed: Sealed) -> list[Task]:
    """Ranges of about ``size`` audit seqs (one range when None), the first and last
    open-ended."""
    last = _last_audit_seq(connection)
    starts = [1] if size is None else list(range(1, max(last, 1) + 1, size))
    marked = {row["audit_seq"] for row in sealed.checkpoints}
    ranges: list[Task] = []
    for index, low in enumerate(starts):
        high = starts[index + 1] if index + 1 < len(starts) else None
        inside = frozenset(seq for seq in marked if seq >= low and (high is None or seq < high))
        ranges.append(AuditRange(low, high, inside))
    return ranges
