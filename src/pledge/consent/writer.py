"""Appending decisions to the subjects' chains: many at once, inside the caller's transaction.

:class:`ChainWriter` writes a batch of :class:`~pledge.consent.model.RecordConsent` commands
with a fixed number of statements whatever the batch's size: one query checks the subjects,
one locks their chain heads (inserting the missing ones), then the events, the heads, the
consent state and the audit events are each written with one ``executemany``. Several
decisions about one subject take consecutive places in its chain, in the batch's order.

Locks, on PostgreSQL, are always taken in the same order by every writer, so that writers
wait for each other but never deadlock: the subjects' rows (shared, so that an erasure or an
age change waits for the batch, and the batch sees one that committed first), then the chain
heads, both in subject id order, and the audit head last, for as short a time as possible.
SQLite has one writer at a time and needs none of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pledge.clock import Clock
from pledge.consent.chain import event_content
from pledge.consent.model import ConsentDecision, ConsentEvent, RecordConsent
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import ConsentError, NotFound, PledgeError
from pledge.ids import new_id
from pledge.proof import GENESIS, record_hash
from pledge.store.changes import SUBJECT, announce
from pledge.store.tables import consent_events, consent_heads, consent_state, subjects
from pledge.subjects.crypto import KeyDestroyed
from pledge.subjects.service import Subjects

Outcome = list[ConsentEvent] | Exception
"""What became of one unit of commands: its events, or why it was refused (then none is written)."""

_STATE_CHANGES = ("decision", "guardian_id", "event_id", "updated_at")


class ChainWriter:
    """Appends checked commands to their subjects' chains, with the state and audit events.

    Args:
        subjects: the subjects service (the data keys that encrypt the evidence).
        declaration_version: the policy version recorded on every event.
        declaration_digest: the declaration's digest recorded on every event.
        clock: the time source.
    """

    def __init__(
        self,
        subjects: Subjects,
        *,
        declaration_version: str,
        declaration_digest: str,
        clock: Clock,
    ) -> None:
        self.subjects = subjects
        self.declaration_version = declaration_version
        self.declaration_digest = declaration_digest
        self.clock = clock

    def append(
        self, connection: Connection, units: Sequence[Sequence[RecordConsent]]
    ) -> list[Outcome]:
        """Append units of commands in ``connection``'s transaction; the caller commits.

        A unit is the decisions of one caller, written all or none: a unit with a command
        whose subject is unknown, erased, or a child granting without the recorded guardian
        is refused whole (its outcome is the first such error, as
        :meth:`ConsentLedger.record` raises it); the other units are written. An error of the
        database propagates: the caller rolls the whole transaction back.

        Args:
            connection: a connection in a write transaction.
            units: the decisions to record, grouped by caller, in the order they were made.

        Returns:
            One outcome per unit, in the same order: its events, or the error.
        """
        now = self.clock()
        outcomes: list[Outcome | None] = [None] * len(units)
        found = self._subjects(
            connection, {command.subject_id for unit in units for command in unit}
        )
        accepted: list[tuple[int, RecordConsent, str, bytes | None]] = []
        for index, unit in enumerate(units):
            prepared: list[tuple[int, RecordConsent, str, bytes | None]] = []
            try:
                for command in unit:  # every check first: a refused unit encrypts nothing
                    _check_subject(found.get(command.subject_id), command, now)
                for command in unit:
                    event_id = new_id()
                    evidence = self._seal(connection, command, event_id)
                    prepared.append((index, command, event_id, evidence))
            except (PledgeError, KeyDestroyed) as error:
                outcomes[index] = error
                continue
            accepted += prepared
            outcomes[index] = []
        if not accepted:
            return _complete(outcomes)
        heads = self._lock_heads(connection, {command.subject_id for _, command, _, _ in accepted})
        events: list[dict[str, Any]] = []
        entries: list[AuditEntry] = []
        states: dict[tuple[str, str], dict[str, Any]] = {}
        for index, command, event_id, sealed in accepted:
            seq, previous = heads[command.subject_id]
            row: dict[str, Any] = {
                "id": event_id,
                "subject_id": command.subject_id,
                "seq": seq + 1,
                "purpose": command.purpose,
                "decision": command.decision.value,
                "channel": command.channel.value,
                "actor": command.actor,
                "declaration_version": self.declaration_version,
                "declaration_digest": self.declaration_digest,
                "notice_hash": command.notice_hash,
                "guardian_id": command.guardian_id,
                "evidence_encrypted": sealed,
                "occurred_at": now,
            }
            digest = record_hash(previous, event_content(row))
            heads[command.subject_id] = (seq + 1, digest)
            events.append({**row, "prev_hash": previous, "hash": digest})
            states[command.subject_id, command.purpose] = {  # the last of the batch stays
                "subject_id": command.subject_id,
                "purpose": command.purpose,
                "decision": row["decision"],
                "guardian_id": command.guardian_id,
                "event_id": event_id,
                "updated_at": now,
            }
            entries.append(_audit_entry(command, event_id, seq + 1, now))
            written = outcomes[index]
            assert isinstance(written, list)
            written.append(_event(command, row, previous, digest))
        connection.execute(_INSERT_EVENTS, events)
        _move_heads(connection, heads, now)
        _upsert_states(connection, list(states.values()))
        # Other processes' caches hear of it from the feed of changes once this commits.
        announce(connection, None, SUBJECT, sorted(heads), clock=self.clock)
        audit.append(connection, entries, clock=self.clock)  # its lock last: held briefly
        return _complete(outcomes)

    def _seal(self, connection: Connection, command: RecordConsent, event_id: str) -> bytes | None:
        """The command's evidence, encrypted under its subject's key for this event."""
        if command.evidence is None:
            return None
        return self.subjects.encrypt(
            connection, command.subject_id, evidence_field(event_id), command.evidence.to_json()
        )

    def _subjects(self, connection: Connection, subject_ids: set[str]) -> dict[str, Any]:
        rows = connection.execute(_SUBJECTS, {"subject_ids": sorted(subject_ids)})
        return {row.id: row for row in rows}

    def _lock_heads(self, connection: Connection, subject_ids: set[str]) -> dict[str, Any]:
        def locked(among: set[str]) -> dict[str, Any]:
            rows = connection.execute(_HEADS, {"subject_ids": sorted(among)})
            return {row.subject_id: (row.seq, row.hash) for row in rows}

        heads = locked(subject_ids)
        missing = subject_ids - heads.keys()
        if missing:
            # First events: create the heads. A writer in another process creating the same
            # head waits for ours on the row, and finds it when it reads the heads again.
            now = self.clock()
            connection.execute(
                _NEW_HEADS.get(connection.dialect.name, _INSERT_HEADS),
                [
                    {"subject_id": subject_id, "seq": 0, "hash": GENESIS, "updated_at": now}
                    for subject_id in sorted(missing)
                ],
            )
            heads.update(locked(missing))
        return heads


def evidence_field(event_id: str) -> str:
    """The field a consent event's evidence is encrypted for.

    Bound to the event: a ciphertext copied onto another event does not decrypt.
    """
    return f"consent/evidence/{event_id}"


def _complete(outcomes: list[Outcome | None]) -> list[Outcome]:
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(outcomes), "every command has an outcome"
    return done


def _check_subject(row: Any, command: RecordConsent, now: dt.datetime) -> None:
    subject_id, guardian_id = command.subject_id, command.guardian_id
    if row is None:
        raise NotFound(f"no subject {subject_id}")
    if row.erased_at is not None:
        raise NotFound(f"subject {subject_id} was erased")
    if guardian_id is not None and guardian_id != row.guardian_id:
        raise ConsentError(f"{guardian_id} is not the recorded guardian of {subject_id}")
    child = row.consent_age_from is not None and row.consent_age_from > now
    if child and command.decision is ConsentDecision.GRANTED and guardian_id is None:
        raise ConsentError(
            f"subject {subject_id} is too young to consent alone (GDPR Art. 8): the grant"
            " must be given by the recorded guardian (guardian_id)"
        )


def _audit_entry(command: RecordConsent, event_id: str, seq: int, now: dt.datetime) -> AuditEntry:
    details: dict[str, Any] = {"channel": command.channel.value, "event_id": event_id, "seq": seq}
    if command.guardian_id is not None:
        details["guardian_id"] = command.guardian_id
    return AuditEntry(
        f"consent.{command.decision.value}",
        command.actor,
        command.subject_id,
        command.purpose,
        details,
        now,
    )


def _event(command: RecordConsent, row: dict[str, Any], previous: str, digest: str) -> ConsentEvent:
    return ConsentEvent(
        id=row["id"],
        subject_id=command.subject_id,
        seq=row["seq"],
        purpose=command.purpose,
        decision=command.decision,
        channel=command.channel,
        actor=command.actor,
        declaration_version=row["declaration_version"],
        declaration_digest=row["declaration_digest"],
        notice_hash=command.notice_hash,
        guardian_id=command.guardian_id,
        occurred_at=row["occurred_at"],
        prev_hash=previous,
        hash=digest,
        evidence=command.evidence,
    )


def _move_heads(connection: Connection, heads: dict[str, Any], now: dt.datetime) -> None:
    connection.execute(
        _MOVE_HEAD,
        [
            {"head_subject_id": subject_id, "head_seq": seq, "head_hash": digest, "head_at": now}
            for subject_id, (seq, digest) in sorted(heads.items())
        ],
    )


def _upsert_states(connection: Connection, rows: list[dict[str, Any]]) -> None:
    upsert = _UPSERT_STATES.get(connection.dialect.name)
    if upsert is not None:
        connection.execute(upsert, rows)
        return
    for values in rows:
        updated = connection.execute(
            update(consent_state)
            .where(
                consent_state.c.subject_id == values["subject_id"],
                consent_state.c.purpose == values["purpose"],
            )
            .values(**{key: values[key] for key in _STATE_CHANGES})
        ).rowcount
        if not updated:
            connection.execute(insert(consent_state).values(**values))


def _upsert(builder: Any) -> Any:
    statement = builder(consent_state)
    return statement.on_conflict_do_update(
        index_elements=["subject_id", "purpose"],
        set_={key: statement.excluded[key] for key in _STATE_CHANGES},
    )


# The statements of every batch, built once: SQLAlchemy then reuses their compiled form
# without rebuilding them and their cache keys for each batch.
_SUBJECTS = (
    select(subjects.c.id, subjects.c.erased_at, subjects.c.consent_age_from, subjects.c.guardian_id)
    .where(subjects.c.id.in_(bindparam("subject_ids", expanding=True)))
    .order_by(subjects.c.id)
    .with_for_update(read=True)
)
_HEADS = (
    select(consent_heads.c.subject_id, consent_heads.c.seq, consent_heads.c.hash)
    .where(consent_heads.c.subject_id.in_(bindparam("subject_ids", expanding=True)))
    .order_by(consent_heads.c.subject_id)
    .with_for_update()
)
_INSERT_HEADS = insert(consent_heads)
_NEW_HEADS = {  # a head another writer has just created is left as it is
    "postgresql": postgresql_insert(consent_heads).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(consent_heads).on_conflict_do_nothing(),
}
_MOVE_HEAD = (
    update(consent_heads)
    .where(consent_heads.c.subject_id == bindparam("head_subject_id"))
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"), updated_at=bindparam("head_at"))
)
_INSERT_EVENTS = insert(consent_events)
_UPSERT_STATES = {"postgresql": _upsert(postgresql_insert), "sqlite": _upsert(sqlite_insert)}
