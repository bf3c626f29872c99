"""SQLite writers of several processes queue on one lock file instead of SQLite's busy handler."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from pledge.errors import StoreUnavailable
from pledge.store import database as database_module
from pledge.store.database import Database, _FileLock

WAIT = 10.0  # seconds a step of another process may take before the test gives up on it


def _hold(path: Path, held: Event, release: Event) -> None:
    lock = _FileLock(path)
    assert lock.acquire(WAIT)
    held.set()
    release.wait(WAIT)
    lock.release()


def _other_process(path: Path) -> tuple[multiprocessing.Process, Event, Event]:
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    process = context.Process(target=_hold, args=(path, held, release))
    process.start()
    assert held.wait(WAIT), "the other process did not take the lock"
    return process, held, release


def test_a_writer_waits_for_another_process_and_gives_up_after_its_timeout(
    tmp_path: Path,
) -> None:
    """A held lock is not taken; a wait given up leaves nothing locked; release lets it in."""
    path = tmp_path / "pledge.db-writer.lock"
    process, _, release = _other_process(path)
    lock = _FileLock(path)
    try:
        assert not lock.acquire(0.05)
    finally:
        release.set()
        process.join(WAIT)
    assert lock.acquire(WAIT)
    lock.release()
    # The wait given up above took the lock when it came free and let it go again.
    process, _, release = _other_process(path)
    release.set()
    process.join(WAIT)
    assert process.exitcode == 0


def test_a_lock_that_comes_free_while_waiting_is_held(tmp_path: Path) -> None:
    """The waiter is woken with the lock as soon as the other process lets it go."""
    path = tmp_path / "pledge.db-writer.lock"
    process, _, release = _other_process(path)
    lock = _FileLock(path)
    release.set()
    try:
        assert lock.acquire(WAIT)
    finally:
        process.join(WAIT)
    lock.release()


def test_write_transactions_on_sqlite_take_the_file_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another process holds the lock, a write gives up (503), a read goes on."""
    monkeypatch.setattr(database_module, "_WRITE_LOCK_SECONDS", 0.05)
    database = Database(f"sqlite:///{tmp_path / 'pledge.db'}")
    database.upgrade()
    process, _, release = _other_process(tmp_path / "pledge.db-writer.lock")
    try:
        with database.read() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
        with pytest.raises(StoreUnavailable, match="another write held it"), database.transaction():
            pass
    finally:
        release.set()
        process.join(WAIT)
    with database.transaction() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    database.dispose()
