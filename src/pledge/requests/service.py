"""Subject requests: submit, verify with a one-time code, deny, extend, retry, list.

Every step is committed with its audit event in one transaction before the caller is told
(the moves themselves are :class:`~pledge.requests.lifecycle.RequestLifecycle`'s, the codes
:class:`~pledge.requests.codes.VerificationCodes`'). What the person asked for and where to
reach them are encrypted under the subject's key, so erasing the subject leaves a record of the
request (kept 24 months, CCPA §7101) that can no longer be read.

Restriction, lifting it, objection, unsubscribe and withdrawal of consent are carried out on
verification, through the services that decisions read (:class:`Subjects`,
:class:`Objections`, :class:`ConsentLedger`), so that they take effect in the very next
decision. The transaction that verifies such a request also queues its job: the effect is
applied in the same process right after, and should that process die in between, a runner
applies it once the job falls due (:data:`EFFECT_GRACE`). The other types wait for planning and
execution against the company's datastores.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from pledge.clock import Clock, utc_now
from pledge.consent.service import ConsentLedger
from pledge.declaration.model import Declaration
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.enforcement.objections import Objections
from pledge.errors import RequestError, UsageError
from pledge.ids import new_id
from pledge.jobs.service import Jobs
from pledge.requests import messages, records
from pledge.requests.codes import (
    CODE_DIGITS,
    CODE_LIFETIME,
    MAX_ATTEMPTS,
    VerificationCodes,
    wrong_code_message,
)
from pledge.requests.effects import ImmediateEffects
from pledge.requests.immediate import EFFECT_GRACE, ImmediateRequests
from pledge.requests.lifecycle import ACTOR_LIMIT, choice
from pledge.requests.model import (
    IMMEDIATE_TYPES,
    Regime,
    RequestState,
    RequestType,
    SubjectRequest,
    retain_until,
)
from pledge.requests.notifier import Notifier, Outbox
from pledge.store.database import Database
from pledge.store.tables import subject_requests as requests_table
from pledge.store.tables import subjects as subjects_table
from pledge.subjects.model import Identity, IdentityKind
from pledge.subjects.service import Subjects


@dataclass(frozen=True)
class _Received:
    """What the transaction of a submission decided, for the work after its commit."""

    request_id: str
    subject_id: str
    duplicate: bool


class SubjectRequests(ImmediateRequests):
    """The subject requests service.

    Args:
        database: Pledge's store.
        declaration: the declaration in force (consent purposes, the supervisory authority).
        subjects: finds and creates subjects, encrypts under their key, restricts them.
        ledger: withdraws consent.
        objections: records objections.
        clock: the time source.
        notifier: where messages to people go, queued in the transaction of the step that
            decides them; an in-memory :class:`Outbox` by default.
        holidays: dates that are not business days (for the CCPA receipt confirmation).
        jobs: the job table, where the effect of a verified immediate request is queued so
            that it survives the process; without it the effect is applied in-process only.
        reaches: whether a request reaches a table of a datastore (``datastore, table``):
            a correction to a table no plan reaches is refused when it is submitted.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        subjects: Subjects,
        ledger: ConsentLedger,
        objections: Objections,
        clock: Clock = utc_now,
        *,
        notifier: Notifier | None = None,
        holidays: Collection[dt.date] = (),
        jobs: Jobs | None = None,
        reaches: Callable[[str, str], bool] | None = None,
    ) -> None:
        super().__init__(
            database,
            declaration,
            subjects,
            clock,
            notifier if notifier is not None else Outbox(),
            effects=ImmediateEffects(declaration, subjects, ledger, objections, reaches=reaches),
            jobs=jobs,
        )
        self.ledger = ledger
        self.objections = objections
        self.holidays = frozenset(holidays)
        self.codes = VerificationCodes(subjects.keyring)

    # --- submitting ---------------------------------------------------------------------------

    def submit(
        self,
        type: RequestType | str,
        identity: Identity,
        regime: Regime | str = Regime.GDPR,
        details: Mapping[str, Any] | None = None,
        *,
        actor: str = "subject",
        on_behalf_of_staff: str | None = None,
        skip_verification_reason: str | None = None,
    ) -> SubjectRequest:
        """Receive a request and send the person a one-time code to confirm it.

        The same subject asking for the same type while a request is open gets the open one
        back, flagged ``duplicate`` (and, while unverified, a fresh code). Submissions of one
        subject are serialised on the subject's row, so that two at once still make one
        request.

        Args:
            type: the right exercised.
            identity: who asks; an unknown identity becomes a new subject, so that the answer
                never tells whether the person was known.
            regime: gdpr or ccpa: whose deadlines apply.
            details: what exactly is asked: ``purposes`` (withdraw_consent), ``scopes``
                (objection), anything else the later steps need. Stored encrypted.
            actor: who submits (``subject``, ``apikey:…``).
            on_behalf_of_staff: the staff member submitting for the person (recorded).
            skip_verification_reason: staff only: why the e-mail code is not needed (the
                person was identified otherwise); recorded.

        Returns:
            The request.

        Raises:
            UsageError: a malformed type, regime or details, or no way to verify.
            NotFound: a purpose in the details that is not declared.
        """
        kind = choice(RequestType, type, "request type")
        law = choice(Regime, regime, "regime")
        payload = self.effects.check(kind, details or {})
        staff = _staff_name(on_behalf_of_staff)
        skip = skip_verification_reason.strip() if skip_verification_reason is not None else None
        if skip_verification_reason is not None:
            if staff is None:
                raise UsageError("only staff submitting on someone's behalf may skip verification")
            if not skip:
                raise UsageError("skipping verification needs a reason")
        submitter = f"staff:{staff}" if staff else actor[:ACTOR_LIMIT]
        for attempt in range(3):
            try:
                with self.database.transaction() as connection:
                    received = self._receive(
                        connection, kind, law, payload, identity, submitter, staff, skip
                    )
                break
            except IntegrityError:  # another submission created the same new subject first
                if attempt == 2:
                    raise
        if not received.duplicate and skip is not None and kind in IMMEDIATE_TYPES:
            self._carry_out_now(received.request_id, submitter)
        found = self.get(received.request_id)
        return replace(found, duplicate=True) if received.duplicate else found

    def _receive(
        self,
        connection: Connection,
        kind: RequestType,
        regime: Regime,
        payload: Mapping[str, Any],
        identity: Identity,
        submitter: str,
        staff: str | None,
        skip: str | None,
    ) -> _Received:
        now = self.clock()
        subject_id = self.subjects.resolve(connection, identity, actor=submitter)
        # One submission of this subject at a time (PostgreSQL; SQLite has one writer anyway):
        # the second finds the first's request open and becomes its duplicate.
        connection.execute(
            select(subjects_table.c.id).where(subjects_table.c.id == subject_id).with_for_update()
        )
        existing = records.open_request(connection, subject_id, kind)
        contact = self._contact(connection, subject_id, identity)
        if existing is not None:
            request_id = existing["id"]
            code = None
            if existing["state"] == RequestState.RECEIVED:
                code = self.codes.issue(connection, request_id, now)
            audit.record(
                connection,
                AuditEntry(
                    "request.duplicate",
                    submitter,
                    subject_id,
                    details={"request_id": request_id, "type": str(kind)},
                ),
                clock=self.clock,
            )
            if code is not None and contact is not None:
                self._queue_code(connection, request_id, subject_id, kind, contact, code, submitter)
            return _Received(request_id, subject_id, True)
        if contact is None and skip is None:
            raise UsageError(
                "a request is verified by a code sent by e-mail: submit it with an"
                " e-mail identity, or as staff with a reason to skip verification"
            )
        request_id = new_id()
        self._insert(
            connection,
            request_id,
            subject_id,
            kind,
            regime,
            payload,
            contact,
            now,
            submitter=submitter,
            staff=staff,
        )
        if skip is None:
            code = self.codes.issue(connection, request_id, now)
            assert contact is not None  # refused above otherwise
            self._queue_code(connection, request_id, subject_id, kind, contact, code, submitter)
            return _Received(request_id, subject_id, False)
        self._mark_verified(
            connection, request_id, subject_id, now, method="staff", note=skip, actor=submitter
        )
        self._queue_effect(connection, request_id, kind)
        if contact is None:  # the staff member is in touch with the person
            self._confirm_receipt(connection, request_id, subject_id, now, submitter)
        return _Received(request_id, subject_id, False)

    def resend_code(self, request_id: str, *, actor: str = "subject") -> SubjectRequest:
        """Send a new code (the old one stops working, the attempts start again).

        Raises:
            NotFound: no such request.
            RequestError: the request is not waiting for verification, or has no e-mail
                address to send a code to (nothing changes).
        """
        now = self.clock()
        with self.database.transaction() as connection:
            row = records.row(connection, request_id, lock=True)
            if row["state"] != RequestState.RECEIVED:
                raise RequestError(f"the request is {row['state']}; it needs no code")
            contact = self._read_contact(connection, row)
            if contact is None:
                raise RequestError("the request has no e-mail address to send a code to")
            code = self.codes.issue(connection, request_id, now)
            kind = RequestType(row["type"])
            self._queue_code(connection, request_id, row["subject_id"], kind, contact, code, actor)
        return self.get(request_id)

    # --- verifying ----------------------------------------------------------------------------

    def verify(self, request_id: str, code: str, *, actor: str = "subject") -> SubjectRequest:
        """Confirm a request with its one-time code; restriction, objection, unsubscribe and
        withdrawal take effect at once.

        A wrong code changes nothing but the count of attempts (audited).

        Raises:
            NotFound: no such request.
            RequestError: not waiting for verification, no code pending, the code expired,
                too many attempts, or a wrong code.
        """
        now = self.clock()
        wrong: str | None = None
        with self.database.transaction() as connection:
            row = records.row(connection, request_id, lock=True)
            if row["state"] != RequestState.RECEIVED:
                raise RequestError(f"the request is {row['state']}; there is nothing to verify")
            kind = RequestType(row["type"])
            if self.codes.check(row, code, now):
                self._mark_verified(
                    connection,
                    request_id,
                    row["subject_id"],
                    now,
                    method="code",
                    note=None,
                    actor=actor,
                )
                self._queue_effect(connection, request_id, kind)
            else:
                left = self.codes.count_wrong(connection, row, now)
                self._audit(
                    connection, "request.verification_failed", actor, row, {"attempts_left": left}
                )
                wrong = wrong_code_message(left)
        if wrong is not None:
            raise RequestError(wrong)
        if kind in IMMEDIATE_TYPES:
            self._carry_out_now(request_id, actor)
        return self.get(request_id)

    # --- reading ------------------------------------------------------------------------------

    def list(
        self,
        *,
        state: RequestState | str | None = None,
        overdue: bool | None = None,
        subject_id: str | None = None,
        type: RequestType | str | None = None,
        limit: int = 100,
    ) -> builtins.list[SubjectRequest]:
        """Requests, soonest deadline first, without their details (see :meth:`get`).

        Args:
            state: only requests in this state.
            overdue: only overdue ones (True) or only those on time (False).
            subject_id: only this subject's.
            type: only this type.
            limit: at most this many.
        """
        now = self.clock()
        query = select(requests_table)
        if state is not None:
            query = query.where(requests_table.c.state == choice(RequestState, state, "state"))
        if type is not None:
            query = query.where(requests_table.c.type == choice(RequestType, type, "request type"))
        if subject_id is not None:
            query = query.where(requests_table.c.subject_id == subject_id)
        late = records.late(now)
        if overdue is True:
            query = query.where(late)
        elif overdue is False:
            query = query.where(~late)
        query = query.order_by(requests_table.c.due_at, requests_table.c.id).limit(limit)
        with self.database.read() as connection:
            rows = connection.execute(query).mappings().all()
        return [records.record(row, now, None) for row in rows]

    # --- internals ----------------------------------------------------------------------------

    def _insert(
        self,
        connection: Connection,
        request_id: str,
        subject_id: str,
        kind: RequestType,
        regime: Regime,
        details: Mapping[str, Any],
        contact: str | None,
        now: dt.datetime,
        *,
        submitter: str,
        staff: str | None,
    ) -> None:
        rule = regime.rule
        first_due = rule.first_deadline(now)
        encrypted_details = self.subjects.encrypt(
            connection, subject_id, records.details_field(request_id), json.dumps(details).encode()
        )
        encrypted_contact = (
            self.subjects.encrypt(
                connection, subject_id, records.contact_field(request_id), contact.encode()
            )
            if contact is not None
            else None
        )
        connection.execute(
            insert(requests_table).values(
                id=request_id,
                subject_id=subject_id,
                type=str(kind),
                regime=str(regime),
                state=str(RequestState.RECEIVED),
                retryable=False,
                received_at=now,
                first_due_at=first_due,
                due_at=first_due,
                extension=0,
                confirm_receipt_by=rule.confirm_receipt_by(now, self.holidays),
                submitted_by=submitter,
                staff=staff,
                updated_at=now,
                retain_until=retain_until(first_due),
                details_encrypted=encrypted_details,
                contact_encrypted=encrypted_contact,
                code_attempts=0,
            )
        )
        audit_details = {
            "request_id": request_id,
            "type": str(kind),
            "regime": str(regime),
            "due_at": first_due.isoformat(),
            "staff": staff is not None,
        }
        audit.record(
            connection,
            AuditEntry("request.submitted", submitter, subject_id, details=audit_details),
            clock=self.clock,
        )

    def _contact(self, connection: Connection, subject_id: str, identity: Identity) -> str | None:
        if identity.kind is IdentityKind.EMAIL:
            return identity.value
        known = self.subjects.get(subject_id, connection).identities
        return next((found.value for found in known if found.kind is IdentityKind.EMAIL), None)

    def _queue_code(
        self,
        connection: Connection,
        request_id: str,
        subject_id: str,
        kind: RequestType,
        contact: str,
        code: str,
        actor: str,
    ) -> None:
        """Queue the code's mail in the transaction that issued it; the mail confirms receipt
        (it is delivered after commit, retried until the mail server takes it)."""
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        told = messages.verification(self.company, contact, request_id, kind, code, minutes)
        self.notifier.queue(connection, told)
        now = self.clock()
        self._audit(
            connection,
            "request.code_sent",
            actor,
            {"id": request_id, "subject_id": subject_id},
            {"expires_at": (now + CODE_LIFETIME).isoformat()},
        )
        self._confirm_receipt(connection, request_id, subject_id, now, actor)


def _staff_name(name: str | None) -> str | None:
    if name is None:
        return None
    cleaned = name.strip()
    if not cleaned or len(cleaned) > ACTOR_LIMIT - len("staff:"):
        raise UsageError("the staff member's name must be 1 to 94 characters")
    return cleaned


__all__ = ["CODE_DIGITS", "CODE_LIFETIME", "EFFECT_GRACE", "MAX_ATTEMPTS", "SubjectRequests"]
