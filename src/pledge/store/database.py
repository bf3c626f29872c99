"""Pledge's own database: the engine, transactions, and schema migrations.

One :class:`Database` per process, built by the composition root (``app.py``). SQLite is the
embedded default (a file, nothing to install); PostgreSQL is the production backend. A
database that cannot be reached raises :class:`~pledge.errors.StoreUnavailable`, and the
transaction that was open is rolled back: nothing is half written.

A write transaction carries hooks to run once it has committed (:func:`after_commit`): a
cache is told of a change only when the change can be read, never in the window before.

On SQLite a write transaction begins with ``BEGIN IMMEDIATE`` and waits for two locks first:
one within the process, then one shared by every process on the file (``flock`` on
``<database>-writer.lock`` beside it), so that writers queue, and the next is woken the
moment the last one commits, instead of polling in SQLite's busy handler (which sleeps 1, 2,
5 … 100 ms between tries: two server processes taking turns lost up to 100 ms a turn). A
read begins with a deferred ``BEGIN`` and takes no lock, so that reads never wait for writers
(WAL gives them the last committed state).
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError

from pledge.errors import StoreUnavailable, UsageError

log = logging.getLogger(__name__)

_READ = "pledge_read"  # an execution option: this transaction only reads
_AFTER_COMMIT = "pledge_after_commit"  # connection.info: hooks run once the transaction commits
_WRITE_LOCK_SECONDS = 30.0  # as long as SQLite's own busy timeout


class Database:
    """Pledge's store: an engine and the transactions on it.

    Args:
        url: a SQLAlchemy URL; ``sqlite:///path.db`` creates the folder when needed.
    """

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = make_url(url)
        self.engine: Engine = _engine(url, **engine_options)
        # SQLite takes one writer at a time anyway; within the process they wait here, woken
        # in turn, rather than in the busy handler's sleeps. Reentrant, so that a nested
        # transaction fails as before (SQLite's busy timeout) instead of hanging.
        self._write_lock = threading.RLock() if self.dialect == "sqlite" else None
        self._writers = 0  # nested write transactions of the thread holding _write_lock
        path = self.url.database if self.dialect == "sqlite" else None
        self._file_lock = (
            _FileLock(Path(f"{path}-writer.lock"))
            if path and path != ":memory:" and not path.startswith("file:")
            else None
        )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a transaction, committed on success, rolled back on any error.

        Raises:
            StoreUnavailable: the database cannot be reached.
        """
        lock = self._write_lock
        if lock is None:
            with (
                _unavailable_as_store_error(),
                self.engine.begin() as connection,
                _hooks(connection) as hooks,
            ):
                yield connection
            _run(hooks)
            return
        deadline = time.monotonic() + _WRITE_LOCK_SECONDS
        if not lock.acquire(timeout=_WRITE_LOCK_SECONDS):
            raise _held()
        try:
            self._writers += 1
            file_lock = self._file_lock if self._writers == 1 else None
            if file_lock is not None and not file_lock.acquire(deadline - time.monotonic()):
                raise _held()
            try:
                with (
                    _unavailable_as_store_error(),
                    self.engine.begin() as connection,
                    _hooks(connection) as hooks,
                ):
                    yield connection
            finally:
                if file_lock is not None:
                    file_lock.release()
        finally:
            self._writers -= 1
            lock.release()
        _run(hooks)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a transaction for reading only; it never waits for a writer.

        On SQLite the transaction is deferred: it takes no lock and sees the state committed
        when it first reads.

        Raises:
            StoreUnavailable: the database cannot be reached.
        """
        with _unavailable_as_store_error(), self.engine.connect() as connection:
            connection.execution_options(**{_READ: True})
            with connection.begin():
                yield connection

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` with Alembic's migrations."""
        from alembic import command

        try:
            with self.engine.begin() as connection:
                config = alembic_config(self)
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except (OperationalError, SAInterfaceError) as error:
            raise StoreUnavailable(f"Pledge's database is unavailable: {_reason(error)}") from error

    def current_revision(self) -> str | None:
        """The schema revision the database is at, or None before the first upgrade."""
        from alembic.runtime.migration import MigrationContext

        with self.read() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def has_schema(self) -> bool:
        """Whether the tables exist (``pledge db upgrade`` has run)."""
        with self.read() as connection:
            return inspect(connection).has_table("audit_head")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def after_commit(connection: Connection, hook: Callable[[], None]) -> None:
    """Run ``hook`` once the transaction of ``connection`` has committed (never if it rolls
    back). A hook that fails is logged: what it follows is committed all the same.

    Raises:
        UsageError: ``connection`` is not in a transaction of :meth:`Database.transaction`.
    """
    hooks = connection.info.get(_AFTER_COMMIT)
    if hooks is None:
        raise UsageError("after_commit needs a transaction of Database.transaction()")
    hooks.append(hook)


@contextmanager
def _hooks(connection: Connection) -> Iterator[list[Callable[[], None]]]:
    # connection.info outlives the checkout (it belongs to the pooled connection): the hooks
    # of a transaction are set at its start and always taken off at its end.
    hooks: list[Callable[[], None]] = []
    info = connection.info  # held: an invalidated connection would refuse to give it again
    info[_AFTER_COMMIT] = hooks
    try:
        yield hooks
    finally:
        info.pop(_AFTER_COMMIT, None)


def _run(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # the transaction is committed; a failing listener must not deny it
            log.exception("a hook after commit failed")


def _held() -> StoreUnavailable:
    return StoreUnavailable(
        f"Pledge's database is unavailable: another write held it for {_WRITE_LOCK_SECONDS:g} s"
    )


class _FileLock:
    """The writers of every process on one SQLite file, queued on ``flock`` of a lock file.

    The kernel wakes a waiting process as soon as the holder unlocks (or exits: a crashed
    process leaves no stale lock). ``flock`` cannot time out, so a contended wait happens in
    a helper thread that the caller waits for at most ``timeout`` seconds; a wait given up
    releases the lock as soon as it gets it. Only the thread holding the database's lock
    within the process calls :meth:`acquire` and :meth:`release`.

    Args:
        path: the lock file, created when missing (it holds nothing).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._pid = -1
        self._descriptor = -1
        self._waits: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._state = threading.Lock()  # settles a wait that ends as its caller gives up

    def acquire(self, timeout: float) -> bool:
        """Lock, waiting at most ``timeout`` seconds. Returns whether the lock is held."""
        if self._pid != os.getpid():  # first use, or a forked child: a lock of its own
            self._open()
        descriptor = self._descriptor
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        outcome = {"held": False, "abandoned": False}
        done = threading.Event()

        def wait() -> None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            except OSError:  # the caller sees no lock held, and says the store is unavailable
                done.set()
                return
            with self._state:  # settled before the caller is woken, so it never misses it
                if outcome["abandoned"]:
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
                else:
                    outcome["held"] = True
            done.set()

        self._waits.put(wait)
        done.wait(max(timeout, 0.0))
        with self._state:
            outcome["abandoned"] = not outcome["held"]
            return outcome["held"]

    def release(self) -> None:
        """Unlock: the next process waiting takes it."""
        fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    def _open(self) -> None:
        self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._pid = os.getpid()
        self._waits = queue.SimpleQueue()
        thread = threading.Thread(
            target=_wait_for_locks, args=(self._waits,), name="pledge-write-lock", daemon=True
        )
        thread.start()


def _wait_for_locks(waits: queue.SimpleQueue[Callable[[], None]]) -> None:
    while True:
        waits.get()()


def alembic_config(database: Database) -> Any:
    """An Alembic configuration pointing at the migrations shipped in this package."""
    from alembic.config import Config

    config = Config()
    location = resources.files("pledge.store").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", database.url.render_as_string(hide_password=False))
    return config


def _engine(url: str, **options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    if parsed.get_backend_name() == "postgresql":
        options.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **options)


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoint; WAL keeps commits
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A write takes the write lock at BEGIN, so that read-then-write transactions (appending
    # to a chain) serialise instead of failing with "database is locked" half-way; a read
    # stays deferred and reads the last committed state without waiting.
    if connection.get_execution_options().get(_READ):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except (OperationalError, SAInterfaceError) as error:
        if _is_unavailable(error):
            raise StoreUnavailable(f"Pledge's database is unavailable: {_reason(error)}") from error
        raise


def _is_unavailable(error: DBAPIError) -> bool:
    text = str(error.orig).lower()
    if "database is locked" in text:
        return True
    return error.connection_invalidated or any(
        phrase in text
        for phrase in (
            "connection refused",
            "could not connect",
            "server closed the connection",
            "terminating connection",
            "connection is closed",
            "the database system is",
            "timeout expired",
            "unable to open database",
            "no such host",
            "connection timed out",
        )
    )


def _reason(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
