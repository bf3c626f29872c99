"""The consent ledger: record decisions with proof, read the current state, history, receipts.

Each decision is one append to the subject's hash chain (``consent_events``, head in
``consent_heads``), an upsert of the materialised state (``consent_state``) and one audit
event, all in one transaction: either everything is written or nothing is. Withdrawing is the
same single call as granting.

A decision recorded on its own is checked here, then committed with the decisions of other
callers in one transaction by the ledger's :class:`~pledge.consent.committer.GroupCommitter`;
the call returns once that transaction has committed. A decision recorded in the caller's
transaction (``connection=``) is written at once, in it. Both write with
:class:`~pledge.consent.writer.ChainWriter`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Required, TypedDict, Unpack

from sqlalchemy import Connection

from pledge.clock import Clock, utc_now
from pledge.consent.committer import GroupCommitter
from pledge.consent.gpc import consent_opt_outs, object_to_sharing
from pledge.consent.model import (
    Channel,
    ConsentDecision,
    ConsentEvent,
    Evidence,
    RecordConsent,
    check_decision,
    gpc_applies_in,
    notice_hash,
)
from pledge.consent.reads import ConsentReads
from pledge.consent.writer import ChainWriter
from pledge.declaration.model import Declaration, LegalBasis
from pledge.errors import UsageError
from pledge.store.database import Database, after_commit
from pledge.subjects.service import Subjects

log = logging.getLogger(__name__)


class RecordOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`ConsentLedger.record`, shared by grant/withdraw/refuse."""

    channel: Required[Channel | str]
    actor: Required[str]
    evidence: Evidence | None
    guardian_id: str | None
    notice_hash: str | None
    connection: Connection | None


class ConsentLedger(ConsentReads):
    """Records consent decisions and answers what a subject has decided (the reading is
    :class:`~pledge.consent.reads.ConsentReads`'s).

    Args:
        database: Pledge's store.
        declaration: the declaration in force: which purposes take consent, the notices.
        subjects: the subjects service (existence, data keys for the evidence).
        clock: the time source.
        gpc_jurisdictions: where Global Privacy Control is honoured (``*`` everywhere).
        on_change: called with the subject id after a change is committed (cache
            invalidation); its errors are logged, never raised, as the change stands.
        batch_size: the most decisions the committer writes in one transaction.
        wait_seconds: how long a decision waits for its batch to begin before
            :class:`~pledge.errors.StoreUnavailable`.

    Attributes:
        committer: commits the decisions recorded without a caller's transaction;
            :meth:`close` drains and stops it.
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
        batch_size: int = 500,
        wait_seconds: float = 60.0,
    ) -> None:
        super().__init__(database, declaration, subjects, clock=clock)
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
        self.writer = ChainWriter(
            subjects,
            declaration_version=declaration.policy.version,
            declaration_digest=self._digest,
            clock=clock,
        )
        self.committer = GroupCommitter(
            database,
            self.writer.append,
            on_commit=self._notify,
            batch_size=batch_size,
            wait_seconds=wait_seconds,
        )

    def close(self) -> None:
        """Commit the decisions waiting for their batch and stop the committer's thread.

        Recording without a caller's transaction is refused afterwards; reading and
        recording with ``connection=`` still work. Safe to call twice.
        """
        self.committer.close()

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
                ``on_change`` called) when that transaction commits. Without it the decision
                is committed by the ledger's committer, in a transaction of its own shared
                with other callers' decisions, before the call returns; so a caller holding
                a transaction open must pass it, or the committer's would wait for it.

        Returns:
            The recorded event.

        Raises:
            NotFound: the purpose is not declared, or the subject does not exist or was erased.
            ConsentError: the purpose does not take consent, a child's grant lacks its
                guardian, or an argument is malformed.
            StoreUnavailable: the database cannot be reached; nothing was written.
            UsageError: the ledger is closed (and no ``connection`` was given).
        """
        command = self.check(
            subject_id,
            purpose,
            decision,
            channel=channel,
            actor=actor,
            evidence=evidence,
            guardian_id=guardian_id,
            notice_hash=notice_hash,
        )
        return self.record_commands([command], connection=connection)[0]

    def check(
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
    ) -> RecordConsent:
        """The command recording a decision, after every check that needs no database.

        The arguments are those of :meth:`record`; record the command (with others) with
        :meth:`record_commands` or :meth:`record_commands_async`.

        Returns:
            The command.

        Raises:
            NotFound: the purpose is not declared.
            ConsentError: the purpose does not take consent, or an argument is malformed.
        """
        return check_decision(
            self.declaration,
            self._notices,
            subject_id,
            purpose,
            decision,
            channel=channel,
            actor=actor,
            evidence=evidence,
            guardian_id=guardian_id,
            notice_hash=notice_hash,
        )

    def record_commands(
        self, commands: Sequence[RecordConsent], *, connection: Connection | None = None
    ) -> list[ConsentEvent]:
        """Record checked decisions together: all of them are committed, or none.

        Several decisions about one subject take consecutive places in its chain, in order.

        Args:
            commands: from :meth:`check`, in the order they were made (at least one).
            connection: the caller's transaction, as for :meth:`record`; without it the
                decisions are committed by the ledger's committer before the call returns.

        Returns:
            The recorded events, in the order of ``commands``.

        Raises:
            NotFound: a subject does not exist or was erased.
            ConsentError: a child's grant lacks its guardian.
            StoreUnavailable: the database cannot be reached.
            UsageError: no command, or the ledger is closed (and no ``connection`` given).

            Whatever is raised, none of the decisions was written.
        """
        if connection is None:
            return self.committer.submit_many(commands)  # on_change: called by the committer
        if not commands:
            raise UsageError("no consent decision to record")
        events = self._append(connection, commands)
        for subject_id in dict.fromkeys(command.subject_id for command in commands):
            self._notify_on_commit(connection, subject_id)
        return events

    async def record_commands_async(self, commands: Sequence[RecordConsent]) -> list[ConsentEvent]:
        """:meth:`record_commands` for a coroutine: waits for the commit on the event loop.

        The web API records this way, so that a request waiting for its batch holds no thread.

        Args:
            commands: from :meth:`check`, in the order they were made (at least one).

        Returns:
            The recorded events, in the order of ``commands``.

        Raises:
            NotFound, ConsentError, StoreUnavailable, UsageError: as :meth:`record_commands`.
        """
        return await self.committer.submit_async(commands)

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
        self, connection: Connection, commands: Sequence[RecordConsent]
    ) -> list[ConsentEvent]:
        """Write the commands in the caller's transaction as one unit, or raise its refusal."""
        outcome = self.writer.append(connection, [commands])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _notify_on_commit(self, connection: Connection, subject_id: str) -> None:
        # After the commit, never before: a read in between would cache the old state.
        after_commit(connection, lambda: self._notify(subject_id))

    def _notify(self, subject_id: str) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(subject_id)
        except Exception:  # the change is committed; a failing listener must not deny it
            log.exception("on_change failed for subject %s", subject_id)

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

        For every purpose marked ``sale_or_sharing`` or ``targeted_advertising``: if it is
        based on consent, a grant is withdrawn, a purpose never decided is refused, and one
        already withdrawn or refused is left alone; if it rests on another basis (legitimate
        interests, say), an objection to it is recorded, unless one stands. All with channel
        ``gpc``, in one transaction (see :mod:`pledge.consent.gpc`).

        Args:
            subject_id: the person whose browser sent the signal.
            jurisdiction: where the request comes from; nothing happens where GPC does not
                apply.
            evidence: IP address and user agent of the request (kept with consent events).
            actor: who recorded it.

        Returns:
            The consent events recorded (none when nothing needed changing or GPC does not
            apply); the objections are read with
            :meth:`pledge.enforcement.objections.Objections.standing`.

        Raises:
            NotFound: no such subject, or it was erased.
        """
        if not self.gpc_applies(jurisdiction):
            return []
        notices = {key: self._notices[key] for key in self._gpc_purposes if key in self._notices}
        others = [key for key in self._gpc_purposes if key not in self._notices]
        with self.database.transaction() as connection:
            commands = consent_opt_outs(
                connection, subject_id, notices, actor=actor, evidence=evidence
            )
            recorded = self._append(connection, commands) if commands else []
            objected = object_to_sharing(
                connection, subject_id, others, actor=actor, clock=self.clock
            )
        if recorded or objected:
            self._notify(subject_id)
        return recorded

    @property
    def gpc_purposes(self) -> tuple[str, ...]:
        """The purposes a GPC signal opts out of (declared as sale/sharing or targeted ads)."""
        return self._gpc_purposes
