"""Objections (GDPR Art. 21), and reading everything a decision depends on about a subject.

An objection has a scope: a purpose key (processing based on legitimate interests or a
public task, used for direct marketing, or selling or sharing personal information, where an
objection is the person's opt-out, CCPA 1798.120), ``*`` (every purpose based on legitimate
interests or a public task), ``direct_marketing`` (every direct-marketing purpose; absolute,
Art. 21(3)) or ``limit_sensitive`` (the person's limit on the use of their sensitive personal
information, CCPA 1798.121). Recording and lifting are committed with their audit event in one
transaction, before the caller is told (or in the caller's transaction, ``connection=``); then
``on_change`` lets the decision cache forget the subject. The
audit event names the channel the objection came through when it is given (``api``, ``gpc``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from pledge.clock import Clock, utc_now
from pledge.declaration.model import Declaration
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.enforcement.model import LIMIT_SENSITIVE, ConsentRecord, SubjectState, rules_for
from pledge.errors import NotFound
from pledge.ids import new_id
from pledge.store.changes import SUBJECT, announce
from pledge.store.database import Database, after_commit
from pledge.store.tables import consent_state, objections, subjects

_SUBJECT_COLUMNS = (
    subjects.c.restricted,
    subjects.c.erased_at,
    subjects.c.consent_age_from,
    subjects.c.guardian_id,
)
_CONSENTS = select(
    consent_state.c.purpose,
    consent_state.c.decision,
    consent_state.c.guardian_id,
    consent_state.c.updated_at,
).where(consent_state.c.subject_id == bindparam("subject"))


@dataclass(frozen=True, slots=True)
class Objection:
    """An objection a subject made.

    Args:
        id: the objection's id.
        subject_id: who objected.
        scope: a purpose key, ``*`` or ``direct_marketing``.
        created_at: when it was recorded.
        lifted_at: when it was lifted, or None while it stands.
    """

    id: str
    subject_id: str
    scope: str
    created_at: dt.datetime
    lifted_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The objection as plain JSON-ready data."""
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "scope": self.scope,
            "created_at": self.created_at.isoformat(),
            "lifted_at": self.lifted_at.isoformat() if self.lifted_at else None,
        }


class Objections:
    """Record and lift objections.

    Args:
        database: Pledge's store.
        declaration: the declaration in force (scopes are checked against it).
        clock: the time source.
        on_change: called with the subject id after every committed change.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        *,
        clock: Clock = utc_now,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.database = database
        self.rules = rules_for(declaration)
        self.clock = clock
        self.on_change = on_change

    def record(
        self,
        subject_id: str,
        scope: str,
        *,
        actor: str,
        channel: str | None = None,
        connection: Connection | None = None,
    ) -> Objection:
        """Record that the subject objects to ``scope``; recording it again changes nothing.

        Args:
            subject_id: who objects.
            scope: a purpose key, ``*`` or ``direct_marketing``.
            actor: who records it (``sdk``, ``api:<key>``, ``staff:<name>`` …).
            channel: where the person objected (``api``, ``gpc`` …), for the audit trail.
            connection: the caller's transaction, to record the objection in it (with other
                changes that must stand or fall together); ``on_change`` is then called once
                that transaction commits. Without it the objection commits on its own.

        Returns:
            The objection in force (the earlier one when it already stood).

        Raises:
            NotFound: no such subject, or no such purpose.
            UsageError: an objection cannot apply to that purpose (consent, contract …).
        """
        objection, _ = self.ensure(
            subject_id, scope, actor=actor, channel=channel, connection=connection
        )
        return objection

    def ensure(
        self,
        subject_id: str,
        scope: str,
        *,
        actor: str,
        channel: str | None = None,
        connection: Connection | None = None,
    ) -> tuple[Objection, bool]:
        """:meth:`record`, also telling whether the objection is new.

        Returns:
            The objection in force, and True when this call recorded it.

        Raises:
            NotFound: no such subject, or no such purpose.
            UsageError: an objection cannot apply to that purpose.
        """
        self.rules.check_scope(scope)
        if connection is None:
            with self.database.transaction() as own:
                return self.ensure(subject_id, scope, actor=actor, channel=channel, connection=own)
        _require_subject(connection, subject_id)
        objection, new = record_in(
            connection, subject_id, scope, actor=actor, channel=channel, clock=self.clock
        )
        if new:
            after_commit(connection, lambda: self._changed(subject_id))
        return objection, new

    def lift(
        self, subject_id: str, scope: str, *, actor: str, channel: str | None = None
    ) -> Objection | None:
        """Lift the subject's objection to ``scope``.

        Args:
            subject_id: whose objection.
            scope: the scope it was recorded with.
            actor: who lifts it.
            channel: where the person took it back (``api`` …), for the audit trail.

        Returns:
            The lifted objection, or None when none stood.

        Raises:
            NotFound: no such subject.
        """
        with self.database.transaction() as connection:
            _require_subject(connection, subject_id)
            standing = _standing(connection, subject_id, scope)
            if standing is None:
                return None
            now = self.clock()
            connection.execute(
                update(objections).where(objections.c.id == standing.id).values(lifted_at=now)
            )
            audit.record(
                connection,
                AuditEntry("objection.lifted", actor, subject_id, details=_details(scope, channel)),
                clock=self.clock,
            )
            announce(connection, None, SUBJECT, [subject_id], clock=self.clock)
        self._changed(subject_id)
        return Objection(standing.id, subject_id, scope, standing.created_at, now)

    def standing(self, subject_id: str) -> list[Objection]:
        """The subject's objections in force, oldest first.

        Args:
            subject_id: the subject.

        Returns:
            The standing objections.
        """
        with self.database.read() as connection:
            rows = connection.execute(
                select(objections)
                .where(objections.c.subject_id == subject_id, objections.c.lifted_at.is_(None))
                .order_by(objections.c.id)
            ).mappings()
            return [_objection(row) for row in rows]

    def history(self, subject_id: str) -> list[Objection]:
        """Every objection the subject made, lifted ones included, oldest first.

        Args:
            subject_id: the subject.

        Returns:
            The objections.

        Raises:
            NotFound: no such subject.
        """
        with self.database.read() as connection:
            _require_subject(connection, subject_id)
            rows = connection.execute(
                select(objections)
                .where(objections.c.subject_id == subject_id)
                .order_by(objections.c.id)
            ).mappings()
            return [_objection(row) for row in rows]

    def _changed(self, subject_id: str) -> None:
        if self.on_change is not None:
            self.on_change(subject_id)


def load_state(connection: Connection, subject_id: str) -> SubjectState:
    """Read what decisions depend on about a subject: one query per table.

    Args:
        connection: an open connection.
        subject_id: the subject.

    Returns:
        The subject's consent decisions, standing objections, restriction, erasure and age.

    Raises:
        NotFound: no such subject.
    """
    row = connection.execute(
        select(*_SUBJECT_COLUMNS).where(subjects.c.id == subject_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no subject {subject_id}")
    consents = {
        purpose: ConsentRecord(decision, guardian_id, decided_at)
        for purpose, decision, guardian_id, decided_at in connection.execute(
            _CONSENTS, {"subject": subject_id}
        )
    }
    standing: dict[str, dt.datetime] = dict(
        connection.execute(
            select(objections.c.scope, objections.c.created_at).where(
                objections.c.subject_id == subject_id, objections.c.lifted_at.is_(None)
            )
        ).all()
    )
    return SubjectState(
        subject_id=subject_id,
        consents=consents,
        objections=frozenset(standing),
        restricted=bool(row.restricted),
        erased=row.erased_at is not None,
        consent_age_from=row.consent_age_from,
        guardian_id=row.guardian_id,
        sensitive_limited_at=standing.get(LIMIT_SENSITIVE),
    )


def record_in(
    connection: Connection,
    subject_id: str,
    scope: str,
    *,
    actor: str,
    channel: str | None = None,
    clock: Clock = utc_now,
) -> tuple[Objection, bool]:
    """Record an objection in the caller's transaction, with its audit event.

    The scope must have been checked (:meth:`Rules.check_scope`), and the subject found.

    Args:
        connection: a connection in a write transaction.
        subject_id: who objects.
        scope: a purpose key, ``*`` or ``direct_marketing``.
        actor: who records it.
        channel: where the person objected (``api``, ``gpc`` …), kept in the audit event.
        clock: the time source.

    Returns:
        The objection in force, and whether this call recorded it (False when it stood).
    """
    standing = _standing(connection, subject_id, scope)
    if standing is not None:
        return standing, False
    now = clock()
    objection = Objection(new_id(), subject_id, scope, now)
    connection.execute(
        insert(objections).values(
            id=objection.id, subject_id=subject_id, scope=scope, created_at=now
        )
    )
    audit.record(
        connection,
        AuditEntry("objection.recorded", actor, subject_id, details=_details(scope, channel)),
        clock=clock,
    )
    announce(connection, None, SUBJECT, [subject_id], clock=clock)  # every process's caches
    return objection, True


def _details(scope: str, channel: str | None) -> dict[str, str]:
    return {"scope": scope} if channel is None else {"scope": scope, "channel": channel}


def _require_subject(connection: Connection, subject_id: str) -> None:
    found = connection.execute(
        select(subjects.c.id).where(subjects.c.id == subject_id)
    ).one_or_none()
    if found is None:
        raise NotFound(f"no subject {subject_id}")


def _standing(connection: Connection, subject_id: str, scope: str) -> Objection | None:
    row = (
        connection.execute(
            select(objections).where(
                objections.c.subject_id == subject_id,
                objections.c.scope == scope,
                objections.c.lifted_at.is_(None),
            )
        )
        .mappings()
        .first()
    )
    return _objection(row) if row is not None else None


def _objection(row: Any) -> Objection:
    return Objection(
        id=row["id"],
        subject_id=row["subject_id"],
        scope=row["scope"],
        created_at=row["created_at"],
        lifted_at=row["lifted_at"],
    )


__all__ = ["Objection", "Objections", "load_state", "record_in"]
