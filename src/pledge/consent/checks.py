"""The checks behind ``verify``: one range of subjects' consent chains, or of the audit trail.

Each check reads a consistent snapshot (without taking SQLite's write lock, so writers carry
on), streams its rows in order and returns its :class:`Findings`. ``proof.verify`` plans the
ranges, runs the checks in this process or in worker processes, and merges the findings in
order. Everything a worker needs is passed by value: the checks are plain functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import NullPool

from pledge.consent.chain import HASHED_FIELDS, by_subject
from pledge.enforcement import audit
from pledge.errors import StoreUnavailable
from pledge.proof import GENESIS, record_hash
from pledge.store.tables import (
    audit_events,
    audit_head,
    checkpoint_heads,
    consent_events,
    consent_heads,
    consent_state,
)

Tick = Callable[[int], None]
"""Called with the number of rows checked so far in this range."""

# Positions in a consent event row as selected: HASHED_FIELDS, then prev_hash and hash.
_SEQ, _ID, _PURPOSE, _DECISION, _GUARDIAN = 1, 2, 3, 4, 10
_PREV, _HASH = len(HASHED_FIELDS), len(HASHED_FIELDS) + 1


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken record: the table, which record, and what is wrong with it.

    Args:
        table: the table holding the record.
        record: which record: ``subject <id> seq <n>``, ``seq <n>``, ``checkpoint <n>``.
        problem: what is wrong, in plain words.
    """

    table: str
    record: str
    problem: str

    def __str__(self) -> str:
        return f"{self.table}: {self.record}: {self.problem}"

    def to_dict(self) -> dict[str, str]:
        """The problem as plain JSON-ready data."""
        return {"table": self.table, "record": self.record, "problem": self.problem}


@dataclass
class Findings:
    """What one check found: problems (at most ``limit`` kept, all counted) and counts.

    Args:
        limit: how many problems to keep.
    """

    limit: int = 1000
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    marks: dict[int, str] = field(default_factory=dict)  # audit seq → hash, for checkpoints

    def add(self, table: str, record: str, problem: str) -> None:
        """Note a problem.

        Args:
            table: the table holding the record.
            record: which record.
            problem: what is wrong.
        """
        self.problem_count += 1
        if len(self.problems) < self.limit:
            self.problems.append(Problem(table, record, problem))

    def merge(self, other: Findings) -> None:
        """Append ``other``'s problems and add up its counts.

        Args:
            other: findings of a later range.
        """
        self.problem_count += other.problem_count
        room = self.limit - len(self.problems)
        self.problems.extend(other.problems[: max(room, 0)])
        for name, value in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        self.marks.update(other.marks)


@dataclass(frozen=True, slots=True)
class ConsentRange:
    """The chains of the subjects with ``low <= subject_id < high`` (None: unbounded)."""

    low: str | None
    high: str | None


@dataclass(frozen=True, slots=True)
class AuditRange:
    """Audit events with ``low <= seq < high`` (None: to the end, head row included).

    ``marks`` are the audit seqs sealed by checkpoints inside the range.
    """

    low: int
    high: int | None
    marks: frozenset[int] = frozenset()


Task = ConsentRange | AuditRange


# --- snapshots -----------------------------------------------------------------------------------


@contextmanager
def snapshot(url: str) -> Iterator[Connection]:
    """A connection reading one consistent snapshot of the store, without blocking writers.

    SQLite: a deferred transaction (WAL keeps the snapshot while others write). PostgreSQL:
    a REPEATABLE READ transaction.

    Args:
        url: the store's URL, password included.

    Raises:
        StoreUnavailable: the database cannot be reached.
    """
    engine = _reader(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection
    except (OperationalError, InterfaceError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise StoreUnavailable(f"Pledge's database is unavailable: {reason}") from error
    finally:
        engine.dispose()


def _reader(url: str) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def manual_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def deferred(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def run(url: str, task: Task, batch: int, limit: int) -> Findings:
    """Run one check on its own snapshot (the entry point of worker processes).

    Args:
        url: the store's URL.
        task: the range to check.
        batch: rows fetched at a time.
        limit: problems kept.

    Returns:
        The findings.
    """
    with snapshot(url) as connection:
        return check(connection, task, batch, limit, None)


def check(
    connection: Connection, task: Task, batch: int, limit: int, tick: Tick | None
) -> Findings:
    """Run one check on ``connection``.

    Args:
        connection: a snapshot (see :func:`snapshot`).
        task: the range to check.
        batch: rows fetched at a time.
        limit: problems kept.
        tick: progress, or None.

    Returns:
        The findings.
    """
    findings = Findings(limit=limit)
    if isinstance(task, ConsentRange):
        _check_consent(connection, task, batch, findings, tick)
    else:
        _check_audit(connection, task, batch, findings, tick)
    return findings


# --- consent chains ------------------------------------------------------------------------------


def _within(connection: Connection, query: Any, column: Any, task: ConsentRange) -> Any:
    key = by_subject(connection, column)
    if task.low is not None:
        query = query.where(key >= task.low)
    if task.high is not None:
        query = query.where(key < task.high)
    return query


def _check_consent(
    connection: Connection,
    task: ConsentRange,
    batch: int,
    findings: Findings,
    tick: Tick | None,
) -> None:
    options = {"yield_per": batch}
    order = by_subject
    events = select(
        *(consent_events.c[name] for name in HASHED_FIELDS),
        consent_events.c.prev_hash,
        consent_events.c.hash,
    )
    heads = select(consent_heads.c.subject_id, consent_heads.c.seq, consent_heads.c.hash)
    marks = select(
        checkpoint_heads.c.subject_id,
        checkpoint_heads.c.checkpoint_seq,
        checkpoint_heads.c.seq,
        checkpoint_heads.c.hash,
    )
    states = select(
        consent_state.c.subject_id,
        consent_state.c.purpose,
        consent_state.c.decision,
        consent_state.c.event_id,
        consent_state.c.guardian_id,
    )
    streams = [
        _within(connection, events, consent_events.c.subject_id, task).order_by(
            order(connection, consent_events.c.subject_id), consent_events.c.seq
        ),
        _within(connection, heads, consent_heads.c.subject_id, task).order_by(
            order(connection, consent_heads.c.subject_id)
        ),
        _within(connection, marks, checkpoint_heads.c.subject_id, task).order_by(
            order(connection, checkpoint_heads.c.subject_id), checkpoint_heads.c.checkpoint_seq
        ),
        _within(connection, states, consent_state.c.subject_id, task).order_by(
            order(connection, consent_state.c.subject_id), consent_state.c.purpose
        ),
    ]
    results = [connection.execute(query, execution_options=options) for query in streams]
    checker = _ChainChecker(findings)
    next_tick = batch
    for subject_id, (chain, head, marked, state) in _merge(*results):
        checker.check(subject_id, chain, head, marked, state)
        if tick is not None and checker.events >= next_tick:
            tick(checker.events)
            next_tick = checker.events + batch
    findings.counts.update(
        subjects=checker.subjects,
        consent_events=checker.events,
        checkpoint_heads=checker.marks,
        consent_states=checker.states,
    )


class _ChainChecker:
    """Checks one subject at a time: its chain, head row, sealed heads and state rows."""

    def __init__(self, findings: Findings) -> None:
        self.add = findings.add
        self.subjects = self.events = self.marks = self.states = 0

    def check(
        self,
        subject_id: str,
        chain: list[Any],
        head: list[Any],
        marked: list[Any],
        state: list[Any],
    ) -> None:
        add = self.add
        hashes: dict[int, str] = {}
        last: dict[str, tuple[str, str, str | None]] = {}
        previous, expected = GENESIS, 1
        for row in chain:
            seq = row[_SEQ]
            wrong = []
            if seq != expected:
                wrong.append(
                    f"sequence breaks: expected seq {expected} (an event is missing or moved)"
                )
            if row[_PREV] != previous:
                wrong.append("prev_hash does not link to the previous event's hash")
            content = dict(zip(HASHED_FIELDS, row[:_PREV], strict=True))
            if record_hash(row[_PREV], content) != row[_HASH]:
                wrong.append("hash does not match the event's content (edited)")
            if wrong:
                add("consent_events", f"subject {subject_id} seq {seq}", "; ".join(wrong))
            hashes[seq] = row[_HASH]
            last[row[_PURPOSE]] = (row[_DECISION], row[_ID], row[_GUARDIAN])
            previous, expected = row[_HASH], seq + 1
        if chain:
            self.subjects += 1
            self.events += len(chain)
        self._check_head(subject_id, chain, head, previous)
        for _, checkpoint_seq, seq, sealed_hash in marked:
            self.marks += 1
            where = f"checkpoint {checkpoint_seq} subject {subject_id} seq {seq}"
            if seq not in hashes:
                gone = "its head row is gone too" if not head else "the chain is shorter"
                add(
                    "checkpoint_heads",
                    where,
                    f"the sealed event no longer exists (chain deleted or truncated; {gone})",
                )
            elif hashes[seq] != sealed_hash:
                add("checkpoint_heads", where, "the event at this seq differs from the sealed one")
        self._check_state(subject_id, last, state)

    def _check_head(self, subject_id: str, chain: list[Any], head: list[Any], end: str) -> None:
        if not head:
            if chain:
                self.add(
                    "consent_heads",
                    f"subject {subject_id}",
                    f"no head row for a chain of {len(chain)} events (head deleted)",
                )
            return
        _, seq, head_hash = head[0]
        if not chain:
            self.add(
                "consent_heads",
                f"subject {subject_id} seq {seq}",
                "head row points to a chain with no events (the chain was deleted)",
            )
            return
        end_seq = chain[-1][_SEQ]
        if seq != end_seq or head_hash != end:
            self.add(
                "consent_heads",
                f"subject {subject_id} seq {seq}",
                f"head row does not match the last event (seq {end_seq}): the chain was"
                " truncated, extended or rewritten",
            )

    def _check_state(
        self, subject_id: str, last: dict[str, tuple[str, str, str | None]], state: list[Any]
    ) -> None:
        seen = set()
        for _, purpose, decision, event_id, guardian_id in state:
            self.states += 1
            seen.add(purpose)
            where = f"subject {subject_id} purpose {purpose}"
            expected = last.get(purpose)
            if expected is None:
                self.add("consent_state", where, "state row without any consent event")
            elif expected != (decision, event_id, guardian_id):
                self.add(
                    "consent_state",
                    where,
                    f"state says {decision} (event {event_id}) but the chain's last decision is"
                    f" {expected[0]} (event {expected[1]})",
                )
        for purpose in sorted(set(last) - seen):
            self.add(
                "consent_state",
                f"subject {subject_id} purpose {purpose}",
                f"no state row for the chain's last decision ({last[purpose][0]})",
            )


def _merge(*streams: Iterable[Any]) -> Iterator[tuple[str, list[list[Any]]]]:
    """Rows of several streams sorted by subject id (column 0), grouped per subject."""
    groups = [_grouped(stream) for stream in streams]
    current = [next(group, None) for group in groups]
    while True:
        keys = [item[0] for item in current if item is not None]
        if not keys:
            return
        subject_id = min(keys)
        parts: list[list[Any]] = []
        for index, item in enumerate(current):
            if item is not None and item[0] == subject_id:
                parts.append(item[1])
                current[index] = next(groups[index], None)
            else:
                parts.append([])
        yield subject_id, parts


def _grouped(rows: Iterable[Any]) -> Iterator[tuple[str, list[Any]]]:
    key: str | None = None
    group: list[Any] = []
    for row in rows:
        if row[0] != key:
            if group:
                yield key or "", group
            key, group = row[0], [row]
        else:
            group.append(row)
    if group:
        yield key or "", group


# --- the audit trail -----------------------------------------------------------------------------


def _check_audit(
    connection: Connection, task: AuditRange, batch: int, findings: Findings, tick: Tick | None
) -> None:
    before = connection.execute(
        select(audit_events.c.seq, audit_events.c.hash)
        .where(audit_events.c.seq < task.low)
        .order_by(audit_events.c.seq.desc())
        .limit(1)
    ).one_or_none()
    previous, expected = (before.hash, before.seq + 1) if before else (GENESIS, 1)
    done, after = 0, task.low - 1
    while True:
        query = select(audit_events).where(audit_events.c.seq > after)
        if task.high is not None:
            query = query.where(audit_events.c.seq < task.high)
        rows = connection.execute(query.order_by(audit_events.c.seq).limit(batch)).mappings().all()
        if not rows:
            break
        for row in rows:
            seq = row["seq"]
            wrong = []
            if seq != expected:
                wrong.append(f"sequence breaks: expected seq {expected} (an event is missing)")
            if row["prev_hash"] != previous:
                wrong.append("prev_hash does not link to the previous event's hash")
            if record_hash(row["prev_hash"], audit.event_content(row)) != row["hash"]:
                wrong.append("hash does not match the event's content (edited)")
            if wrong:
                findings.add("audit_events", f"seq {seq}", "; ".join(wrong))
            if seq in task.marks:
                findings.marks[seq] = row["hash"]
            previous, expected = row["hash"], seq + 1
        done += len(rows)
        after = rows[-1]["seq"]
        if tick is not None:
            tick(done)
    findings.counts["audit_events"] = done
    if task.high is None:
        _check_audit_head(connection, findings, expected - 1, previous)


def _check_audit_head(connection: Connection, findings: Findings, end: int, end_hash: str) -> None:
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).one_or_none()
    if head is None:
        findings.add("audit_head", "head", "the head row is missing")
    elif head.seq != end or head.hash != end_hash:
        findings.add(
            "audit_head",
            f"seq {head.seq}",
            f"head row does not match the last event (seq {end}): the trail was truncated,"
            " extended or rewritten",
        )
