"""Group commit: the consent decisions of many callers, committed together in one transaction.

A consent write costs little; its transaction's commit (a flush to disk) and, on
PostgreSQL, the queue for the audit trail's single head cost the most. So the ledger hands
each decision to a :class:`GroupCommitter`: one thread per ledger takes every decision
waiting (up to ``batch_size``), writes them all in one transaction with
:meth:`pledge.consent.writer.ChainWriter.append`, commits, then answers each caller. While
one batch commits the next one gathers, so batches grow with the load and a lone caller
waits for nobody: no timer delays a write.

What a caller is told, exactly
    :meth:`GroupCommitter.submit` returns only after the transaction holding the decision
    has committed; a batch that fails to commit (the database is down, or anything else
    goes wrong) fails for every caller in it, with the error, and writes nothing. A
    decision the database refuses on its own (unknown or erased subject, a child without
    the guardian) fails alone; the rest of its batch is committed. Several decisions
    submitted together (:meth:`GroupCommitter.submit_many`, one request's choices) are one
    unit: all are committed, in one transaction, or none is.

Waiting without a thread
    :meth:`GroupCommitter.submit_async` is the same for a coroutine: it waits on the event
    loop, not in a thread of its own, so a server answering many writes at once does not
    hand each to a worker thread only to wait there.

What a crash can lose
    Nothing that was acknowledged. A decision waiting for its batch, or in a batch whose
    transaction has not committed, is lost by a crash of the process, but its caller has
    not been answered and is gone with the process (or, over HTTP, sees its connection
    drop without a response), exactly as when a crash interrupts a transaction of its
    own. Whether a committed transaction survives a power cut is the database's own
    setting, the same for every write.

A caller waits ``wait_seconds`` for its batch to begin; after that it takes its decision
back and gets :class:`~pledge.errors.StoreUnavailable` (nothing was written). Once its
batch has begun, it waits for the outcome, however long the transaction takes, so that
no one is told "not written" about a decision that is then committed. :meth:`close`
(called by ``Runtime.close()`` and at interpreter exit) commits what is waiting and stops
the thread; the thread is a daemon and never keeps a finished process alive.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import copy
import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from sqlalchemy import Connection

from pledge.consent.model import ConsentEvent, RecordConsent
from pledge.consent.writer import Outcome
from pledge.errors import StoreUnavailable, UsageError
from pledge.store.database import Database

_logger = logging.getLogger(__name__)

_Write = tuple[tuple[RecordConsent, ...], "Future[list[ConsentEvent]]"]
"""One submission: its decisions (committed together or not at all) and its caller's answer."""


class GroupCommitter:
    """Commits the decisions of concurrent callers in shared transactions, oldest first.

    Args:
        database: Pledge's store.
        append: writes a batch of units inside a transaction and gives one outcome per unit
            (:meth:`pledge.consent.writer.ChainWriter.append`).
        on_commit: called with each subject id a committed batch changed, before its
            callers are answered (cache invalidation).
        batch_size: the most decisions one transaction holds (a larger unit goes alone).
        wait_seconds: how long a caller waits for its batch to begin before
            :class:`~pledge.errors.StoreUnavailable`.
    """

    def __init__(
        self,
        database: Database,
        append: Callable[[Connection, Sequence[Sequence[RecordConsent]]], list[Outcome]],
        *,
        on_commit: Callable[[str], None],
        batch_size: int = 500,
        wait_seconds: float = 60.0,
    ) -> None:
        if batch_size < 1:
            raise UsageError("batch_size must be at least 1")
        self.database = database
        self.append = append
        self.on_commit = on_commit
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self._pending: collections.deque[_Write] = collections.deque()
        self._queued = 0  # decisions in _pending
        self._in_flight = 0  # decisions taken from the queue, not yet answered
        self._lock = threading.Lock()  # guards _closed, _thread and _queued against submitters
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """How many decisions wait for their batch or are being committed."""
        return self._queued + self._in_flight

    @property
    def in_flight(self) -> int:
        """How many decisions are in the batch being committed."""
        return self._in_flight

    def submit(self, command: RecordConsent) -> ConsentEvent:
        """Record a decision in the next batch and wait until it is committed.

        Args:
            command: the decision, its arguments checked.

        Returns:
            The committed event.

        Raises:
            NotFound: the subject does not exist or was erased.
            ConsentError: a child's grant without the recorded guardian.
            StoreUnavailable: the batch could not be committed, or did not begin within
                ``wait_seconds``; nothing of this decision was written.
            UsageError: the committer is closed.
        """
        return self.submit_many([command])[0]

    def submit_many(self, commands: Sequence[RecordConsent]) -> list[ConsentEvent]:
        """Record decisions as one unit in the next batch and wait until they are committed.

        Args:
            commands: the decisions, their arguments checked, in the order they were made.

        Returns:
            The committed events, in the same order.

        Raises:
            NotFound: the subject of one of them does not exist or was erased.
            ConsentError: one of them is a child's grant without the recorded guardian.
            StoreUnavailable: the batch could not be committed, or did not begin within
                ``wait_seconds``.
            UsageError: the committer is closed.

            Whatever is raised, none of the decisions was written.
        """
        future = self._enqueue(commands)
        try:
            return future.result(timeout=self.wait_seconds)
        except TimeoutError:
            if future.done():  # the write itself failed with a timeout of its own
                raise
            if future.cancel():  # still queued: taken back, never written
                raise self._not_begun() from None
        return future.result()  # its batch is being committed: the outcome is the answer

    async def submit_async(self, commands: Sequence[RecordConsent]) -> list[ConsentEvent]:
        """:meth:`submit_many` for a coroutine: waits on the running event loop, not a thread.

        If the awaiting task is cancelled (the client went away), the decisions stay in their
        batch and are committed all the same, as a thread waiting in :meth:`submit_many` would
        have them.

        Args:
            commands: the decisions, their arguments checked, in the order they were made.

        Returns:
            The committed events, in the same order.

        Raises:
            NotFound, ConsentError, StoreUnavailable, UsageError: as :meth:`submit_many`.
        """
        future = self._enqueue(commands)
        answer = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(asyncio.shield(answer), self.wait_seconds)
        except TimeoutError:
            if future.done():
                raise
            if future.cancel():
                raise self._not_begun() from None
        return await answer

    def _enqueue(self, commands: Sequence[RecordConsent]) -> Future[list[ConsentEvent]]:
        unit = tuple(commands)
        if not unit:
            raise UsageError("no consent decision to record")
        future: Future[list[ConsentEvent]] = Future()
        with self._lock:
            if self._closed:
                raise UsageError("the consent ledger is closed")
            self._pending.append((unit, future))
            self._queued += len(unit)
            if self._thread is None:
                self._start()
        self._wake.set()
        return future

    def _not_begun(self) -> StoreUnavailable:
        return StoreUnavailable(
            "Pledge's database is unavailable: the consent decision was not committed"
            f" within {self.wait_seconds:g} s"
        )

    def close(self) -> None:
        """Commit the decisions waiting, then stop the thread. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.wait_seconds)
        _open_committers.discard(self)

    def _start(self) -> None:
        wake = self._wake
        thread = threading.Thread(
            target=_run, args=(weakref.ref(self), wake), name="pledge-consent-committer"
        )
        thread.daemon = True  # drained by close() or at exit, see _close_at_exit
        weakref.finalize(self, wake.set)  # a committer collected unclosed stops its thread
        thread.start()
        self._thread = thread
        _open_committers.add(self)

    def _finished(self) -> bool:
        with self._lock:
            return self._closed and not self._pending

    def _commit_batch(self) -> bool:
        """Commit the next batch (the thread's work).

        Returns:
            Whether anything was taken from the queue.
        """
        pending = self._pending
        batch: list[_Write] = []
        size = taken = 0
        with self._lock:  # _queued is shared with submitters
            while pending and (not batch or size + len(pending[0][0]) <= self.batch_size):
                write = pending.popleft()
                taken += 1
                self._queued -= len(write[0])
                if write[1].set_running_or_notify_cancel():  # False: its caller gave up
                    batch.append(write)
                    size += len(write[0])
            self._in_flight = size
        if not batch:
            return taken > 0
        try:
            self._commit(batch)
        finally:
            self._in_flight = 0
            for _, future in batch:
                if not future.done():  # only if answering itself failed
                    future.set_exception(StoreUnavailable("the consent write was interrupted"))
        return True

    def _commit(self, batch: list[_Write]) -> None:
        try:
            with self.database.transaction() as connection:
                outcomes = self.append(connection, [unit for unit, _ in batch])
        except Exception as error:  # rolled back: nothing of the batch is written
            for _, future in batch:
                future.set_exception(_own_copy(error))
            return
        changed = {
            command.subject_id: None
            for (unit, _), outcome in zip(batch, outcomes, strict=True)
            if not isinstance(outcome, Exception)
            for command in unit
        }
        for subject_id in changed:
            try:
                self.on_commit(subject_id)
            except Exception:  # committed: a failing listener must not make it look failed
                _logger.exception("on_commit failed for subject %s", subject_id)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


def _own_copy(error: Exception) -> Exception:
    """The batch's error for one caller: each raises its own, caused by the shared one."""
    try:
        twin = copy.copy(error)
    except Exception:  # an exception that cannot be copied is shared as it is
        return error
    twin.__cause__ = error
    return twin


def _run(reference: weakref.ref[GroupCommitter], wake: threading.Event) -> None:
    while True:
        committer = reference()
        if committer is None:
            return
        try:
            busy = committer._commit_batch()
        except Exception:  # pragma: no cover - _commit answers every caller; keep serving
            _logger.exception("the consent committer failed")
            busy = True
        if busy:
            continue
        if committer._finished():
            return
        del committer  # hold no strong reference while waiting, so it can be collected
        wake.wait()
        wake.clear()


_open_committers: weakref.WeakSet[GroupCommitter] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for committer in list(_open_committers):
        committer.close()
