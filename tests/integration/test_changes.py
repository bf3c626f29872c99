"""A withdrawal counts at once, everywhere: caches hear of a change after it commits, in the
process that made it and in every other one (the feed of changes), on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.conftest import CONSENT_DECLARATION

from pledge import loads
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.store.database import Database, after_commit
from pledge.store.tables import consent_state
from pledge.subjects.model import Identity

KEY = os.urandom(32)
LONG = 300.0  # a cache lifetime no test waits for: only the feed can explain a fresh answer


def runtime_on(url: str) -> Runtime:
    """A runtime of its own (its own engine, caches and feed) on the store at ``url``, its
    feed of changes started as a server's is."""
    runtime = build_runtime(
        Settings(secret_key=KEY, decision_cache_seconds=LONG),
        declaration=loads(CONSENT_DECLARATION),
        database=Database(url),
        log_mode="sync",
    )
    runtime.changes.start()
    return runtime


@pytest.fixture
def url(store: Database) -> Iterator[str]:
    """The URL of an empty, migrated store (SQLite, then PostgreSQL)."""
    yield store.url.render_as_string(hide_password=False)


def refused_within(runtime: Runtime, subject_id: str, seconds: float) -> bool:
    """Whether ``runtime`` refuses the newsletter for the subject before ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not runtime.decider.may_process(subject_id, "newsletter").allowed:
            return True
        time.sleep(0.01)
    return False


def test_a_withdrawal_in_one_runtime_is_refused_in_another_long_before_its_cache_expires(
    url: str,
) -> None:
    """Two runtimes with caches of five minutes: the second refuses the newsletter as soon
    as the first's withdrawal is committed, through the feed of changes alone."""
    first, second = runtime_on(url), runtime_on(url)
    try:
        ann = first.subjects.find_or_create(Identity.parse("email", "ann@example.org"), actor="t")
        first.ledger.grant(ann, "newsletter", channel="form", actor="t")
        assert second.decider.may_process(ann, "newsletter").allowed  # cached for five minutes
        first.ledger.withdraw(ann, "newsletter", channel="form", actor="t")
        assert not first.decider.may_process(ann, "newsletter").allowed  # at once, here
        assert refused_within(second, ann, 10.0)
    finally:
        first.close()
        second.close()


def test_an_objection_in_one_runtime_counts_in_another_at_once_and_so_does_its_lifting(
    url: str,
) -> None:
    """An objection to fraud prevention (legitimate interests) recorded by one runtime is
    refused by the other despite its five-minute cache; lifted, it is allowed again there."""
    first, second = runtime_on(url), runtime_on(url)
    try:
        ann = first.subjects.find_or_create(Identity.parse("email", "ann@example.org"), actor="t")
        assert second.decider.may_process(ann, "fraud_prevention").allowed  # now cached
        first.objections.record(ann, "fraud_prevention", actor="t")
        assert _answer_within(second, ann, "fraud_prevention", False, 10.0)
        first.objections.lift(ann, "fraud_prevention", actor="t")
        assert _answer_within(second, ann, "fraud_prevention", True, 10.0)
    finally:
        first.close()
        second.close()


def _answer_within(
    runtime: Runtime, subject_id: str, purpose: str, allowed: bool, seconds: float
) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if runtime.decider.may_process(subject_id, purpose).allowed is allowed:
            return True
        time.sleep(0.01)
    return False


def test_a_change_in_a_callers_transaction_is_heard_only_once_committed(url: str) -> None:
    """On the connection= path the cache is told after COMMIT, never before: a listener that
    reads the store when told already sees the withdrawal, and a rollback tells nobody."""
    runtime = runtime_on(url)
    seen: list[str | None] = []

    def read_state(subject_id: str) -> None:
        with runtime.database.read() as connection:
            seen.append(
                connection.execute(
                    select(consent_state.c.decision).where(
                        consent_state.c.subject_id == subject_id,
                        consent_state.c.purpose == "newsletter",
                    )
                ).scalar_one_or_none()
            )

    try:
        ann = runtime.subjects.find_or_create(Identity.parse("email", "ann@example.org"), actor="t")
        runtime.ledger.grant(ann, "newsletter", channel="form", actor="t")
        runtime.ledger.on_change = read_state
        with pytest.raises(RuntimeError), runtime.database.transaction() as connection:
            runtime.ledger.withdraw(
                ann, "newsletter", channel="banner", actor="t", connection=connection
            )
            raise RuntimeError("the caller's transaction fails")
        assert seen == []
        with runtime.database.transaction() as connection:
            runtime.ledger.withdraw(
                ann, "newsletter", channel="banner", actor="t", connection=connection
            )
            assert seen == []  # not before the commit
        assert seen == ["withdrawn"]
    finally:
        runtime.close()


def test_after_commit_runs_only_for_committed_transactions(store: Database) -> None:
    """The hook of a transaction that rolls back never runs, and leaves nothing behind on the
    pooled connection for the next transaction."""
    ran: list[str] = []
    with pytest.raises(RuntimeError), store.transaction() as connection:
        after_commit(connection, lambda: ran.append("rolled back"))
        raise RuntimeError("no")
    with store.transaction() as connection:
        after_commit(connection, lambda: ran.append("committed"))
    with store.transaction():
        pass
    assert ran == ["committed"]


def _withdraw_elsewhere(url: str, subject_id: str) -> None:
    runtime = runtime_on(url)
    try:
        runtime.ledger.withdraw(subject_id, "newsletter", channel="form", actor="elsewhere")
    finally:
        runtime.close()


@pytest.mark.parametrize("store", ["postgresql", "sqlite"], indirect=True)
def test_a_withdrawal_in_another_process_is_refused_here(url: str) -> None:
    """A real second process withdraws; this one, with a five-minute cache, refuses."""
    runtime = runtime_on(url)
    try:
        ann = runtime.subjects.find_or_create(Identity.parse("email", "ann@example.org"), actor="t")
        runtime.ledger.grant(ann, "newsletter", channel="form", actor="t")
        assert runtime.decider.may_process(ann, "newsletter").allowed
        process = multiprocessing.get_context("spawn").Process(
            target=_withdraw_elsewhere, args=(url, ann)
        )
        process.start()
        process.join(60)
        assert process.exitcode == 0
        assert refused_within(runtime, ann, 10.0)
    finally:
        runtime.close()


def test_the_feed_keeps_no_old_changes(tmp_path: Path) -> None:
    """Changes older than the feed's window are pruned as it reads."""
    from pledge.store.changes import KEEP, SUBJECT, ChangeFeed, Listeners, announce
    from pledge.store.tables import changes

    database = Database(f"sqlite:///{tmp_path / 'pledge.db'}")
    database.upgrade()
    now = [time.time()]
    import datetime as dt

    def clock() -> dt.datetime:
        return dt.datetime.fromtimestamp(now[0], dt.UTC)

    try:
        with database.transaction() as connection:
            announce(connection, None, SUBJECT, ["a", "b"], clock=clock)
        now[0] += (KEEP * 2).total_seconds()
        feed = ChangeFeed(database, Listeners(), clock=clock)
        assert feed.catch_up() == 2
        with database.read() as connection:
            assert connection.execute(select(changes)).all() == []
    finally:
        database.dispose()


def test_a_key_revoked_in_another_process_stops_working_here_at_once(url: str) -> None:
    """A server process keeps the keys it checked for five minutes; a key revoked through
    another process (pledge apikey revoke, another worker) is forgotten as soon as the feed
    tells it, and the next request with it is refused."""
    from pledge import keys
    from pledge.errors import AuthError

    server = build_runtime(
        Settings(secret_key=KEY, api_key_cache_seconds=LONG),
        declaration=loads(CONSENT_DECLARATION),
        database=Database(url),
    )
    server.changes.start()
    elsewhere = Database(url)
    try:
        key_id, secret = keys.create(elsewhere, "billing", ["decisions"])
        assert server.keys.authenticate(secret).id == key_id
        assert server.keys.cached(secret) is not None  # no database read for five minutes
        keys.revoke(elsewhere, key_id)
        deadline = time.monotonic() + 10.0
        while server.keys.cached(secret) is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.keys.cached(secret) is None
        with pytest.raises(AuthError):
            server.keys.authenticate(secret)
    finally:
        elsewhere.dispose()
        server.close()


def test_the_feed_tells_each_change_once(tmp_path: Path) -> None:
    """A feed reads a little behind its last row (PostgreSQL may commit a sequence out of
    order) but tells each change once: caches are not cleared again at every look."""
    from pledge.store.changes import SUBJECT, ChangeFeed, Listeners, announce

    database = Database(f"sqlite:///{tmp_path / 'pledge.db'}")
    database.upgrade()
    heard: list[tuple[str, str]] = []
    listeners = Listeners()
    listeners.add(lambda kind, ref: heard.append((kind, ref)))
    try:
        feed = ChangeFeed(database, listeners)
        with database.transaction() as connection:
            announce(connection, None, SUBJECT, ["a"])
        assert feed.catch_up() == 1
        with database.transaction() as connection:
            announce(connection, None, SUBJECT, ["b"])
        assert feed.catch_up() == 1
        assert feed.catch_up() == 0
        assert heard == [(SUBJECT, "a"), (SUBJECT, "b")]
    finally:
        database.dispose()
