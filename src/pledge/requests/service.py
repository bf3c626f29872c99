"""Subject requests: submit, verify with a one-time code, deny, extend, complete, fail, list.

Every step is committed with its audit event in one transaction before the caller is told.
What the person asked for and where to reach them are encrypted under the subject's key, so
erasing the subject leaves a record of the request (kept 24 months, CCPA §7101) that can no
longer be read.

Restriction, lifting it, objection, unsubscribe and withdrawal of consent are carried out on
verification, through the services that decisions read (:class:`Subjects`,
:class:`Objections`, :class:`ConsentLedger`), so that they take effect in the very next
decision. The others wait for planning and execution against the company's datastores.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping, insert, select, update

from pledge.clock import Clock, utc_now
from pledge.consent.service import ConsentLedger
from pledge.declaration.model import Declaration
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.enforcement.objections import Objections
from pledge.errors import PledgeError, RequestError, StoreUnavailable, UsageError
from pledge.ids import new_id
from pledge.requests import messages, records
from pledge.requests.effects import ImmediateEffects
from pledge.requests.model import (
    IMMEDIATE_TYPES,
    Denial,
    DenialGround,
    Regime,
    RequestState,
    RequestType,
    SubjectRequest,
    check_transition,
    complaint_text,
    retain_until,
)
from pledge.requests.notifier import Message, Notifier, Outbox
from pledge.store.database import Database
from pledge.store.tables import subject_requests as requests_table
from pledge.subjects.crypto import KeyDestroyed
from pledge.subjects.model import Identity, IdentityKind
from pledge.subjects.service import Subjects

log = logging.getLogger(__name__)
_E = TypeVar("_E", RequestType, Regime, RequestState, DenialGround)

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5
_ACTOR_LIMIT = 100


class SubjectRequests:
    """The subject requests service.

    Args:
        database: Pledge's store.
        declaration: the declaration in force (consent purposes, the supervisory authority).
        subjects: finds and creates subjects, encrypts under their key, restricts them.
        ledger: withdraws consent.
        objections: records objections.
        clock: the time source.
        notifier: where messages to people go; an in-memory :class:`Outbox` by default.
        holidays: dates that are not business days (for the CCPA receipt confirmation).
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
    ) -> None:
        self.database = database
        self.subjects = subjects
        self.ledger = ledger
        self.objections = objections
        self.clock = clock
        self.notifier: Notifier = notifier if notifier is not None else Outbox()
        self.holidays = frozenset(holidays)
        self.company = declaration.controller.name
        authority = declaration.controller.supervisory_authority
        self._authority = (
            (authority.name, str(authority.url) if authority.url else None)
            if authority
            else (None, None)
        )
        self.effects = ImmediateEffects(declaration, subjects, ledger, objections)
        self.on_restricted: Callable[[Connection, SubjectRequest], object] | None = None
        """Called in the transaction that completes a restriction: the composition root
        queues the recipients' notices there (GDPR Art. 19)."""

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
        back, flagged ``duplicate`` (and, while unverified, a fresh code).

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
        kind = _enum(RequestType, type, "request type")
        law = _enum(Regime, regime, "regime")
        payload = self.effects.check(kind, details or {})
        staff = _staff_name(on_behalf_of_staff)
        if skip_verification_reason is not None:
            if staff is None:
                raise UsageError("only staff submitting on someone's behalf may skip verification")
            if not skip_verification_reason.strip():
                raise UsageError("skipping verification needs a reason")
        submitter = f"staff:{staff}" if staff else actor[:_ACTOR_LIMIT]
        now = self.clock()
        code: str | None = None
        with self.database.transaction() as connection:
            subject_id = self.subjects.resolve(connection, identity, actor=submitter)
            existing = records.open_request(connection, subject_id, kind)
            contact = self._contact(connection, subject_id, identity)
            if existing is not None:
                request_id = existing["id"]
                if existing["state"] == RequestState.RECEIVED:
                    code = self._new_code(connection, request_id, now)
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
            else:
                if contact is None and skip_verification_reason is None:
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
                    law,
                    payload,
                    contact,
                    now,
                    submitter=submitter,
                    staff=staff,
                )
                if skip_verification_reason is None:
                    code = self._new_code(connection, request_id, now)
                else:
                    self._mark_verified(
                        connection,
                        request_id,
                        subject_id,
                        now,
                        method="staff",
                        note=skip_verification_reason.strip(),
                        actor=submitter,
                    )
                    if contact is None:  # the staff member is in touch with the person
                        self._confirm_receipt(connection, request_id, subject_id, now, submitter)
        if code is not None and contact is not None:
            self._send_code(request_id, subject_id, kind, contact, code, submitter)
        if existing is None and skip_verification_reason is not None and kind in IMMEDIATE_TYPES:
            self._carry_out(request_id, submitter)
        found = self.get(request_id)
        if existing is not None:
            return _flag_duplicate(found)
        return found

    def resend_code(self, request_id: str, *, actor: str = "subject") -> SubjectRequest:
        """Send a new code (the old one stops working, the attempts start again).

        Raises:
            NotFound: no such request.
            RequestError: the request is not waiting for verification.
        """
        now = self.clock()
        with self.database.transaction() as connection:
            row = records.row(connection, request_id, lock=True)
            if row["state"] != RequestState.RECEIVED:
                raise RequestError(f"the request is {row['state']}; it needs no code")
            code = self._new_code(connection, request_id, now)
            contact = self._read_contact(connection, row)
        if contact is None:
            raise RequestError("the request has no e-mail address to send a code to")
        self._send_code(
            request_id, row["subject_id"], RequestType(row["type"]), contact, code, actor
        )
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
            if row["code_hash"] is None:
                raise RequestError("no code is pending for this request; ask for a new one")
            if row["code_attempts"] >= MAX_ATTEMPTS:
                raise RequestError("too many wrong codes; ask for a new one")
            if now >= row["code_expires_at"]:
                raise RequestError("the code has expired; ask for a new one")
            given = "".join(str(code).split())
            expected = self._code_hash(row["code_salt"], given)
            if hmac.compare_digest(expected, row["code_hash"]):
                self._mark_verified(
                    connection,
                    request_id,
                    row["subject_id"],
                    now,
                    method="code",
                    note=None,
                    actor=actor,
                )
            else:
                attempts = row["code_attempts"] + 1
                connection.execute(
                    update(requests_table)
                    .where(requests_table.c.id == request_id)
                    .values(code_attempts=attempts, updated_at=now)
                )
                left = MAX_ATTEMPTS - attempts
                self._audit(
                    connection, "request.verification_failed", actor, row, {"attempts_left": left}
                )
                wrong = f"wrong code; {left} attempt{'s' if left != 1 else ''} left"
                if not left:
                    wrong = "wrong code; no attempts left, ask for a new one"
        if wrong is not None:
            raise RequestError(wrong)
        if RequestType(row["type"]) in IMMEDIATE_TYPES:
            self._carry_out(request_id, actor)
        return self.get(request_id)

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
        cause = _enum(DenialGround, ground, "denial ground")
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
            self._send(messages.denied(self.company, contact, request_id, denial))
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
            self._send(messages.extended(self.company, contact, request_id, reason.strip(), due_at))
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
        done = self._move(
            request_id,
            RequestState.COMPLETED,
            actor,
            "request.completed",
            dict(result or {}),
            also=also,
        )
        with self.database.read() as connection:
            contact = self._read_contact(connection, records.row(connection, request_id))
        if contact is not None:
            self._send(messages.completed(self.company, contact, request_id, done.type, result))
        return done

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

    def retry(self, request_id: str, *, actor: str) -> SubjectRequest:
        """Send a retryable failure back to ``verified`` (and carry out an immediate type).

        Raises:
            RequestError: the request did not fail, or failed for good.
        """
        retried = self._move(
            request_id, RequestState.VERIFIED, actor, "request.retried", {}, failure=None
        )
        if retried.type in IMMEDIATE_TYPES:
            self._carry_out(request_id, actor)
            return self.get(request_id)
        return retried

    # --- reading ------------------------------------------------------------------------------

    def get(self, request_id: str) -> SubjectRequest:
        """A request with its details decrypted (None once the subject was erased).

        Raises:
            NotFound: no such request.
        """
        with self.database.read() as connection:
            row = records.row(connection, request_id)
            details: Mapping[str, Any] | None
            try:
                plain = self.subjects.decrypt(
                    connection,
                    row["subject_id"],
                    records.details_field(request_id),
                    row["details_encrypted"],
                )
                details = json.loads(plain)
            except KeyDestroyed:
                details = None
        return records.record(row, self.clock(), details)

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
            query = query.where(requests_table.c.state == _enum(RequestState, state, "state"))
        if type is not None:
            query = query.where(requests_table.c.type == _enum(RequestType, type, "request type"))
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

    def _read_contact(self, connection: Connection, row: RowMapping) -> str | None:
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

    def _code_hash(self, salt: bytes, code: str) -> bytes:
        # Keyed as well as salted: a copy of the database alone does not let anyone try the
        # million codes offline.
        return self.subjects.keyring.blind_index("request-code", f"{salt.hex()}:{code}")

    def _new_code(self, connection: Connection, request_id: str, now: dt.datetime) -> str:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = os.urandom(16)
        connection.execute(
            update(requests_table)
            .where(requests_table.c.id == request_id)
            .values(
                code_salt=salt,
                code_hash=self._code_hash(salt, code),
                code_expires_at=now + CODE_LIFETIME,
                code_attempts=0,
                updated_at=now,
            )
        )
        return code

    def _send_code(
        self,
        request_id: str,
        subject_id: str,
        kind: RequestType,
        contact: str,
        code: str,
        actor: str,
    ) -> None:
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        self._send(messages.verification(self.company, contact, request_id, kind, code, minutes))
        now = self.clock()
        with self.database.transaction() as connection:
            self._audit(
                connection,
                "request.code_sent",
                actor,
                {"id": request_id, "subject_id": subject_id},
                {"expires_at": (now + CODE_LIFETIME).isoformat()},
            )
            self._confirm_receipt(connection, request_id, subject_id, now, actor)

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

    def _carry_out(self, request_id: str, actor: str) -> None:
        """Apply an immediate request's effect, then complete it (or record the failure)."""
        request = self.get(request_id)
        try:
            result = self.effects.apply(request, actor)
        except StoreUnavailable:
            raise  # still verified: retry when the database is back
        except PledgeError as error:
            self.fail(request_id, str(error), retryable=False, actor=actor)
            return
        notify = self.on_restricted
        also = None
        if request.type is RequestType.RESTRICTION and notify is not None:

            def also(connection: Connection) -> None:
                notify(connection, request)

        self.complete(request_id, actor=actor, result=result, also=also)

    def _move(
        self,
        request_id: str,
        target: RequestState,
        actor: str,
        action: str,
        details: dict[str, Any],
        *,
        also: Callable[[Connection], None] | None = None,
        **values: Any,
    ) -> SubjectRequest:
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
        return self.get(request_id)

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
                actor[:_ACTOR_LIMIT],
                row["subject_id"],
                details={"request_id": row["id"], **details},
            ),
            clock=self.clock,
        )

    def _send(self, message: Message) -> None:
        try:
            self.notifier.send(message)
        except Exception:  # the step stands; the message is what failed
            log.exception(
                "could not send the %s message of request %s", message.kind, message.request_id
            )


def _flag_duplicate(request: SubjectRequest) -> SubjectRequest:
    return replace(request, duplicate=True)


def _staff_name(name: str | None) -> str | None:
    if name is None:
        return None
    cleaned = name.strip()
    if not cleaned or len(cleaned) > _ACTOR_LIMIT - len("staff:"):
        raise UsageError("the staff member's name must be 1 to 94 characters")
    return cleaned


def _enum(kind: type[_E], value: Any, name: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(item.value for item in kind)
        raise UsageError(f"unknown {name} {value!r}; use one of {choices}") from None


__all__ = ["CODE_DIGITS", "CODE_LIFETIME", "MAX_ATTEMPTS", "SubjectRequests"]
