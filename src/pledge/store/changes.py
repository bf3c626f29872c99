"""What changed, told to the caches of every process: a withdrawal counts at once, everywhere.

A service that changes what a cache holds (a subject's consent, objections or restriction; an
API key) calls :func:`announce` in the transaction of the change. Once it commits, the
process's own listeners hear of it at once (:func:`pledge.store.database.after_commit`), and a
row of ``changes`` tells every other process: each runs a :class:`ChangeFeed` that tails the
table and calls the same listeners. On PostgreSQL the transaction also sends ``NOTIFY``, so
the feeds wake the moment it commits (a notification is only ever sent on commit); on SQLite
the feeds watch the file's ``data_version``, which moves whenever another connection commits.
Either way a feed also looks every second, so nothing depends on a notification arriving.

Listeners are told a kind and an id (never personal data); hearing of a change twice is
harmless (a cache forgets twice).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text

from pledge.clock import Clock, utc_now
from pledge.errors import StoreUnavailable
from pledge.store.database import Database, after_commit
from pledge.store.tables import changes

log = logging.getLogger(__name__)

SUBJECT = "subject"
API_KEY = "apikey"
CHANNEL = "pledge_changes"
"""The PostgreSQL notification channel."""

KEEP = dt.timedelta(minutes=10)
"""How long a change is kept for feeds to read (a process that was away longer starts
empty-handed anyway: its caches start empty)."""
_LOOK_BACK = 200  # rows of a PostgreSQL sequence may commit out of order: read a little back

Listener = Callable[[str, str], None]
"""Told ``(kind, ref)`` of a committed change."""


class Listeners:
    """The caches of one process that want to hear of changes, by the store they read."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def add(self, listener: Listener) -> None:
        """Tell ``listener`` of every committed change, in this process and elsewhere."""
        with self._lock:
            self._listeners.append(listener)

    def tell(self, kind: str, ref: str) -> None:
        """Tell every listener of a change; one that fails is logged and the others still
        hear of it."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(kind, ref)
            except Exception:
                log.exception("a listener of changes failed on %s %s", kind, ref)


def announce(
    connection: Connection,
    listeners: Listeners | None,
    kind: str,
    refs: list[str],
    *,
    clock: Clock = utc_now,
) -> None:
    """Record in the caller's transaction that ``refs`` of ``kind`` changed.

    This process's ``listeners`` hear of it when the transaction commits; other processes
    through their feeds.
    """
    if not refs:
        return
    now = clock()
    connection.execute(insert(changes), [{"kind": kind, "ref": ref, "at": now} for ref in refs])
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"NOTIFY {CHANNEL}"))
    if listeners is not None:

        def told() -> None:
            for ref in refs:
                listeners.tell(kind, ref)

        after_commit(connection, told)


class ChangeFeed:
    """Tails ``changes`` in a thread of its own and tells ``listeners`` of every change that
    other processes commit (and of this process's, a second time: harmless).

    Args:
        database: Pledge's store.
        listeners: whom to tell.
        poll: the longest wait between two looks at the table, in seconds.
        clock: the time source (for pruning old rows).
    """

    def __init__(
        self,
        database: Database,
        listeners: Listeners,
        *,
        poll: float = 1.0,
        clock: Clock = utc_now,
    ) -> None:
        self.database = database
        self.listeners = listeners
        self.poll = poll
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = 0
        self._told: set[int] = set()
        self._pruned = dt.datetime.min.replace(tzinfo=dt.UTC)

    def start(self) -> None:
        """Start tailing from the changes committed so far (none of them is told)."""
        if self._thread is not None:
            return
        try:
            with self.database.read() as connection:
                self._last = int(connection.execute(select(func.max(changes.c.seq))).scalar() or 0)
                self._told = set(
                    connection.execute(
                        select(changes.c.seq).where(changes.c.seq > self._last - _LOOK_BACK)
                    ).scalars()
                )
        except StoreUnavailable:
            self._last = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pledge-changes", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop tailing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def catch_up(self) -> int:
        """Read the changes committed since the last look and tell the listeners; returns how
        many were read."""
        with self.database.read() as connection:
            rows = connection.execute(
                select(changes.c.seq, changes.c.kind, changes.c.ref)
                .where(changes.c.seq > self._last - _LOOK_BACK)
                .order_by(changes.c.seq)
            ).all()
        # Rows a little behind the last one read are read again (a sequence's numbers may
        # commit out of order on PostgreSQL), but each change is told once.
        fresh = [row for row in rows if row.seq not in self._told]
        for row in fresh:
            self.listeners.tell(row.kind, row.ref)
        if rows:
            self._last = max(self._last, rows[-1].seq)
        self._told = {row.seq for row in rows} | {
            seq for seq in self._told if seq > self._last - _LOOK_BACK
        }
        self._prune()
        return len(fresh)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.database.dialect == "postgresql":
                    self._listen()
                else:
                    self._watch()
            except Exception:  # the store went away: look again in a while
                log.warning("the feed of changes lost the store; retrying", exc_info=True)
                self._stop.wait(self.poll)

    def _listen(self) -> None:
        # A connection of its own, in autocommit, that the server notifies on every commit.
        raw: Any = self.database.engine.raw_connection()
        try:
            driver = raw.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {CHANNEL}")
            self.catch_up()
            while not self._stop.is_set():
                for _ in driver.notifies(timeout=self.poll, stop_after=1):
                    break
                self.catch_up()
        finally:
            raw.close()

    def _watch(self) -> None:
        # SQLite: data_version moves when another connection commits; looking is cheap.
        raw: Any = self.database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            seen = None
            waited = 0.0
            step = min(0.02, self.poll)
            while not self._stop.is_set():
                version = cursor.execute("PRAGMA data_version").fetchone()[0]
                if version != seen or waited >= self.poll:
                    seen, waited = version, 0.0
                    self.catch_up()
                self._stop.wait(step)
                waited += step
        finally:
            raw.close()

    def _prune(self) -> None:
        now = self.clock()
        if now - self._pruned < KEEP / 10:
            return
        self._pruned = now
        try:
            with self.database.transaction() as connection:
                connection.execute(delete(changes).where(changes.c.at < now - KEEP))
        except StoreUnavailable:
            pass


__all__ = ["API_KEY", "SUBJECT", "ChangeFeed", "Listeners", "announce"]
