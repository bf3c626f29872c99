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
    the guardian) fails alone; the rest of its batch is committed.

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

_Write = tuple[RecordConsent, "Future[ConsentEvent]"]


class GroupCommitter:
    """Commits the decisions of concurrent callers in shared transactions, oldest first.

    Args:
        database: Pledge's store.
        append: writes a batch inside a transaction and gives one outcome per command
            (:meth:`pledge.consent.writer.ChainWriter.append`).
        on_commit: called with each subject id a committed batch changed, before its
            callers are answered (cache invalidation).
        batch_size: the most decisions one transaction holds.
        wait_seconds: how long a caller waits for its batch to begin before
            :class:`~pledge.errors.StoreUnavailable`.
    """

    def __init__(
        self,
        database: Database,
        append: Callable[[Connection, Sequence[RecordConsent]], list[Outcome]],
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
        self._in_flight = 0  # taken from the queue, not yet answered
        self._lock = threading.Lock()  # guards _closed and _thread against submit()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """How many decisions wait for their batch or are being committed."""
        return len(self._pending) + self._in_flight

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
        future: Future[ConsentEvent] = Future()
        with self._lock:
            if self._closed:
                raise UsageError("the consent ledger is closed")
            self._pending.append((command, future))
            if self._thread is None:
                self._start()
        self._wake.set()
        try:
            return future.result(timeout=self.wait_seconds)
        except TimeoutError:
            if future.done():  # the write itself failed with a timeout of its own
                raise
            if future.cancel():  # still queued: taken back, never written
                raise StoreUnavailable(
                    "Pledge's database is unavailable: the consent decision was not committed"
                    f" within {self.wait_seconds:g} s"
                ) from None
        return future.result()  # its batch is being committed: the outcome is the answer

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
        taken = 0
        while pending and len(batch) < self.batch_size:
            write = pending.popleft()
            taken += 1
            if write[1].set_running_or_notify_cancel():  # False: its caller gave up
                batch.append(write)
        if not batch:
            return taken > 0
        self._in_flight = len(batch)
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
                outcomes = self.append(connection, [command for command, _ in batch])
        except Exception as error:  # rolled back: nothing of the batch is written
            for _, future in batch:
                future.set_exception(_own_copy(error))
            return
        changed = {
            command.subject_id: None
            for (command, _), outcome in zip(batch, outcomes, strict=True)
            if isinstance(outcome, ConsentEvent)
        }
        for subject_id in changed:
            try:
                self.on_commit(subject_id)
            except Exception:  # committed: a failing listener must not make it look failed
                _logger.exception("on_commit failed for subject %s", subject_id)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, ConsentEvent):
                future.set_result(outcome)
            else:
                future.set_exception(outcome)


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
