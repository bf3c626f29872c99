"""Subjects: find a person by any of their identities, keep their identities encrypted, and
erase them by destroying their key.

Every change is written to the audit trail in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from pledge.clock import Clock, utc_now
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import NotFound
from pledge.ids import new_id
from pledge.store.changes import SUBJECT, announce
from pledge.store.database import Database, after_commit
from pledge.store.tables import identities, subjects
from pledge.subjects.crypto import KeyDestroyed, Keyring, decrypt, encrypt
from pledge.subjects.model import Identity, IdentityKind


@dataclass(frozen=True, slots=True)
class SubjectRecord:
    """What Pledge knows about a subject, decrypted."""

    id: str
    created_at: dt.datetime
    erased: bool
    restricted: bool
    consent_age_from: dt.datetime | None
    guardian_id: str | None
    identities: tuple[Identity, ...]


class Subjects:
    """The subjects service.

    Args:
        database: Pledge's store.
        keyring: keys derived from the master key.
        clock: the time source.
        key_cache_size: how many unwrapped data keys to keep in memory.
        on_change: called with the subject's id after a committed change that affects
            decisions (erasure, restriction, age), so caches drop what they knew.
    """

    def __init__(
        self,
        database: Database,
        keyring: Keyring,
        *,
        clock: Clock = utc_now,
        key_cache_size: int = 10_000,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.on_change = on_change
        self.database = database
        self.keyring = keyring
        self.clock = clock
        self._keys: OrderedDict[str, bytes] = OrderedDict()
        self._keys_lock = threading.Lock()
        self._key_cache_size = key_cache_size

    # --- finding and creating -----------------------------------------------------------------

    def find(self, identity: Identity, connection: Connection | None = None) -> str | None:
        """The id of the subject with this identity, or None."""
        index = self.keyring.blind_index(identity.kind, identity.value)
        query = select(identities.c.subject_id).where(
            identities.c.kind == str(identity.kind), identities.c.blind_index == index
        )
        if connection is not None:
            return connection.execute(query).scalar_one_or_none()
        with self.database.read() as own:
            return own.execute(query).scalar_one_or_none()

    def resolve(self, connection: Connection, identity: Identity, *, actor: str) -> str:
        """The subject with this identity, created (in the caller's transaction) if new."""
        found = self.find(identity, connection)
        if found is not None:
            return found
        return self.create_in(connection, [identity], actor=actor)

    def find_or_create(self, identity: Identity, *, actor: str) -> str:
        """The subject with this identity, created if new. Safe under concurrent callers."""
        for _ in range(3):
            try:
                with self.database.transaction() as connection:
                    return self.resolve(connection, identity, actor=actor)
            except IntegrityError:  # another writer created it between our read and insert
                continue
        found = self.find(identity)
        if found is None:  # pragma: no cover - only under pathological contention
            raise NotFound("could not create the subject")
        return found

    def create(self, found_by: Iterable[Identity], *, actor: str) -> str:
        """A new subject with the given identities.

        Raises:
            IntegrityError: one of the identities already belongs to a subject.
        """
        with self.database.transaction() as connection:
            return self.create_in(connection, list(found_by), actor=actor)

    def create_in(self, connection: Connection, found_by: list[Identity], *, actor: str) -> str:
        """Create a subject inside the caller's transaction."""
        subject_id = new_id()
        now = self.clock()
        key, wrapped = self.keyring.new_data_key(subject_id)
        connection.execute(
            insert(subjects).values(
                id=subject_id, created_at=now, key_wrapped=wrapped, restricted=False
            )
        )
        for identity in found_by:
            self._insert_identity(connection, subject_id, key, identity, now)
        self._remember(subject_id, key)
        kinds = sorted({str(identity.kind) for identity in found_by})
        audit.record(
            connection,
            AuditEntry("subject.created", actor, subject_id, details={"identities": kinds}),
            clock=self.clock,
        )
        return subject_id

    def add_identity(self, subject_id: str, identity: Identity, *, actor: str) -> None:
        """Let the subject be found by one more identity."""
        with self.database.transaction() as connection:
            key = self.data_key(connection, subject_id)
            self._insert_identity(connection, subject_id, key, identity, self.clock())
            audit.record(
                connection,
                AuditEntry(
                    "subject.identity_added",
                    actor,
                    subject_id,
                    details={"kind": str(identity.kind)},
                ),
                clock=self.clock,
            )

    def _insert_identity(
        self,
        connection: Connection,
        subject_id: str,
        key: bytes,
        identity: Identity,
        now: dt.datetime,
    ) -> None:
        connection.execute(
            insert(identities).values(
                id=new_id(),
                subject_id=subject_id,
                kind=str(identity.kind),
                blind_index=self.keyring.blind_index(identity.kind, identity.value),
                value_encrypted=encrypt(
                    key,
                    identity.value.encode(),
                    subject_id=subject_id,
                    field=f"identity/{identity.kind}",
                ),
                created_at=now,
            )
        )

    # --- reading ------------------------------------------------------------------------------

    def get(self, subject_id: str, connection: Connection | None = None) -> SubjectRecord:
        """A subject with its identities decrypted.

        Raises:
            NotFound: no such subject.
        """
        if connection is None:
            with self.database.read() as own:
                return self.get(subject_id, own)
        row = (
            connection.execute(select(subjects).where(subjects.c.id == subject_id))
            .mappings()
            .one_or_none()
        )
        if row is None:
            raise NotFound(f"no subject {subject_id}")
        found: list[Identity] = []
        if row["erased_at"] is None:
            key = self.data_key(connection, subject_id)
            for kind, ciphertext in connection.execute(
                select(identities.c.kind, identities.c.value_encrypted)
                .where(identities.c.subject_id == subject_id)
                .order_by(identities.c.id)
            ):
                value = decrypt(key, ciphertext, subject_id=subject_id, field=f"identity/{kind}")
                found.append(Identity(IdentityKind(kind), value.decode()))
        return SubjectRecord(
            id=subject_id,
            created_at=row["created_at"],
            erased=row["erased_at"] is not None,
            restricted=row["restricted"],
            consent_age_from=row["consent_age_from"],
            guardian_id=row["guardian_id"],
            identities=tuple(found),
        )

    def exists(self, connection: Connection, subject_id: str) -> bool:
        """Whether a subject with this id exists (erased or not)."""
        return (
            connection.execute(select(subjects.c.id).where(subjects.c.id == subject_id)).first()
            is not None
        )

    # --- keys and encryption ------------------------------------------------------------------

    def data_key(self, connection: Connection, subject_id: str) -> bytes:
        """The subject's data key (cached in memory).

        Raises:
            NotFound: no such subject.
            KeyDestroyed: the subject was erased.
        """
        with self._keys_lock:
            key = self._keys.get(subject_id)
            if key is not None:
                self._keys.move_to_end(subject_id)
                return key
        wrapped = connection.execute(
            select(subjects.c.key_wrapped, subjects.c.id).where(subjects.c.id == subject_id)
        ).one_or_none()
        if wrapped is None:
            raise NotFound(f"no subject {subject_id}")
        key = self.keyring.unwrap(wrapped.key_wrapped, subject_id)
        self._remember(subject_id, key)
        return key

    def encrypt(
        self, connection: Connection, subject_id: str, field: str, plaintext: bytes
    ) -> bytes:
        """``plaintext`` encrypted under the subject's key, bound to ``field``."""
        return encrypt(
            self.data_key(connection, subject_id), plaintext, subject_id=subject_id, field=field
        )

    def decrypt(
        self, connection: Connection, subject_id: str, field: str, ciphertext: bytes
    ) -> bytes:
        """The plaintext of :meth:`encrypt`; KeyDestroyed once the subject is erased."""
        return decrypt(
            self.data_key(connection, subject_id), ciphertext, subject_id=subject_id, field=field
        )

    def _remember(self, subject_id: str, key: bytes) -> None:
        with self._keys_lock:
            self._keys[subject_id] = key
            self._keys.move_to_end(subject_id)
            while len(self._keys) > self._key_cache_size:
                self._keys.popitem(last=False)

    def _forget(self, subject_id: str) -> None:
        with self._keys_lock:
            self._keys.pop(subject_id, None)

    # --- changes ------------------------------------------------------------------------------

    def erase(self, subject_id: str, *, actor: str, reason: str = "erasure") -> None:
        """Crypto-shred a subject: destroy its data key and the blind indexes it is found by.

        What remains (consent events, audit events) keeps its hashes, so the chains still
        verify, but nothing personal in it can be decrypted or looked up any more. A subject
        erased before is left as it is (nothing more is recorded).

        Raises:
            NotFound: no such subject.
        """
        with self.database.transaction() as connection:
            found = connection.execute(
                select(subjects.c.erased_at).where(subjects.c.id == subject_id)
            ).first()
            if found is None:
                raise NotFound(f"no subject {subject_id}")
            if found.erased_at is not None:
                return
            connection.execute(delete(identities).where(identities.c.subject_id == subject_id))
            connection.execute(
                update(subjects)
                .where(subjects.c.id == subject_id)
                .values(key_wrapped=None, erased_at=self.clock(), restricted=False)
            )
            audit.record(
                connection,
                AuditEntry("subject.erased", actor, subject_id, details={"reason": reason}),
                clock=self.clock,
            )
            self._announce(connection, subject_id)
        self._forget(subject_id)

    def set_restricted(
        self, subject_id: str, restricted: bool, *, actor: str, reason: str = ""
    ) -> None:
        """Restrict processing to storage only (GDPR Art. 18), or lift the restriction."""
        with self.database.transaction() as connection:
            changed = connection.execute(
                update(subjects).where(subjects.c.id == subject_id).values(restricted=restricted)
            ).rowcount
            if not changed:
                raise NotFound(f"no subject {subject_id}")
            action = "subject.restricted" if restricted else "subject.restriction_lifted"
            audit.record(
                connection,
                AuditEntry(action, actor, subject_id, details={"reason": reason}),
                clock=self.clock,
            )
            self._announce(connection, subject_id)

    def set_consent_age(
        self,
        subject_id: str,
        *,
        consent_age_from: dt.datetime | None,
        guardian_id: str | None,
        actor: str,
    ) -> None:
        """Record from when the subject may consent alone, and who their guardian is (Art. 8)."""
        with self.database.transaction() as connection:
            changed = connection.execute(
                update(subjects)
                .where(subjects.c.id == subject_id)
                .values(consent_age_from=consent_age_from, guardian_id=guardian_id)
            ).rowcount
            if not changed:
                raise NotFound(f"no subject {subject_id}")
            details = {"child": consent_age_from is not None, "guardian": guardian_id}
            audit.record(
                connection,
                AuditEntry("subject.age_recorded", actor, subject_id, details=details),
                clock=self.clock,
            )
            self._announce(connection, subject_id)

    def _announce(self, connection: Connection, subject_id: str) -> None:
        """Tell the caches, once the transaction commits: this process's through
        ``on_change``, every other process's through the feed of changes."""
        announce(connection, None, SUBJECT, [subject_id], clock=self.clock)
        if self.on_change is not None:
            on_change = self.on_change
            after_commit(connection, lambda: on_change(subject_id))


__all__ = ["KeyDestroyed", "SubjectRecord", "Subjects"]
