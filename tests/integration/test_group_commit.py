"""Group commit: concurrent consent decisions committed together, on SQLite and PostgreSQL.

To put several decisions in one batch deterministically, a test holds what every write needs
(SQLite: the write transaction; PostgreSQL: the audit head's row lock) while one decision
keeps the committer busy; everything recorded meanwhile waits, and forms the next batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.integration.conftest import CONSENT_DECLARATION

from pledge import loads
from pledge.consent.model import ConsentEvent, RecordConsent
from pledge.consent.proof import seal_checkpoint, verify
from pledge.consent.service import ConsentLedger
from pledge.enforcement import audit
from pledge.errors import ConsentError, NotFound, StoreUnavailable, UsageError
from pledge.store.database import Database
from pledge.store.tables import audit_head, consent_events
from pledge.subjects.crypto import Keyring
from pledge.subjects.model import Identity
from pledge.subjects.service import Subjects

THREADS = 32
WRITES_PER_THREAD = 20
DECISIONS = ("granted", "withdrawn", "refused")


@pytest.fixture
def subjects(store: Database) -> Subjects:
    """The subjects service on the store, under a random master key."""
    return Subjects(store, Keyring(os.urandom(32)))


@pytest.fixture
def ledger(store: Database, subjects: Subjects) -> Iterator[ConsentLedger]:
    """A ledger on the store, closed at the end of the test."""
    opened = ConsentLedger(store, loads(CONSENT_DECLARATION), subjects)
    try:
        yield opened
    finally:
        opened.close()


def person(subjects: Subjects, name: str) -> str:
    """A subject known by an e-mail address."""
    return subjects.find_or_create(Identity.parse("email", f"{name}@example.com"), actor="test")


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for ``condition`` to hold, or fail."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


@contextmanager
def writes_held(store: Database) -> Iterator[None]:
    """Hold what every consent write needs until the block ends (see the module docstring)."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.transaction() as connection:
            connection.execute(
                select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update()
            )
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


def consent_count(store: Database) -> int:
    """How many consent events are stored."""
    with store.read() as connection:
        return int(connection.execute(select(func.count()).select_from(consent_events)).scalar())


def audit_count(store: Database) -> int:
    """How many audit events are stored."""
    with store.read() as connection:
        return audit.head(connection)[0]


def test_many_threads_on_many_subjects_and_one_lose_nothing_and_keep_every_chain_valid(
    store: Database, subjects: Subjects, ledger: ConsentLedger
) -> None:
    """32 threads write 640 decisions, half to their own subjects, half to one shared one."""
    shared = person(subjects, "shared")
    own = [person(subjects, f"writer{n}") for n in range(THREADS)]
    audit_before = audit_count(store)

    def write(thread: int) -> list[ConsentEvent]:
        events = []
        for n in range(WRITES_PER_THREAD):
            subject = shared if n % 2 else own[thread]
            purpose = ("newsletter", "analytics")[n % 4 // 2]
            events.append(
                ledger.record(subject, purpose, DECISIONS[n % 3], channel="api", actor=f"t{thread}")
            )
        return events

    with ThreadPoolExecutor(THREADS) as pool:
        answered = [event for events in pool.map(write, range(THREADS)) for event in events]

    total = THREADS * WRITES_PER_THREAD
    assert len(answered) == total == consent_count(store)
    assert audit_count(store) - audit_before == total
    with store.read() as connection:
        rows = connection.execute(
            select(consent_events.c.subject_id, consent_events.c.seq, consent_events.c.id)
        ).all()
    chains: dict[str, list[int]] = {}
    for subject_id, seq, _ in rows:
        chains.setdefault(subject_id, []).append(seq)
    assert sorted(chains[shared]) == list(range(1, total // 2 + 1))
    for subject_id in own:
        assert sorted(chains[subject_id]) == list(range(1, WRITES_PER_THREAD // 2 + 1))
    assert {event.id for event in answered} == {row.id for row in rows}  # each answer is stored
    seal_checkpoint(store)
    report = verify(store)
    assert report.ok, report.problems[:3]


def test_a_refused_decision_fails_alone_and_the_rest_of_its_batch_commits(
    store: Database, subjects: Subjects, ledger: ConsentLedger
) -> None:
    """Unknown, erased and child subjects get today's errors; their batch is still written."""
    ann, bob, guardian, child, gone = (
        person(subjects, name) for name in ("ann", "bob", "guardian", "child", "gone")
    )
    subjects.set_consent_age(
        child,
        consent_age_from=dt.datetime.now(dt.UTC) + dt.timedelta(days=365),
        guardian_id=guardian,
        actor="test",
    )
    subjects.erase(gone, actor="test")
    writes: list[tuple[str, str, str]] = [
        (ann, "newsletter", "granted"),
        ("01UNKNOWNSUBJECT0000000000", "newsletter", "granted"),
        (bob, "analytics", "refused"),
        (ann, "newsletter", "withdrawn"),
        (gone, "newsletter", "granted"),
        (child, "newsletter", "granted"),
        (ann, "analytics", "granted"),
    ]
    with ThreadPoolExecutor(len(writes) + 1) as pool, writes_held(store):
        plug = pool.submit(ledger.grant, bob, "newsletter", channel="api", actor="t")
        wait_until(lambda: ledger.committer.in_flight == 1)  # its batch begun
        answers: list[Future[ConsentEvent]] = []
        for number, (subject_id, purpose, decision) in enumerate(writes, start=2):
            answers.append(
                pool.submit(ledger.record, subject_id, purpose, decision, channel="api", actor="t")
            )
            wait_until(lambda number=number: ledger.committer.pending == number)  # in order
    assert plug.result().seq == 1
    with pytest.raises(NotFound, match="no subject 01UNKNOWNSUBJECT0000000000"):
        answers[1].result()
    with pytest.raises(NotFound, match=f"subject {gone} was erased"):
        answers[4].result()
    with pytest.raises(ConsentError, match="too young to consent alone"):
        answers[5].result()
    committed = [answers[index].result() for index in (0, 2, 3, 6)]
    assert [(event.subject_id, event.seq) for event in committed] == [
        (ann, 1),
        (bob, 2),
        (ann, 2),
        (ann, 3),
    ]
    assert (
        committed[2].prev_hash == committed[0].hash and committed[3].prev_hash == committed[2].hash
    )
    assert len({event.occurred_at for event in committed}) == 1  # one transaction
    assert consent_count(store) == 5
    assert ledger.state(ann)["newsletter"].decision == "withdrawn"
    report = verify(store)
    assert report.ok, report.problems[:3]


def test_a_unit_with_a_refused_decision_fails_whole_and_the_rest_of_its_batch_commits(
    store: Database, subjects: Subjects, ledger: ConsentLedger
) -> None:
    """Decisions submitted together share one fate; other callers in the batch keep theirs."""
    ann, bob, guardian, child = (
        person(subjects, name) for name in ("ann", "bob", "guardian", "child")
    )
    subjects.set_consent_age(
        child,
        consent_age_from=dt.datetime.now(dt.UTC) + dt.timedelta(days=365),
        guardian_id=guardian,
        actor="test",
    )

    def check(subject_id: str, purpose: str, decision: str) -> RecordConsent:
        return ledger.check(subject_id, purpose, decision, channel="form", actor="t")

    units = [
        [check(ann, "newsletter", "granted"), check(ann, "analytics", "refused")],
        [check(child, "analytics", "refused"), check(child, "newsletter", "granted")],
        [check(bob, "analytics", "granted")],
    ]
    with ThreadPoolExecutor(len(units) + 1) as pool, writes_held(store):
        plug = pool.submit(ledger.grant, bob, "newsletter", channel="api", actor="t")
        wait_until(lambda: ledger.committer.in_flight == 1)  # its batch begun
        answers = []
        waiting = 1
        for unit in units:
            answers.append(pool.submit(ledger.record_commands, unit))
            waiting += len(unit)
            wait_until(lambda waiting=waiting: ledger.committer.pending == waiting)
    assert plug.result().seq == 1
    with pytest.raises(ConsentError, match="too young to consent alone"):
        answers[1].result()
    assert [(event.purpose, event.seq) for event in answers[0].result()] == [
        ("newsletter", 1),
        ("analytics", 2),
    ]
    assert [event.seq for event in answers[2].result()] == [2]
    assert len({event.occurred_at for event in [*answers[0].result(), *answers[2].result()]}) == 1
    assert ledger.state(child) == {}
    assert consent_count(store) == 4
    assert verify(store).ok


def test_a_coroutine_waits_for_its_decisions_on_the_event_loop(
    store: Database, subjects: Subjects, ledger: ConsentLedger
) -> None:
    """record_commands_async answers once committed, and raises a refusal like the others."""
    ann = person(subjects, "ann")

    async def record() -> list[ConsentEvent]:
        commands = [
            ledger.check(ann, "newsletter", "granted", channel="api", actor="t"),
            ledger.check(ann, "analytics", "granted", channel="api", actor="t"),
        ]
        return await ledger.record_commands_async(commands)

    async def refused() -> None:
        unknown = ledger.check(
            "01UNKNOWNSUBJECT0000000000", "newsletter", "granted", channel="api", actor="t"
        )
        await ledger.record_commands_async([unknown])

    events = asyncio.run(record())
    assert [event.seq for event in events] == [1, 2]
    assert consent_count(store) == 2
    with pytest.raises(NotFound, match="no subject 01UNKNOWNSUBJECT0000000000"):
        asyncio.run(refused())
    assert consent_count(store) == 2


def test_a_decision_whose_waiting_coroutine_is_cancelled_is_still_committed(
    store: Database, subjects: Subjects, ledger: ConsentLedger
) -> None:
    """A client that goes away does not take back a decision still waiting for its batch."""
    ann, bob = person(subjects, "ann"), person(subjects, "bob")

    async def record_then_cancel() -> None:
        command = ledger.check(bob, "newsletter", "granted", channel="api", actor="t")
        waiting = asyncio.ensure_future(ledger.record_commands_async([command]))
        await asyncio.to_thread(wait_until, lambda: ledger.committer.pending == 2)  # queued
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    with ThreadPoolExecutor(1) as pool:
        with writes_held(store):
            plug = pool.submit(ledger.grant, ann, "newsletter", channel="api", actor="t")
            wait_until(lambda: ledger.committer.in_flight == 1)  # its batch begun
            asyncio.run(record_then_cancel())
        assert plug.result(timeout=30).seq == 1
    wait_until(lambda: consent_count(store) == 2)
    assert ledger.state(bob)["newsletter"].granted


def test_a_coroutine_whose_batch_does_not_begin_in_time_gets_store_unavailable(
    store: Database, subjects: Subjects
) -> None:
    """As for a thread: after wait_seconds in the queue it is taken back, and not written."""
    ledger = ConsentLedger(store, loads(CONSENT_DECLARATION), subjects, wait_seconds=0.2)
    ann, bob = person(subjects, "ann"), person(subjects, "bob")

    async def record() -> list[ConsentEvent]:
        command = ledger.check(bob, "newsletter", "granted", channel="api", actor="t")
        return await ledger.record_commands_async([command])

    try:
        with ThreadPoolExecutor(1) as pool, writes_held(store):
            plug = pool.submit(ledger.grant, ann, "newsletter", channel="api", actor="t")
            wait_until(lambda: ledger.committer.in_flight == 1)  # its batch begun
            with pytest.raises(StoreUnavailable, match=r"not committed within 0\.2 s"):
                asyncio.run(record())
        assert plug.result(timeout=30).seq == 1
    finally:
        ledger.close()
    assert ledger.state(bob) == {}


def test_when_the_store_fails_every_caller_in_the_batch_gets_store_unavailable(
    store: Database, subjects: Subjects, ledger: ConsentLedger
) -> None:
    """The batch's transaction fails: each of its callers is told, and nothing is written.

    SQLite: the store's folder is moved away, so no connection opens. PostgreSQL: the
    committer's connection is terminated while it waits for the audit head, once for the
    plug's batch, once for the batch of five.
    """
    people = [person(subjects, f"p{n}") for n in range(5)]
    audit_before = audit_count(store)
    folder = Path(str(store.url.database)).parent  # SQLite
    away = folder.parent / f"{folder.name}-away"
    with ThreadPoolExecutor(len(people) + 1) as pool:
        with writes_held(store):
            plug = pool.submit(ledger.grant, people[0], "analytics", channel="api", actor="t")
            wait_until(lambda: ledger.committer.in_flight == 1)  # its batch begun
            batch = [
                pool.submit(ledger.grant, subject_id, "newsletter", channel="api", actor="t")
                for subject_id in people
            ]
            wait_until(lambda: ledger.committer.pending == 1 + len(people))
            if store.dialect == "postgresql":
                first = _terminate_waiting_writer(store)
                with pytest.raises(StoreUnavailable):
                    plug.result(timeout=30)
                _terminate_waiting_writer(store, other_than=first)
            else:
                folder.rename(away)
                store.dispose()  # the pooled connections would outlive the move
        try:
            failures = [answer.exception(timeout=30) for answer in [plug, *batch]]
        finally:
            if store.dialect == "sqlite" and away.exists():
                away.rename(folder)
    assert all(isinstance(failure, StoreUnavailable) for failure in failures), failures
    assert all("unavailable" in str(failure) for failure in failures)
    assert len({id(failure) for failure in failures}) == len(failures)  # each its own
    assert consent_count(store) == 0
    assert audit_count(store) == audit_before
    assert ledger.grant(people[0], "newsletter", channel="api", actor="t").seq == 1  # recovered


def test_close_commits_the_waiting_decisions_then_refuses_new_ones(
    store: Database, subjects: Subjects, ledger: ConsentLedger
) -> None:
    """close() drains: what was recorded before it is committed and answered."""
    people = [person(subjects, f"c{n}") for n in range(6)]
    with ThreadPoolExecutor(len(people) + 1) as pool:
        with writes_held(store):
            answers = [
                pool.submit(ledger.grant, subject_id, "newsletter", channel="api", actor="t")
                for subject_id in people
            ]
            wait_until(lambda: ledger.committer.pending == len(people))
            closing = pool.submit(ledger.close)
            time.sleep(0.05)
            assert not closing.done()  # it waits for the decisions to be committed
        closing.result(timeout=30)
        assert [answer.result(timeout=10).seq for answer in answers] == [1] * len(people)
    assert consent_count(store) == len(people)
    with pytest.raises(UsageError, match="closed"):
        ledger.grant(people[0], "analytics", channel="api", actor="t")
    with store.transaction() as connection:  # in the caller's transaction it still works
        event = ledger.grant(
            people[0], "analytics", channel="api", actor="t", connection=connection
        )
    assert event.seq == 2
    ledger.close()  # twice is fine


def test_a_decision_whose_batch_does_not_begin_in_time_is_taken_back(
    store: Database, subjects: Subjects
) -> None:
    """After wait_seconds in the queue the caller gets StoreUnavailable, and it is not written."""
    ledger = ConsentLedger(store, loads(CONSENT_DECLARATION), subjects, wait_seconds=0.2)
    ann, bob = person(subjects, "ann"), person(subjects, "bob")
    try:
        with ThreadPoolExecutor(2) as pool:
            with writes_held(store):
                plug = pool.submit(ledger.grant, ann, "newsletter", channel="api", actor="t")
                wait_until(lambda: ledger.committer.in_flight == 1)  # its batch begun
                with pytest.raises(StoreUnavailable, match=r"not committed within 0\.2 s"):
                    ledger.grant(bob, "newsletter", channel="api", actor="t")
                time.sleep(0.3)
                assert not plug.done()  # in its batch already: it waits for the outcome
            assert plug.result(timeout=30).seq == 1
    finally:
        ledger.close()
    assert consent_count(store) == 1
    assert ledger.state(bob) == {}


def test_a_read_does_not_wait_for_a_writer(store: Database) -> None:
    """While a write transaction is open, reads still answer at once (SQLite: WAL)."""
    with writes_held(store):
        started = time.monotonic()
        with store.read() as connection:
            assert audit.head(connection)[0] == 0
        assert time.monotonic() - started < 1


def _terminate_waiting_writer(store: Database, other_than: int | None = None) -> int:
    """Terminate the PostgreSQL backend waiting for a lock (the committer's); its pid."""
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    with store.engine.connect() as admin:
        admin.execution_options(isolation_level="AUTOCOMMIT")
        deadline = time.monotonic() + 10
        while True:
            waiting = [pid for pid in admin.execute(query).scalars() if pid != other_than]
            if waiting:
                break
            assert time.monotonic() < deadline, "no writer waits for the audit head"
            time.sleep(0.01)
        assert len(waiting) == 1
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting[0]})
        return int(waiting[0])
