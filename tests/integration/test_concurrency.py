"""Parallel writers: many threads, many subjects and the same subject, on both backends.

Every event must be kept (counted) and every chain must still verify afterwards.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from tests.integration.conftest import CONSENT_DECLARATION

from pledge import loads
from pledge.consent.proof import seal_checkpoint, verify
from pledge.consent.service import ConsentLedger
from pledge.enforcement import audit
from pledge.store.database import Database
from pledge.store.tables import consent_events, consent_state
from pledge.subjects.crypto import Keyring
from pledge.subjects.model import Identity
from pledge.subjects.service import Subjects

THREADS = 8
WRITES_PER_THREAD = 40
DECISIONS = ("granted", "withdrawn", "refused")


def test_parallel_writers_lose_no_event_and_leave_every_chain_valid(store: Database) -> None:
    """8 threads write 320 consent events: half to their own subjects, half to one shared one."""
    subjects = Subjects(store, Keyring(os.urandom(32)))
    ledger = ConsentLedger(store, loads(CONSENT_DECLARATION), subjects)
    shared = subjects.find_or_create(Identity.parse("email", "shared@example.com"), actor="test")
    own = [
        subjects.find_or_create(Identity.parse("email", f"writer{n}@example.com"), actor="test")
        for n in range(THREADS)
    ]
    audit_before = _audit_count(store)

    def write(thread: int) -> None:
        for n in range(WRITES_PER_THREAD):
            subject = shared if n % 2 else own[thread]
            purpose = ("newsletter", "analytics")[n % 4 // 2]
            ledger.record(subject, purpose, DECISIONS[n % 3], channel="api", actor=f"t{thread}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(write, range(THREADS)))

    with store.read() as connection:
        events = connection.execute(select(func.count()).select_from(consent_events)).scalar_one()
        shared_seqs = (
            connection.execute(
                select(consent_events.c.seq)
                .where(consent_events.c.subject_id == shared)
                .order_by(consent_events.c.seq)
            )
            .scalars()
            .all()
        )
        states = connection.execute(select(func.count()).select_from(consent_state)).scalar_one()
    assert events == THREADS * WRITES_PER_THREAD
    assert shared_seqs == list(range(1, THREADS * WRITES_PER_THREAD // 2 + 1))
    assert states == 2 * (THREADS + 1)
    assert _audit_count(store) - audit_before == THREADS * WRITES_PER_THREAD
    seal_checkpoint(store)
    report = verify(store)
    assert report.ok, report.problems[:3]


def test_parallel_subject_creation_for_one_identity_makes_one_subject(store: Database) -> None:
    """Eight threads asking for the same e-mail at once all get the same subject."""
    subjects = Subjects(store, Keyring(os.urandom(32)))
    identity = Identity.parse("email", "race@example.com")
    with ThreadPoolExecutor(THREADS) as pool:
        found = set(
            pool.map(lambda _: subjects.find_or_create(identity, actor="t"), range(THREADS))
        )
    assert len(found) == 1


def _audit_count(store: Database) -> int:
    with store.read() as connection:
        return audit.head(connection)[0]
