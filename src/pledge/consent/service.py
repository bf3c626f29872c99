"""The consent ledger: record decisions with proof, read the current state, history, receipts.

Each decision is one append to the subject's hash chain (``consent_events``, head in
``consent_heads``), an upsert of the materialised state (``consent_state``) and one audit
event, all in one transaction: either everything is written or nothing is. Withdrawing is the
same single call as granting.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, Required, TypedDict, TypeVar, Unpack

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pledge.clock import Clock, utc_now
from pledge.consent.chain import event_content
from pledge.consent.model import (
    Channel,
    ConsentDecision,
    ConsentEvent,
    ConsentState,
    Evidence,
    gpc_applies_in,
    notice_hash,
)
from pledge.consent.receipt import build_receipt
from pledge.declaration.model import Declaration, LegalBasis
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import ConsentError, NotFound
from pledge.ids import new_id
from pledge.proof import GENESIS, record_hash
from pledge.store.database import Database
from pledge.store.tables import (
    audit_head,
    consent_events,
    consent_heads,
    consent_state,
    subjects,
)
from pledge.subjects.crypto import KeyDestroyed
from pledge.subjects.service import Subjects

log = logging.getLogger(__name__)
_E = TypeVar("_E", ConsentDecision, Channel)

_HASH = re.compile(r"[0-9a-f]{64}")
_ACTOR_LIMIT = 100  # the width of the actor column


class RecordOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`ConsentLedger.record`, shared by grant/withdraw/refuse."""

    channel: Required[Channel | str]
    actor: Required[str]
    evidence: Evidence | None
    guardian_id: str | None
    notice_hash: str | None
    connection: Connection | None


class ConsentLedger:
    """Records consent decisions and answers what a subject has decided.

    Args:
        database: Pledge's store.
        declaration: the declaration in force: which purposes take consent, the notices.
        subjects: the subjects service (existence, data keys for the evidence).
        clock: the time source.
        gpc_jurisdictions: where Global Privacy Control is honoured (``*`` everywhere).
        on_change: called with the subject id after a change is committed (cache
            invalidation); its errors are logged, never raised, as the change stands.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        subjects: Subjects,
        *,
        clock: Clock = utc_now,
        gpc_jurisdictions: Sequence[str] = ("*",),
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.database = database
        self.declaration = declaration
        self.subjects = subjects
        self.clock = clock
        self.gpc_jurisdictions = tuple(gpc_jurisdictions)
        self.on_change = on_change
        self._digest = declaration.digest
        self._notices = {
            key: notice_hash(declaration, key)
            for key, purpose in declaration.purposes.items()
            if purpose.legal_basis is LegalBasis.CONSENT
        }
        self._gpc_purposes = tuple(
            key
            for key, purpose in declaration.purposes.items()
            if purpose.sale_or_sharing or purpose.targeted_advertising
        )

    # --- recording ---------------------------------------------------------------------------

    def record(
        self,
        subject_id: str,
        purpose: str,
        decision: ConsentDecision | str,
        *,
        channel: Channel | str,
        actor: str,
        evidence: Evidence | None = None,
        guardian_id: str | None = None,
        notice_hash: str | None = None,
        connection: Connection | None = None,
    ) -> ConsentEvent:
        """Record a decision: append it to the subject's chain, update the state, audit it.

        Args:
            subject_id: the person deciding (or decided for, by a guardian).
            purpose: a declared purpose whose legal basis is consent.
            decision: granted, withdrawn or refused.
            channel: form, banner, api, gpc or import.
            actor: who recorded it (an API key name, "subject", "admin:ann").
            evidence: IP address (truncated) and user agent; stored encrypted.
            guardian_id: the guardian giving consent for a child (GDPR Art. 8).
            notice_hash: the hash of the notice shown; defaults to the declaration's.
            connection: the caller's transaction; the change is then committed (and
                ``on_change`` called) when that transaction commits.

        Returns:
            The recorded event.

        Raises:
            NotFound: the purpose is not declared, or the subject does not exist or was erased.
            ConsentError: the purpose does not take consent, a child's grant lacks its
                guardian, or an argument is malformed.
            StoreUnavailable: the database cannot be reached; nothing was written.
        """
        scope = nullcontext(connection) if connection else self.database.transaction()
        with scope as active:
            event = self._append(
                active,
                subject_id,
                purpose,
                decision,
                channel=channel,
                actor=actor,
                evidence=evidence,
                guardian_id=guardian_id,
                notice_hash=notice_hash,
            )
        if connection is None:
            self._notify(subject_id)
        else:
            self._notify_on_commit(connection, subject_id)
        return event

    def grant(
        self, subject_id: str, purpose: str, **options: Unpack[RecordOptions]
    ) -> ConsentEvent:
        """Record that consent was given (see :meth:`record` for the options).

        Args:
            subject_id: the person.
            purpose: a purpose based on consent.
            **options: channel, actor and the optional arguments of :meth:`record`.

        Returns:
            The recorded event.
        """
        return self.record(subject_id, purpose, ConsentDecision.GRANTED, **options)

    def withdraw(
        self, subject_id: str, purpose: str, **options: Unpack[RecordOptions]
    ) -> ConsentEvent:
        """Record that consent was withdrawn: the same one call as granting (GDPR Art. 7(3)).

        Args:
            subject_id: the person.
            purpose: a purpose based on consent.
            **options: channel, actor and the optional arguments of :meth:`record`.

        Returns:
            The recorded event.
        """
        return self.record(subject_id, purpose, ConsentDecision.WITHDRAWN, **options)

    def refuse(
        self, subject_id: str, purpose: str, **options: Unpack[RecordOptions]
    ) -> ConsentEvent:
        """Record that consent was asked for and refused (refusals are evidence too).

        Args:
            subject_id: the person.
            purpose: a purpose based on consent.
            **options: channel, actor and the optional arguments of :meth:`record`.

        Returns:
            The recorded event.
        """
        return self.record(subject_id, purpose, ConsentDecision.REFUSED, **options)

    def _append(
        self,
        connection: Connection,
        subject_id: str,
        purpose: str,
        decision: ConsentDecision | str,
        *,
        channel: Channel | str,
        actor: str,
        evidence: Evidence | None,
        guardian_id: str | None,
        notice_hash: str | None,
    ) -> ConsentEvent:
        chosen = _enum(ConsentDecision, decision, "decision")
        via = _enum(Channel, channel, "channel")
        shown = self._notice(purpose, notice_hash)
        if not actor or len(actor) > _ACTOR_LIMIT:
            raise ConsentError(f"actor must be 1 to {_ACTOR_LIMIT} characters")
        now = self.clock()
        if connection.dialect.name != "sqlite":
            # Every consent write ends by appending to the audit chain; taking its lock first
            # keeps one lock order (audit, then consent head) for every writer: no deadlock.
            connection.execute(
                select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update()
            )
        self._check_subject(connection, subject_id, chosen, guardian_id, now)
        seq, previous = self._lock_head(connection, subject_id)
        event_id = new_id()
        sealed = None
        if evidence is not None:
            sealed = self.subjects.encrypt(
                connection, subject_id, _evidence_field(event_id), evidence.to_json()
            )
        row: dict[str, Any] = {
            "id": event_id,
            "subject_id": subject_id,
            "seq": seq + 1,
            "purpose": purpose,
            "decision": chosen.value,
            "channel": via.value,
            "actor": actor,
            "declaration_version": self.declaration.policy.version,
            "declaration_digest": self._digest,
            "notice_hash": shown,
            "guardian_id": guardian_id,
            "evidence_encrypted": sealed,
            "occurred_at": now,
        }
        digest = record_hash(previous, event_content(row))
        connection.execute(insert(consent_events).values(**row, prev_hash=previous, hash=digest))
        connection.execute(
            update(consent_heads)
            .where(consent_heads.c.subject_id == subject_id)
            .values(seq=seq + 1, hash=digest, updated_at=now)
        )
        self._upsert_state(connection, row)
        details: dict[str, Any] = {"channel": via.value, "event_id": event_id, "seq": seq + 1}
        if guardian_id is not None:
            details["guardian_id"] = guardian_id
        audit.record(
            connection,
            AuditEntry(f"consent.{chosen.value}", actor, subject_id, purpose, details, now),
            clock=self.clock,
        )
        return ConsentEvent(
            id=event_id,
            subject_id=subject_id,
            seq=seq + 1,
            purpose=purpose,
            decision=chosen,
            channel=via,
            actor=actor,
            declaration_version=row["declaration_version"],
            declaration_digest=self._digest,
            notice_hash=shown,
            guardian_id=guardian_id,
            occurred_at=now,
            prev_hash=previous,
            hash=digest,
            evidence=evidence,
        )

    def _notice(self, purpose: str, given: str | None) -> str:
        declared = self.declaration.purposes.get(purpose)
        if declared is None:
            known = ", ".join(sorted(self._notices)) or "none"
            raise NotFound(
                f"no purpose '{purpose}' in the declaration (purposes taking consent: {known})"
            )
        if declared.legal_basis is not LegalBasis.CONSENT:
            basis = declared.legal_basis.value if declared.legal_basis else "no legal basis"
            raise ConsentError(
                f"purpose '{purpose}' is based on {basis}, not consent: it does not take"
                " consent, so none can be granted, withdrawn or refused"
            )
        if given is None:
            return self._notices[purpose]
        if not _HASH.fullmatch(given):
            raise ConsentError("notice_hash must be 64 lowercase hex digits (SHA-256)")
        return given

    def _check_subject(
        self,
        connection: Connection,
        subject_id: str,
        decision: ConsentDecision,
        guardian_id: str | None,
        now: dt.datetime,
    ) -> None:
        row = connection.execute(
            select(subjects.c.erased_at, subjects.c.consent_age_from, subjects.c.guardian_id).where(
                subjects.c.id == subject_id
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"no subject {subject_id}")
        if row.erased_at is not None:
            raise NotFound(f"subject {subject_id} was erased")
        if guardian_id is not None and guardian_id != row.guardian_id:
            raise ConsentError(f"{guardian_id} is not the recorded guardian of {subject_id}")
        child = row.consent_age_from is not None and row.consent_age_from > now
        if child and decision is ConsentDecision.GRANTED and guardian_id is None:
            raise ConsentError(
                f"subject {subject_id} is too young to consent alone (GDPR Art. 8): the grant"
                " must be given by the recorded guardian (guardian_id)"
            )

    def _lock_head(self, connection: Connection, subject_id: str) -> tuple[int, str]:
        query = (
            select(consent_heads.c.seq, consent_heads.c.hash)
            .where(consent_heads.c.subject_id == subject_id)
            .with_for_update()
        )
        head = connection.execute(query).one_or_none()
        if head is None:
            # The subject's first event: create its head, racing writers of the same subject
            # wait for each other on the row and the loser finds it on the second read.
            values = {
                "subject_id": subject_id,
                "seq": 0,
                "hash": GENESIS,
                "updated_at": self.clock(),
            }
            connection.execute(_insert_ignoring_duplicates(connection, consent_heads, values))
            head = connection.execute(query).one()
        return head.seq, head.hash

    def _upsert_state(self, connection: Connection, row: dict[str, Any]) -> None:
        values = {
            "subject_id": row["subject_id"],
            "purpose": row["purpose"],
            "decision": row["decision"],
            "guardian_id": row["guardian_id"],
            "event_id": row["id"],
            "updated_at": row["occurred_at"],
        }
        changes = {
            key: values[key] for key in ("decision", "guardian_id", "event_id", "updated_at")
        }
        dialect = connection.dialect.name
        if dialect in ("sqlite", "postgresql"):
            builder = sqlite_insert if dialect == "sqlite" else postgresql_insert
            connection.execute(
                builder(consent_state)
                .values(**values)
                .on_conflict_do_update(index_elements=["subject_id", "purpose"], set_=changes)
            )
            return
        updated = connection.execute(
            update(consent_state)
            .where(
                consent_state.c.subject_id == row["subject_id"],
                consent_state.c.purpose == row["purpose"],
            )
            .values(**changes)
        ).rowcount
        if not updated:
            connection.execute(insert(consent_state).values(**values))

    def _notify_on_commit(self, connection: Connection, subject_id: str) -> None:
        def committed(_: Connection) -> None:
            self._notify(subject_id)

        sqlalchemy_event.listen(connection, "commit", committed, once=True)

    def _notify(self, subject_id: str) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(subject_id)
        except Exception:  # the change is committed; a failing listener must not deny it
            log.exception("on_change failed for subject %s", subject_id)

    # --- reading -----------------------------------------------------------------------------

    def state(self, subject_id: str) -> dict[str, ConsentState]:
        """The subject's current decision per purpose (purposes never decided are absent).

        Args:
            subject_id: the person.

        Returns:
            Purpose key → state.

        Raises:
            NotFound: no such subject.
        """
        with self.database.read() as connection:
            rows = connection.execute(
                select(consent_state).where(consent_state.c.subject_id == subject_id)
            ).all()
            if not rows and not self.subjects.exists(connection, subject_id):
                raise NotFound(f"no subject {subject_id}")
        return {
            row.purpose: ConsentState(
                subject_id=row.subject_id,
                purpose=row.purpose,
                decision=ConsentDecision(row.decision),
                event_id=row.event_id,
                guardian_id=row.guardian_id,
                updated_at=row.updated_at,
            )
            for row in rows
        }

    def history(
        self,
        subject_id: str,
        purpose: str | None = None,
        *,
        after_seq: int = 0,
        limit: int | None = None,
    ) -> list[ConsentEvent]:
        """The subject's recorded decisions, oldest first, with evidence decrypted if possible.

        Args:
            subject_id: the person.
            purpose: only the events of this purpose.
            after_seq: only events after this place in the chain (for paging).
            limit: at most this many events.

        Returns:
            The events. After erasure they remain, with ``evidence`` None.

        Raises:
            NotFound: no such subject.
        """
        query = select(consent_events).where(
            consent_events.c.subject_id == subject_id, consent_events.c.seq > after_seq
        )
        if purpose is not None:
            query = query.where(consent_events.c.purpose == purpose)
        query = query.order_by(consent_events.c.seq)
        if limit is not None:
            query = query.limit(limit)
        with self.database.read() as connection:
            rows = connection.execute(query).all()
            if not rows and not self.subjects.exists(connection, subject_id):
                raise NotFound(f"no subject {subject_id}")
            return [self._event(connection, row) for row in rows]

    def _event(self, connection: Connection, row: Row[Any]) -> ConsentEvent:
        evidence = None
        if row.evidence_encrypted is not None:
            try:
                plain = self.subjects.decrypt(
                    connection, row.subject_id, _evidence_field(row.id), row.evidence_encrypted
                )
                evidence = Evidence.from_json(plain)
            except (KeyDestroyed, NotFound):
                evidence = None
        return ConsentEvent(
            id=row.id,
            subject_id=row.subject_id,
            seq=row.seq,
            purpose=row.purpose,
            decision=ConsentDecision(row.decision),
            channel=Channel(row.channel),
            actor=row.actor,
            declaration_version=row.declaration_version,
            declaration_digest=row.declaration_digest,
            notice_hash=row.notice_hash,
            guardian_id=row.guardian_id,
            occurred_at=row.occurred_at,
            prev_hash=row.prev_hash,
            hash=row.hash,
            evidence=evidence,
        )

    def receipt(self, subject_id: str) -> dict[str, Any]:
        """A consent receipt in the fields of the Kantara Consent Receipt Specification v1.1.

        ``services`` lists the purposes consent is currently given for; the receipt's id is
        derived from the subject's chain head, so the same state always gives the same id.

        Args:
            subject_id: the person (appears by pseudonymous id only).

        Returns:
            The receipt as JSON-ready data (see :func:`pledge.consent.receipt.build_receipt`).

        Raises:
            NotFound: no such subject.
        """
        with self.database.read() as connection:
            if not self.subjects.exists(connection, subject_id):
                raise NotFound(f"no subject {subject_id}")
            granted = connection.execute(
                select(consent_state.c.purpose, consent_state.c.event_id)
                .where(
                    consent_state.c.subject_id == subject_id,
                    consent_state.c.decision == ConsentDecision.GRANTED.value,
                )
                .order_by(consent_state.c.purpose)
            ).all()
            head = connection.execute(
                select(consent_heads.c.seq, consent_heads.c.hash, consent_heads.c.updated_at).where(
                    consent_heads.c.subject_id == subject_id
                )
            ).one_or_none()
            latest = connection.execute(
                select(consent_events.c.channel, consent_events.c.occurred_at)
                .where(consent_events.c.id.in_([row.event_id for row in granted] or [""]))
                .order_by(consent_events.c.occurred_at.desc())
                .limit(1)
            ).one_or_none()
        return build_receipt(
            self.declaration,
            subject_id,
            [row.purpose for row in granted],
            head=(head.seq, head.hash) if head else (0, GENESIS),
            consented_at=latest.occurred_at
            if latest
            else (head.updated_at if head else self.clock()),
            channel=Channel(latest.channel) if latest else Channel.API,
        )

    # --- Global Privacy Control --------------------------------------------------------------

    def gpc_applies(self, jurisdiction: str | None) -> bool:
        """Whether a GPC signal is honoured in ``jurisdiction`` under the configuration.

        Args:
            jurisdiction: e.g. ``US-CA``; None when unknown (then only ``*`` applies).

        Returns:
            True when it must be honoured.
        """
        return gpc_applies_in(self.gpc_jurisdictions, jurisdiction)

    def apply_gpc(
        self,
        subject_id: str,
        *,
        jurisdiction: str | None = None,
        evidence: Evidence | None = None,
        actor: str,
    ) -> list[ConsentEvent]:
        """Honour a Global Privacy Control signal (11 CCR §7025): opt out of sale and sharing.

        For every consent purpose marked ``sale_or_sharing`` or ``targeted_advertising``: a
        grant is withdrawn, a purpose never decided is refused, one already withdrawn or
        refused is left alone. All with channel ``gpc``, in one transaction.

        Args:
            subject_id: the person whose browser sent the signal.
            jurisdiction: where the request comes from; nothing happens where GPC does not
                apply.
            evidence: IP address and user agent of the request.
            actor: who recorded it.

        Returns:
            The events recorded (none when nothing needed changing or GPC does not apply).
        """
        if not self.gpc_applies(jurisdiction):
            return []
        targets = [key for key in self._gpc_purposes if key in self._notices]
        recorded: list[ConsentEvent] = []
        with self.database.transaction() as connection:
            rows = connection.execute(
                select(consent_state.c.purpose, consent_state.c.decision).where(
                    consent_state.c.subject_id == subject_id,
                    consent_state.c.purpose.in_(targets or [""]),
                )
            ).all()
            decided = dict(rows)
            for purpose in targets:
                current = decided.get(purpose)
                if current in (ConsentDecision.WITHDRAWN, ConsentDecision.REFUSED):
                    continue
                decision = ConsentDecision.WITHDRAWN if current else ConsentDecision.REFUSED
                recorded.append(
                    self._append(
                        connection,
                        subject_id,
                        purpose,
                        decision,
                        channel=Channel.GPC,
                        actor=actor,
                        evidence=evidence,
                        guardian_id=None,
                        notice_hash=None,
                    )
                )
        if recorded:
            self._notify(subject_id)
        return recorded

    @property
    def gpc_purposes(self) -> tuple[str, ...]:
        """The purposes a GPC signal opts out of (declared as sale/sharing or targeted ads)."""
        return self._gpc_purposes


def _enum(kind: type[_E], value: _E | str, name: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ConsentError(f"{name} must be one of {choices}, not {value!r}") from None


def _evidence_field(event_id: str) -> str:
    # Bound to the event: a ciphertext copied onto another event does not decrypt.
    return f"consent/evidence/{event_id}"


def _insert_ignoring_duplicates(connection: Connection, table: Any, values: dict[str, Any]) -> Any:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql_insert(table).values(**values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite_insert(table).values(**values).on_conflict_do_nothing()
    return insert(table).values(**values)
