"""The lifecycle of a subject request: its moves from state to state, each audited.

:class:`RequestLifecycle` is what the use cases of
:class:`~pledge.requests.service.SubjectRequests` stand on, and what the job carrying a request
out in the datastores calls: a move checks the transition, updates the row and writes its audit
event in one transaction (with, optionally, more work of the caller's in the same
transaction), then returns the request as it is now. Denial and extension are moves too: a
staff member's decisions on the request's course, each with its reason. A message to the
person is queued in the transaction of the move that decides it (:class:`Notifier`), and goes
out once it has committed: a move rolled back tells nobody; one committed is told, even when
the mail server is down or the process dies right after (the mail is retried until sent).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping, update

from pledge.clock import Clock
from pledge.declaration.model import Declaration
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import RequestError, UsageError
from pledge.requests import messages, records
from pledge.requests.model import (
    Denial,
    DenialGround,
    Regime,
    RequestState,
    RequestType,
    SubjectRequest,
    check_transition,
    complaint_text,
)
from pledge.requests.notifier import Message, Notifier
from pledge.store.database import Database
from pledge.store.tables import subject_requests as requests_table
from pledge.subjects.crypto import KeyDestroyed
from pledge.subjects.service import Subjects

_E = TypeVar("_E", RequestType, Regime, RequestState, DenialGround)

ACTOR_LIMIT = 100
"""The longest actor an audit event records."""


class RequestLifecycle:
    """A request's moves from state to state, each committed with its audit event.

    Args:
        database: Pledge's store.
        declaration: the declaration in force (the controller, the supervisory authority).
        subjects: decrypts what is stored under the subject's key.
        clock: the time source.
        notifier: where messages to people go.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        subjects: Subjects,
        clock: Clock,
        notifier: Notifier,
    ) -> None:
        self.database = database
        self.subjects = subjects
        self.clock = clock
        self.notifier = notifier
        self.company = declaration.controller.name
        authority = declaration.controller.supervisory_authority
        self._authority = (
            (authority.name, str(authority.url) if authority.url else None)
            if authority
            else (None, None)
        )

    # --- deciding -----------------------------------------------------------------------------

    def deny(
        self,
        request_id: str,
        reason: str,
        *,
        ground: DenialGround | str = DenialGround.OTHER,
        actor: str,
    ) -> SubjectRequest:
        """Refuse a request, with its reason and the right to complain; the person is told.

        Args:
            request_id: the request.
            reason: why, in words for the person (no personal data: it is audited).
            ground: identity_not_verified, manifestly_unfounded, excessive, legal_exception
                or other (GDPR Art. 12(5): the justification is recorded).
            actor: who decides.

        Raises:
            NotFound: no such request.
            UsageError: no reason, or an unknown ground.
            RequestError: the request is past being denied.
        """
        cause = choice(DenialGround, ground, "denial ground")
        if not reason.strip():
            raise UsageError("a denial needs a reason: the person must be told why")
        now = self.clock()
        with self.database.transaction() as connection:
            row = records.row(connection, request_id, lock=True)
            check_transition(RequestState(row["state"]), RequestState.DENIED)
            denial = Denial(
                cause, reason.strip(), complaint_text(Regime(row["regime"]), *self._authority)
            )
            connection.execute(
                update(requests_table)
                .where(requests_table.c.id == request_id)
                .values(
                    state=RequestState.DENIED,
                    denial_ground=str(cause),
                    denial_reason=denial.reason,
                    denial_complaint=denial.complaint,
                    **records.closing(row, now),
                )
            )
            self._audit(
                connection,
                "request.denied",
                actor,
                row,
                {"ground": str(cause), "reason": denial.reason},
            )
            contact = self._read_contact(connection, row)
            if contact is not None:
                self.notifier.queue(
                    connection, messages.denied(self.company, contact, request_id, denial)
                )
        return self.get(request_id)

    def extend(
        self, request_id: str, reason: str, *, by: int | None = None, actor: str
    ) -> SubjectRequest:
        """Extend the deadline, before the first deadline and with a reason; the person is told.

        Args:
            request_id: the request.
            reason: why more time is needed (no personal data: it is audited).
            by: how much, in the regime's unit (GDPR months, CCPA days); all that is left
                when omitted.
            actor: who decides.

        Raises:
            NotFound: no such request.
            RequestError: closed, no reason, past the first deadline, or beyond the maximum.
        """
        now = self.clock()
        with self.database.transaction() as connection:
            row = records.row(connection, request_id, lock=True)
            state = RequestState(row["state"])
            if state in records.ANSWERED_STATES or (
                state is RequestState.FAILED and not row["retryable"]
            ):
                raise RequestError(f"the request is {state}; there is nothing to extend")
            regime = Regime(row["regime"])
            rule = regime.rule
            amount = by if by is not None else rule.max_extension - row["extension"]
            rule.check_extension(
                received_at=row["received_at"],
                now=now,
                extended_so_far=row["extension"],
                by=amount,
                reason=reason,
            )
            total = row["extension"] + amount
            due_at = rule.deadline(row["received_at"], total)
            connection.execute(
                update(requests_table)
                .where(requests_table.c.id == request_id)
                .values(
                    extension=total,
                    due_at=due_at,
                    extension_reason=reason.strip(),
                    extended_at=now,
                    updated_at=now,
                )
            )
            details = {
                "by": amount,
                "unit": rule.unit,
                "due_at": due_at.isoformat(),
                "reason": reason.strip(),
            }
            self._audit(connection, "request.extended", actor, row, details)
            contact = self._read_contact(connection, row)
            if contact is not None:
                told = messages.extended(self.company, contact, request_id, reason.strip(), due_at)
                self.notifier.queue(connection, told)
        return self.get(request_id)

    # --- carrying out -------------------------------------------------------------------------

    def mark_planned(
        self,
        request_id: str,
        *,
        actor: str,
        also: Callable[[Connection], None] | None = None,
    ) -> SubjectRequest:
        """Record that the request was approved and planned.

        Args:
            request_id: the request.
            actor: who approved it.
            also: more work for the same transaction (queuing the request's job).
        """
        return self._move(request_id, RequestState.PLANNED, actor, "request.planned", {}, also=also)

    def mark_running(self, request_id: str, *, actor: str) -> SubjectRequest:
        """Record that execution started."""
        return self._move(request_id, RequestState.RUNNING, actor, "request.running", {})

    def complete(
        self,
        request_id: str,
        *,
        actor: str,
        result: Mapping[str, Any] | None = None,
        also: Callable[[Connection], None] | None = None,
    ) -> SubjectRequest:
        """Record that the request was carried out; the person is told.

        Args:
            request_id: the request.
            actor: who carried it out.
            result: what was done, without personal data (audited).
            also: more work for the same transaction.
        """

        def told(done: SubjectRequest, contact: str) -> Message:
            return messages.completed(self.company, contact, request_id, done.type, result)

        return self._move(
            request_id,
            RequestState.COMPLETED,
            actor,
            "request.completed",
            dict(result or {}),
            also=also,
            tell=told,
        )

    def fail(self, request_id: str, reason: str, *, retryable: bool, actor: str) -> SubjectRequest:
        """Record that carrying out the request failed.

        Args:
            request_id: the request.
            reason: what went wrong (no personal data: it is audited).
            retryable: whether :meth:`retry` may try again.
            actor: who reports it.
        """
        return self._move(
            request_id,
            RequestState.FAILED,
            actor,
            "request.failed",
            {"reason": reason, "retryable": retryable},
            failure=reason,
            retryable=retryable,
        )

    # --- reading ------------------------------------------------------------------------------

    def get(self, request_id: str) -> SubjectRequest:
        """A request with its details decrypted (None once the subject was erased).

        Raises:
            NotFound: no such request.
        """
        with self.database.read() as connection:
            return self._record(connection, records.row(connection, request_id), self.clock())

    def _record(
        self, connection: Connection, row: RowMapping | Mapping[str, Any], now: dt.datetime
    ) -> SubjectRequest:
        """The request of ``row``, its details decrypted (None once the subject was erased)."""
        details: Mapping[str, Any] | None
        try:
            plain = self.subjects.decrypt(
                connection,
                row["subject_id"],
                records.details_field(row["id"]),
                row["details_encrypted"],
            )
            details = json.loads(plain)
        except KeyDestroyed:
            details = None
        return records.record(row, now, details)

    # --- shared steps -------------------------------------------------------------------------

    def _read_contact(
        self, connection: Connection, row: RowMapping | Mapping[str, Any]
    ) -> str | None:
        if row["contact_encrypted"] is None:
            return None
        try:
            return self.subjects.decrypt(
                connection,
                row["subject_id"],
                records.contact_field(row["id"]),
                row["contact_encrypted"],
            ).decode()
        except KeyDestroyed:
            return None

    def _confirm_receipt(
        self, connection: Connection, request_id: str, subject_id: str, now: dt.datetime, actor: str
    ) -> None:
        confirmed = connection.execute(
            update(requests_table)
            .where(
                requests_table.c.id == request_id, requests_table.c.receipt_confirmed_at.is_(None)
            )
            .values(receipt_confirmed_at=now)
        ).rowcount
        if confirmed:
            self._audit(
                connection,
                "request.receipt_confirmed",
                actor,
                {"id": request_id, "subject_id": subject_id},
                {},
            )

    def _mark_verified(
        self,
        connection: Connection,
        request_id: str,
        subject_id: str,
        now: dt.datetime,
        *,
        method: str,
        note: str | None,
        actor: str,
    ) -> None:
        connection.execute(
            update(requests_table)
            .where(requests_table.c.id == request_id)
            .values(
                state=RequestState.VERIFIED,
                verification=method,
                verification_note=note,
                verified_at=now,
                code_salt=None,
                code_hash=None,
                code_expires_at=None,
                updated_at=now,
            )
        )
        details: dict[str, Any] = {"method": method}
        if note is not None:
            details["reason"] = note
        self._audit(
            connection,
            "request.verified",
            actor,
            {"id": request_id, "subject_id": subject_id},
            details,
        )

    def _move(
        self,
        request_id: str,
        target: RequestState,
        actor: str,
        action: str,
        details: dict[str, Any],
        *,
        also: Callable[[Connection], None] | None = None,
        tell: Callable[[SubjectRequest, str], Message] | None = None,
        **values: Any,
    ) -> SubjectRequest:
        """Move a request to ``target`` with its audit event (and ``also``), in one transaction;
        with ``tell``, the message it makes of the request as moved and the person's contact
        address (when there is one) is queued to them in that transaction."""
        now = self.clock()
        with self.database.transaction() as connection:
            row = records.row(connection, request_id, lock=True)
            check_transition(RequestState(row["state"]), target, retryable=bool(row["retryable"]))
            changes: dict[str, Any] = {"state": str(target), "updated_at": now, **values}
            if target in (RequestState.COMPLETED, RequestState.FAILED):
                changes.update(records.closing(row, now))
            if target is RequestState.VERIFIED:
                changes.update(closed_at=None, retryable=False)
            connection.execute(
                update(requests_table).where(requests_table.c.id == request_id).values(**changes)
            )
            self._audit(connection, action, actor, row, details)
            if also is not None:
                also(connection)
            moved = {**row, **changes}
            done = self._record(connection, moved, now)
            address = self._read_contact(connection, moved) if tell is not None else None
            if tell is not None and address is not None:
                self.notifier.queue(connection, tell(done, address))
            return done

    def _audit(
        self,
        connection: Connection,
        action: str,
        actor: str,
        row: Mapping[str, Any] | RowMapping,
        details: Mapping[str, Any],
    ) -> None:
        audit.record(
            connection,
            AuditEntry(
                action,
                actor[:ACTOR_LIMIT],
                row["subject_id"],
                details={"request_id": row["id"], **details},
            ),
            clock=self.clock,
        )


def choice(kind: type[_E], value: Any, name: str) -> _E:
    """``value`` as a member of the enumeration ``kind``.

    Raises:
        UsageError: not one of its values (the message names them, and ``name``).
    """
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(item.value for item in kind)
        raise UsageError(f"unknown {name} {value!r}; use one of {choices}") from None


__all__ = ["ACTOR_LIMIT", "RequestLifecycle", "choice"]
