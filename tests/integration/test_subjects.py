"""Subjects on both backends: identities found by blind index, erasure by destroying the key."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, text
from tests.integration.conftest import CONSENT_DECLARATION

from pledge import loads
from pledge.app import build_runtime
from pledge.config import Settings
from pledge.store.database import Database
from pledge.store.tables import consent_events, identities, metadata, subjects
from pledge.subjects.crypto import KeyDestroyed, Keyring
from pledge.subjects.model import Identity, InvalidIdentity
from pledge.subjects.service import Subjects

EMAIL = "Ann.Example@Example.COM"


def test_a_subject_is_found_by_any_of_its_identities_normalised(store: Database) -> None:
    """E-mail case and phone formatting do not make a second person."""
    service = Subjects(store, Keyring(os.urandom(32)))
    ann = service.find_or_create(Identity.parse("email", EMAIL), actor="test")
    service.add_identity(
        ann, Identity.parse("phone", "030 1234567", default_region="DE"), actor="t"
    )
    service.add_identity(ann, Identity.parse("account", "acct-42"), actor="t")
    assert service.find(Identity.parse("email", "ann.example@example.com")) == ann
    assert service.find(Identity.parse("phone", "+49 30 1234567")) == ann
    assert service.find(Identity.parse("account", "acct-42")) == ann
    assert service.find(Identity.parse("device", "never-seen")) is None


def test_identities_are_stored_encrypted_and_looked_up_by_keyed_index(store: Database) -> None:
    """No identity appears in the database in plain text, and the index is not a plain hash."""
    service = Subjects(store, Keyring(os.urandom(32)))
    service.find_or_create(Identity.parse("email", EMAIL), actor="test")
    assert EMAIL.lower().encode() not in _every_stored_byte(store)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("email", "not an address"), ("phone", "12"), ("device", " "), ("passport", "X1")],
)
def test_identities_that_cannot_be_normalised_are_refused(kind: str, value: str) -> None:
    """A bad identity is a clear error before anything is stored."""
    with pytest.raises(InvalidIdentity):
        Identity.parse(kind, value)


def test_erasure_leaves_nothing_that_can_be_decrypted_or_found(store: Database) -> None:
    """After erasure: no identity rows, no key, lookups fail, old ciphertext does not open."""
    keyring = Keyring(os.urandom(32))
    service = Subjects(store, keyring)
    ann = service.find_or_create(Identity.parse("email", EMAIL), actor="test")
    with store.read() as connection:
        ciphertext = connection.execute(select(identities.c.value_encrypted)).scalar_one()
    service.erase(ann, actor="test")

    assert service.find(Identity.parse("email", EMAIL)) is None
    assert service.get(ann).erased and service.get(ann).identities == ()
    with store.read() as connection:
        assert connection.execute(select(identities)).all() == []
        wrapped = connection.execute(select(subjects.c.key_wrapped)).scalar_one()
    assert wrapped is None
    with pytest.raises(KeyDestroyed):
        keyring.unwrap(wrapped, ann)
    # A fresh service (no key cache) cannot read the old ciphertext either.
    fresh = Subjects(store, keyring)
    with store.read() as connection, pytest.raises(KeyDestroyed):
        fresh.decrypt(connection, ann, "identity/email", ciphertext)
    assert EMAIL.lower().encode() not in _every_stored_byte(store)


def test_erasure_takes_effect_in_decisions_at_once(store: Database) -> None:
    """The decider forgets an erased subject immediately, whatever its cache time."""
    settings = Settings(secret_key=os.urandom(32), decision_cache_seconds=3600)
    runtime = build_runtime(settings, declaration=loads(CONSENT_DECLARATION), database=store)
    try:
        ann = runtime.subjects.find_or_create(Identity.parse("email", EMAIL), actor="test")
        runtime.ledger.grant(ann, "newsletter", channel="form", actor="test")
        assert runtime.decider.may_process(ann, "newsletter").allowed
        runtime.subjects.erase(ann, actor="test")
        assert not runtime.decider.may_process(ann, "newsletter").allowed
        with store.read() as connection:  # the proof of consent stays
            assert connection.execute(select(consent_events.c.decision)).scalars().all() == [
                "granted"
            ]
    finally:
        runtime.decider.close()


def _every_stored_byte(store: Database) -> bytes:
    """Everything in every table, as bytes, for searching for plain text."""
    found = bytearray()
    with store.read() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        found += bytes(value)
                    elif value is not None:
                        found += str(value).encode()
    return bytes(found)
