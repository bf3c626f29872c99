"""The check of one range of subjects: each consent chain, beside everything that witnesses it.

Five streams, each ordered by subject, are merged and checked one subject at a time:

- the chain itself (``consent_events``): sequence, links, hashes;
- its head row (``consent_heads``), which must be the chain's last event;
- the heads checkpoints sealed (``checkpoint_heads``), which must still be in the chain;
- its consent state (``consent_state``), which must be the chain's last decision per purpose;
- the audit events that record its decisions (``consent.*`` in ``audit_events``): every
  event has exactly one, in the same order, saying the same thing, and every such audit
  event has its consent event. The audit trail is a second, independent chain, so a consent
  event deleted with its chain's head and state patched to match still leaves its audit
  event behind, and an audit tail truncated with its head leaves consent events that no
  audit event records.

How a chain and its audit events are paired is ``audit_link``'s. Every row is parsed before
it is used (``rows``); a malformed one is a finding and the check goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, func, select

from pledge.consent.audit_checks import CONSENT
from pledge.consent.audit_link import EVENT_COLUMNS, TRAIL_COLUMNS, Parsed, Trail
from pledge.consent.chain import HASHED_FIELDS, by_subject
from pledge.consent.findings import ConsentRange, Findings
from pledge.consent.rows import RowParser, label, malformed, raw_columns
from pledge.proof import GENESIS, record_hash
from pledge.store.tables import (
    audit_events,
    checkpoint_heads,
    consent_events,
    consent_heads,
    consent_state,
)

Tick = Callable[[int], None]

HEAD_COLUMNS = ("subject_id", "seq", "hash")
MARK_COLUMNS = ("subject_id", "checkpoint_seq", "seq", "hash")
STATE_COLUMNS = ("subject_id", "purpose", "decision", "event_id", "guardian_id")

# Positions in a consent event row as selected (EVENT_COLUMNS).
_SEQ, _ID, _PURPOSE, _DECISION, _GUARDIAN = (
    EVENT_COLUMNS.index(name) for name in ("seq", "id", "purpose", "decision", "guardian_id")
)
_PREV, _HASH = EVENT_COLUMNS.index("prev_hash"), EVENT_COLUMNS.index("hash")

_DECIDING = frozenset({"seq", "purpose", "decision", "id", "guardian_id"})
_ANY_PURPOSE = object()  # a malformed purpose: which purpose's decision it hides is unknown


def _within(connection: Connection, query: Any, column: Any, task: ConsentRange) -> Any:
    key = by_subject(connection, column)
    if task.low is not None:
        query = query.where(key >= task.low)
    if task.high is not None:
        query = query.where(key < task.high)
    return query


def check_consent(
    connection: Connection,
    task: ConsentRange,
    batch: int,
    findings: Findings,
    tick: Tick | None,
) -> None:
    """Check the chains of ``task``'s subjects and everything that witnesses them.

    Args:
        connection: a snapshot.
        task: the range of subjects.
        batch: rows fetched at a time.
        findings: where problems and counts go.
        tick: progress, or None.
    """
    add = findings.add
    # substr, not LIKE: LIKE ignores case on SQLite, and the audit check must agree exactly
    # on which events are left to this check.
    trail = select(*raw_columns(connection, audit_events, TRAIL_COLUMNS)).where(
        func.substr(audit_events.c.action, 1, len(CONSENT)) == CONSENT
    )
    plans = [
        (consent_events, EVENT_COLUMNS, (consent_events.c.seq,), _event_record),
        (consent_heads, HEAD_COLUMNS, (), lambda row: f"subject {label(row[0])}"),
        (checkpoint_heads, MARK_COLUMNS, (checkpoint_heads.c.checkpoint_seq,), _mark_record),
        (consent_state, STATE_COLUMNS, (consent_state.c.purpose,), _state_record),
    ]
    streams: list[Iterable[Parsed]] = []
    for table, names, then, record in plans:
        query = select(*raw_columns(connection, table, names))
        query = _within(connection, query, table.c.subject_id, task)
        query = query.order_by(by_subject(connection, table.c.subject_id), *then)
        rows = connection.execute(query, execution_options={"yield_per": batch})
        streams.append(_parsed(rows, RowParser(connection, table, names), table.name, add, record))
    trail = _within(connection, trail, audit_events.c.subject_id, task).order_by(
        by_subject(connection, audit_events.c.subject_id), audit_events.c.seq
    )
    rows = connection.execute(trail, execution_options={"yield_per": batch})
    # Malformed audit rows are the audit check's to report; here they are only left out.
    streams.append(_parsed(rows, RowParser(connection, audit_events, TRAIL_COLUMNS), "", None))
    checker = _ChainChecker(findings)
    next_tick = batch
    for subject_id, (chain, head, marked, state, recorded) in _merge(*streams):
        checker.check(subject_id, chain, head, marked, state, recorded)
        if tick is not None and checker.events >= next_tick:
            tick(checker.events)
            next_tick = checker.events + batch
    findings.counts.update(
        subjects=checker.subjects,
        consent_events=checker.events,
        checkpoint_heads=checker.marks,
        consent_states=checker.states,
    )


def _event_record(row: list[Any]) -> str:
    return f"event {label(row[_ID])} (subject {label(row[0])})"


def _mark_record(row: list[Any]) -> str:
    return f"checkpoint {row[1]} subject {label(row[0])} seq {row[2]}"


def _state_record(row: list[Any]) -> str:
    return f"subject {label(row[0])} purpose {label(row[1])}"


def _parsed(
    rows: Iterable[Any],
    parse: RowParser,
    table: str,
    add: Callable[[str, str, str], None] | None,
    record: Callable[[list[Any]], str] | None = None,
) -> Iterator[Parsed]:
    """Parsed rows; a row whose subject id is malformed is reported (when ``add``) and left
    out, since it belongs to no subject."""
    for stored in rows:
        row, complaints = parse(stored)
        if "subject_id" in complaints:
            if add is not None and record is not None:
                add(table, record(row), malformed(complaints))
            continue
        yield row[0], row, complaints


class _ChainChecker:
    """Checks one subject at a time: its chain, head row, sealed heads, state and audit events."""

    def __init__(self, findings: Findings) -> None:
        self.add = findings.add
        self.subjects = self.events = self.marks = self.states = 0

    def check(
        self,
        subject_id: str,
        chain: list[Parsed],
        head: list[Parsed],
        marked: list[Parsed],
        state: list[Parsed],
        recorded: list[Parsed],
    ) -> None:
        add = self.add
        trail = Trail(subject_id, recorded, add)
        hashes: dict[int, Any] = {}
        last: dict[str, tuple[Any, Any, Any]] = {}
        # purpose → the malformed events that may be its last decision, by id
        hidden: dict[Any, dict[Any, tuple[Any, Any, Any]]] = {}
        previous, expected = GENESIS, 1
        for _, row, complaints in chain:
            seq = row[_SEQ]
            placed = type(seq) is int
            wrong = [malformed(complaints)] if complaints else []
            if placed:
                if seq != expected:
                    wrong.append(
                        f"sequence breaks: expected seq {expected} (an event is missing or moved)"
                    )
                if row[_PREV] != previous:
                    wrong.append("prev_hash does not link to the previous event's hash")
            if not complaints:
                content = dict(zip(HASHED_FIELDS, row[:_PREV], strict=True))
                if record_hash(row[_PREV], content) != row[_HASH]:
                    wrong.append("hash does not match the event's content (edited)")
            wrong += trail.match(row, complaints, placed)
            if wrong:
                where = f"subject {subject_id} seq {seq}" if placed else _event_record(row)
                add("consent_events", where, "; ".join(wrong))
            if placed:
                hashes[seq] = row[_HASH]
                previous, expected = row[_HASH], seq + 1
            if placed and not _DECIDING & complaints.keys():
                last[row[_PURPOSE]] = (row[_DECISION], row[_ID], row[_GUARDIAN])
            elif "purpose" in complaints or "id" in complaints:
                hidden.setdefault(_ANY_PURPOSE, {})
            else:
                decided = (row[_DECISION], row[_ID], row[_GUARDIAN])
                hidden.setdefault(row[_PURPOSE], {})[row[_ID]] = decided
        if chain:
            self.subjects += 1
            self.events += len(chain)
        self._check_head(subject_id, len(hashes), head, expected - 1, previous)
        self._check_marks(subject_id, hashes, head, marked)
        self._check_state(subject_id, last, state, hidden)
        trail.report_unmatched()

    def _check_head(
        self, subject_id: str, placed: int, head: list[Parsed], end: int, end_hash: Any
    ) -> None:
        if not head:
            if placed:
                self.add(
                    "consent_heads",
                    f"subject {subject_id}",
                    f"no head row for a chain of {placed} events (head deleted)",
                )
            return
        _, (_, seq, head_hash), complaints = head[0]
        if complaints:
            self.add("consent_heads", f"subject {subject_id}", malformed(complaints))
        elif not placed:
            self.add(
                "consent_heads",
                f"subject {subject_id} seq {seq}",
                "head row points to a chain with no events (the chain was deleted)",
            )
        elif seq != end or head_hash != end_hash:
            self.add(
                "consent_heads",
                f"subject {subject_id} seq {seq}",
                f"head row does not match the last event (seq {end}): the chain was"
                " truncated, extended or rewritten",
            )

    def _check_marks(
        self, subject_id: str, hashes: dict[int, Any], head: list[Parsed], marked: list[Parsed]
    ) -> None:
        for _, (_, checkpoint_seq, seq, sealed_hash), complaints in marked:
            self.marks += 1
            where = f"checkpoint {checkpoint_seq} subject {subject_id} seq {seq}"
            if complaints:
                self.add("checkpoint_heads", where, malformed(complaints))
            elif seq not in hashes:
                gone = "its head row is gone too" if not head else "the chain is shorter"
                self.add(
                    "checkpoint_heads",
                    where,
                    f"the sealed event no longer exists (chain deleted or truncated; {gone})",
                )
            elif hashes[seq] != sealed_hash:
                self.add(
                    "checkpoint_heads", where, "the event at this seq differs from the sealed one"
                )

    def _check_state(
        self,
        subject_id: str,
        last: dict[str, tuple[Any, Any, Any]],
        state: list[Parsed],
        hidden: dict[Any, dict[Any, tuple[Any, Any, Any]]],
    ) -> None:
        """Each state row must be its purpose's last decision. Where a malformed event (itself
        reported) may be the last, the state may be that event's decision instead; where a
        malformed event's purpose is unknown, no state row is compared."""
        unknown = _ANY_PURPOSE in hidden
        seen = set()
        for _, (_, purpose, decision, event_id, guardian_id), complaints in state:
            self.states += 1
            where = f"subject {subject_id} purpose {label(purpose)}"
            if complaints:
                self.add("consent_state", where, malformed(complaints))
                if "purpose" not in complaints:
                    seen.add(purpose)
                continue
            seen.add(purpose)
            expected = hidden.get(purpose, {}).get(event_id) or last.get(purpose)
            if unknown:
                continue
            if expected is None:
                self.add("consent_state", where, "state row without any consent event")
            elif expected != (decision, event_id, guardian_id):
                self.add(
                    "consent_state",
                    where,
                    f"state says {decision} (event {event_id}) but the chain's last decision is"
                    f" {expected[0]} (event {expected[1]})",
                )
        for purpose in [] if unknown else sorted(set(last) - seen - hidden.keys()):
            self.add(
                "consent_state",
                f"subject {subject_id} purpose {purpose}",
                f"no state row for the chain's last decision ({last[purpose][0]})",
            )


def _merge(*streams: Iterable[Parsed]) -> Iterator[tuple[str, list[list[Parsed]]]]:
    """Rows of several streams sorted by subject id, grouped per subject."""
    groups = [_grouped(stream) for stream in streams]
    current = [next(group, None) for group in groups]
    while True:
        keys = [item[0] for item in current if item is not None]
        if not keys:
            return
        subject_id = min(keys)
        parts: list[list[Parsed]] = []
        for index, item in enumerate(current):
            if item is not None and item[0] == subject_id:
                parts.append(item[1])
                current[index] = next(groups[index], None)
            else:
                parts.append([])
        yield subject_id, parts


def _grouped(rows: Iterable[Parsed]) -> Iterator[tuple[str, list[Parsed]]]:
    key: str | None = None
    group: list[Parsed] = []
    for row in rows:
        if row[0] != key:
            if group:
                yield key or "", group
            key, group = row[0], [row]
        else:
            group.append(row)
    if group:
        yield key or "", group
