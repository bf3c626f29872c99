"""The decision log: every decision and disclosure check, written to the audit trail.

Each decision is recorded in an audit event (action ``decision`` or ``disclosure``) carrying
the purpose, whether it was allowed, the reason, the legal basis, the rule, the categories, a
``count`` and, for a disclosure, the recipient; never personal data. In batched mode the
decisions of one batch that agree on everything but the moment share one event, with
``count`` and ``last_at`` (``occurred_at`` is the first): a service asking the same question
thousands of times a second writes one event per batch, not thousands. Two modes:

``sync``
    The decision's audit event is committed before ``may_process`` returns. Nothing can be
    lost; each decision costs a database transaction.

``batched`` (the default)
    ``may_process`` counts the decision into the batch being gathered in memory and
    returns. A writer thread commits the batch in one transaction (with
    :func:`pledge.enforcement.audit.append`) every 100 ms, or as soon as it holds
    ``max_pending`` decisions (10,000). :meth:`DecisionLog.flush` waits until everything
    gathered so far is committed; :meth:`DecisionLog.close` (called by ``Pledge.close()``
    and at interpreter exit) commits what is left.

    A decision is counted where it is made, in a tally per question (the decider answers a
    repeated question with the same :class:`~pledge.enforcement.model.Decision` object), so a
    decision asked again costs a counter, not a queued record: nothing per decision waits in
    memory for the garbage collector to walk. An audit event costs far more to write than a
    decision to make, so the writer waits for the largest batch the bound allows: under load
    every commit holds ``max_pending`` decisions, written as few events as they allow.
    (Committing at a tenth of the bound made twice the commits, each with as many events,
    and halved the decisions that could be recorded per second on one core.)

What a crash can lose, exactly
    A crash of the process (killed, out of memory, power cut) in batched mode loses the
    decisions not yet committed and nothing else: those made since the writer's last commit
    began, which in normal operation are the decisions of the last ≤100 ms (plus the time one
    commit takes). At most ``max_pending`` decisions (10,000 by default) wait, the batch
    being written included: when decisions come faster than the writer commits them, or the
    database refuses writes, ``may_process`` waits for room, and after ``wait_seconds``
    raises :class:`~pledge.errors.StoreUnavailable` instead of answering without a record,
    so a crash never loses more than ``max_pending`` decisions. What is lost is the record that
    a question was asked, not the grounds of the answer: every decision is a pure function
    of the declaration and the durable state (consent ledger, objections, restriction,
    erasure, age), all committed before their callers were told, so the answer any lost
    decision gave can be reproduced from the consent ledger's history and the audit trail's
    record of objections, restrictions and erasures.

    A batched event takes its place in the chain (its ``seq``) when it is committed, so it
    may follow events that happened after it; its ``occurred_at`` is when the decision was
    made.

    Nothing else is ever batched this way: consent events, objections, restrictions,
    erasures and every other subject change are committed, with their audit events, before
    the call returns (consent decisions may share their transaction with other callers'
    decisions, see :mod:`pledge.consent.committer`, but each caller is answered only once
    it has committed). (Whether a committed transaction survives a power
    cut is the database's own setting, the same for every write.)
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Final, Literal

from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import StoreUnavailable, UsageError
from pledge.store.database import Database

if TYPE_CHECKING:
    import datetime as dt

    from pledge.enforcement.model import Decision

LogMode = Literal["sync", "batched"]
LOG_MODES: Final = ("sync", "batched")

_logger = logging.getLogger("pledge.decisions")

# One question's tally in a batch: [action, actor, decision, first_at, last_at, count].
_Tally = list[Any]
_ACTION, _ACTOR, _DECISION, _FIRST, _LAST, _COUNT = range(6)


class DecisionLog:
    """Writes the audit events of decisions, at once (``sync``) or in batches (``batched``).

    Args:
        database: Pledge's store.
        mode: ``sync`` or ``batched``.
        interval: seconds between batched commits.
        batch_size: a commit starts early when this many decisions wait; by default when
            the batch is full (``max_pending``).
        max_pending: the most decisions that wait uncommitted; callers wait beyond it.
        wait_seconds: how long a caller waits for room before StoreUnavailable.
    """

    def __init__(
        self,
        database: Database,
        *,
        mode: str = "batched",
        interval: float = 0.1,
        batch_size: int | None = None,
        max_pending: int = 10_000,
        wait_seconds: float = 10.0,
    ) -> None:
        if mode not in LOG_MODES:
            raise UsageError(f"log_mode must be one of {', '.join(LOG_MODES)}, not {mode!r}")
        if batch_size is None:
            batch_size = max_pending
        if max_pending < batch_size:
            raise UsageError("max_pending must be at least batch_size")
        self.database = database
        self.mode = mode
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()  # guards the batch, its count and its flushes
        self._batch: dict[tuple[str, str, int], _Tally] = {}  # question → its tally
        self._count = 0  # decisions in the batch
        self._flushes: list[threading.Event] = []  # set once the batch is committed
        self._in_flight = 0  # decisions taken by the writer, not yet committed
        self._wake = threading.Event()  # a batch is full, or a flush asks
        self._urgent = threading.Event()  # a flush or close: cut a retry delay short
        self._room = threading.Condition()  # notified when the writer has made room
        self._closed = False
        self._failure: BaseException | None = None
        self._writer: threading.Thread | None = None
        if mode == "batched":
            self._writer = threading.Thread(
                target=_run_writer, args=(weakref.ref(self),), name="pledge-decision-log"
            )
            self._writer.daemon = True  # drained by close() or at exit, see _close_at_exit
            self._writer.start()
            _open_logs.add(self)

    @property
    def pending(self) -> int:
        """How many decisions wait to be committed (batched mode), those being written
        included."""
        return self._count + self._in_flight

    def add(self, action: str, actor: str, decision: Decision, occurred_at: dt.datetime) -> None:
        """Record a decision: committed now (sync) or counted into the batch (batched).

        Args:
            action: ``decision`` or ``disclosure``.
            actor: who asked (``sdk``, ``api:<key>`` …).
            decision: the decision made.
            occurred_at: when it was made.

        Raises:
            StoreUnavailable: the event could not be committed (sync), or the batch stayed
                full for ``wait_seconds`` (batched).
            UsageError: the log is closed.
        """
        if self._closed:
            raise UsageError("the decision log is closed")
        if self._writer is None:
            only: _Tally = [action, actor, decision, occurred_at, occurred_at, 1]
            with self.database.transaction() as connection:
                audit.append(connection, [_entry([only])])
            return
        # The tally holds the decision, so its id names it for as long as the batch lives.
        question = (action, actor, id(decision))
        with self._lock:
            tally = self._batch.get(question)
            if tally is None:
                self._batch[question] = [action, actor, decision, occurred_at, occurred_at, 1]
            else:
                tally[_LAST] = occurred_at
                tally[_COUNT] += 1
            self._count += 1
            count = self._count
        if count >= self.batch_size:
            self._full()

    def _full(self) -> None:
        # A full batch: wake the writer, and wait while more than the bound is uncommitted.
        if not self._wake.is_set():
            self._wake.set()
        if self._count + self._in_flight > self.max_pending:
            self._wait_for_room()

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every decision recorded before this call is committed.

        Args:
            timeout: seconds to wait at most; None waits as long as ``wait_seconds``.

        Raises:
            StoreUnavailable: the events could not be committed in time.
        """
        if self._writer is None:
            return
        done = threading.Event()
        with self._lock:
            self._flushes.append(done)
        self._urgent.set()
        self._wake.set()
        limit = self.wait_seconds if timeout is None else timeout
        if not done.wait(limit):
            raise StoreUnavailable(
                f"the decision log could not be written within {limit:g} s"
                f" ({self.pending} decisions wait):"
                f" {self._failure or 'timed out'}"
            )

    def close(self) -> None:
        """Commit what is gathered and stop the writer. Safe to call twice.

        Raises:
            StoreUnavailable: gathered decisions could not be committed (they are lost; the
                error says how many).
        """
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._urgent.set()
            self._wake.set()
            if self._writer is not None:
                self._writer.join(timeout=self.wait_seconds)
            _open_logs.discard(self)

    def _wait_for_room(self) -> None:
        deadline = time.monotonic() + self.wait_seconds
        with self._room:
            while self._count + self._in_flight > self.max_pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreUnavailable(
                        "decisions cannot be audited: the decision log is full and Pledge's"
                        f" database does not accept its writes ({self._failure or 'too slow'})"
                    )
                if not self._in_flight:  # else the writer is at it, and notifies when done
                    self._wake.set()
                # The writer notifies after each commit; the timeout covers a notification
                # sent between the check above and the wait.
                self._room.wait(min(left, 0.05))

    def _made_room(self) -> None:
        with self._room:
            self._room.notify_all()

    def _write_pending(self) -> bool:
        """Commit the batch gathered so far in one transaction (the writer's work).

        Returns:
            Whether to write again at once: a full batch, or a flush, is waiting.
        """
        with self._lock:
            batch, self._batch = self._batch, {}
            count, self._count = self._count, 0
            flushes, self._flushes = self._flushes, []
            # Counted as in flight while it is written, so that callers waiting for room never
            # see fewer decisions waiting than there are.
            self._in_flight = count
        if not batch and not flushes:
            return False
        try:
            entries = _entries(list(batch.values()))
            if entries:
                with self.database.transaction() as connection:
                    audit.append(connection, entries)
        except Exception as error:
            self._restore(batch, count, flushes)  # for the next attempt
            self._failure = error
            raise
        self._in_flight = 0
        self._failure = None
        self._made_room()
        for done in flushes:
            done.set()
        return self._count >= self.batch_size or bool(self._flushes)

    def _restore(
        self, batch: dict[tuple[str, str, int], _Tally], count: int, flushes: list[threading.Event]
    ) -> None:
        # A batch that could not be written goes back before what was gathered since.
        with self._lock:
            for question, tally in self._batch.items():
                earlier = batch.get(question)
                if earlier is None:
                    batch[question] = tally
                else:
                    earlier[_LAST] = tally[_LAST]
                    earlier[_COUNT] += tally[_COUNT]
            self._batch = batch
            self._count += count
            self._flushes = flushes + self._flushes
            self._in_flight = 0


def _entries(tallies: list[_Tally]) -> list[AuditEntry]:
    """Audit entries for a batch: identical decisions become one entry.

    Decisions that agree on everything but the moment (same action, actor, subject, purpose,
    categories, recipient and outcome) are recorded once, with ``count`` and the first and
    last time; a single decision is an entry with ``count`` 1. Nothing is dropped: the counts
    add up to the decisions made.
    """
    # Tallies are per Decision object; equal objects (a state read again, a child's state
    # decided anew) are merged here.
    groups: dict[tuple[Any, ...], list[_Tally]] = {}
    for tally in tallies:
        decision = tally[_DECISION]
        key = (
            tally[_ACTION],
            tally[_ACTOR],
            decision.subject_id,
            decision.purpose,
            decision.allowed,
            decision.rule,
            decision.categories,
            decision.recipient,
        )
        found = groups.get(key)
        if found is None:
            groups[key] = [tally]
        else:
            found.append(tally)
    return [_entry(group) for group in groups.values()]


def _entry(group: list[_Tally]) -> AuditEntry:
    """One audit entry for the tallies of equal decisions."""
    action, actor, decision, first_at, last_at, count = group[0]
    if len(group) > 1:
        first_at = min(tally[_FIRST] for tally in group)
        last_at = max(tally[_LAST] for tally in group)
        count = sum(tally[_COUNT] for tally in group)
    details: dict[str, Any] = {
        "allowed": decision.allowed,
        "reason": decision.reason,
        "legal_basis": decision.legal_basis,
        "rule": decision.rule,
        "categories": list(decision.categories),
        "count": count,
    }
    if count > 1:
        details["last_at"] = last_at.isoformat()
    if decision.recipient is not None:
        details["recipient"] = decision.recipient
    return AuditEntry(
        action=action,
        actor=actor,
        subject_id=decision.subject_id,
        purpose=decision.purpose,
        details=details,
        occurred_at=first_at,
    )


def _run_writer(reference: weakref.ref[DecisionLog]) -> None:
    retry_in = 0.0  # after a failure, wait this long unless a flush or close asks
    while True:
        log = reference()
        if log is None:
            return
        wake, urgent, interval = log._wake, log._urgent, log.interval
        del log  # hold no strong reference while waiting, so an unclosed log can be collected
        if retry_in:
            urgent.wait(retry_in)
        else:
            wake.wait(interval)
        wake.clear()
        urgent.clear()
        log = reference()
        if log is None:
            return
        try:
            while log._write_pending():
                pass
            retry_in = 0.0
        except Exception as error:
            retry_in = min(max(retry_in * 2, 0.1), 5.0)
            _logger.warning(
                "could not write %d decision audit events, retrying in %.1f s: %s",
                log.pending,
                retry_in,
                error,
            )
        if log._closed:  # close() has flushed, or given up: one last attempt was made
            return
        del log


_open_logs: weakref.WeakSet[DecisionLog] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for log in list(_open_logs):
        try:
            log.close()
        except Exception as error:  # at exit there is no caller left to tell but the log
            _logger.error("decision audit events lost at exit: %s", error)
