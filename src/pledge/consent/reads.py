"""What a subject has decided, read from the consent ledger: the current state, when a grant
expires, the history with its evidence, and a consent receipt."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, select

from pledge.clock import Clock, utc_now
from pledge.consent.model import Channel, ConsentDecision, ConsentEvent, ConsentState, Evidence
from pledge.consent.receipt import build_receipt
from pledge.consent.writer import evidence_field
from pledge.declaration.model import Declaration
from pledge.enforcement.model import expires_at
from pledge.errors import NotFound
from pledge.proof import GENESIS
from pledge.store.database import Database
from pledge.store.tables import consent_events, consent_heads, consent_state
from pledge.subjects.crypto import KeyDestroyed
from pledge.subjects.service import Subjects


class ConsentReads:
    """Reads the consent ledger.

    Args:
        database: Pledge's store.
        declaration: the declaration in force (purposes' maximum consent ages, the receipt).
        subjects: the subjects service (existence, data keys for the evidence).
        clock: the time source.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        subjects: Subjects,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.database = database
        self.declaration = declaration
        self.subjects = subjects
        self.clock = clock

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

    def expires_at(self, state: ConsentState) -> dt.datetime | None:
        """When a grant stops counting and the person must be asked again.

        Args:
            state: a subject's current decision about a purpose.

        Returns:
            The moment, from the purpose's ``consent_max_age``; None when the decision is not
            a grant, or the purpose sets no maximum age.
        """
        purpose = self.declaration.purposes.get(state.purpose)
        if (
            state.decision is not ConsentDecision.GRANTED
            or purpose is None
            or purpose.consent_max_age is None
        ):
            return None
        return expires_at(state.updated_at, purpose.consent_max_age)

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
                    connection, row.subject_id, evidence_field(row.id), row.evidence_encrypted
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


__all__ = ["ConsentReads"]
