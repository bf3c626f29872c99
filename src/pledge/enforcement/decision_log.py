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
    ``may_process`` puts the event on an in-memory queue and returns. A writer thread
    commits the queue in one transaction (with :func:`pledge.enforcement.audit.append`)
    every 100 ms, or as soon as 1,000 events are waiting. :meth:`DecisionLog.flush` waits
    until everything queued so far is committed; :meth:`DecisionLog.close` (called by
    ``Pledge.close()`` and at interpreter exit) drains the queue.

What a crash can lose, exactly
    A crash of the process (killed, out of memory, power cut) in batched mode loses the audit
    events still on the queue and nothing else: the events of the decisions made since the
    writer's last commit began, which in normal operation are the decisions of the last
    ≤100 ms (plus the time one commit takes). The queue holds at most ``max_pending`` events
    (10,000 by default): when decisions come faster than the writer commits them, or the
    database refuses writes, ``may_process`` waits for room, and after ``wait_seconds``
    raises :class:`~pledge.errors.StoreUnavailable` instead of answering without a record,
    so a crash never loses more than ``max_pending`` events. What is lost is the record that
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
import collections
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

# A queued event: (action, actor, decision, occurred_at); a threading.Event marks a flush.
_Queued = tuple[str, str, "Decision", "dt.datetime"]


class DecisionLog:
    """Writes one audit event per decision, at once (``sync``) or in batches (``batched``).

    Args:
        database: Pledge's store.
        mode: ``sync`` or ``batched``.
        interval: seconds between batched commits.
        batch_size: a commit starts early when this many events are waiting.
        max_pending: the most events the queue holds; callers wait beyond it.
        wait_seconds: how long a caller waits for room before StoreUnavailable.
    """

    def __init__(
        self,
        database: Database,
        *,
        mode: str = "batched",
        interval: float = 0.1,
        batch_size: int = 1_000,
        max_pending: int = 10_000,
        wait_seconds: float = 10.0,
    ) -> None:
        if mode not in LOG_MODES:
            raise UsageError(f"log_mode must be one of {', '.join(LOG_MODES)}, not {mode!r}")
        if max_pending < batch_size:
            raise UsageError("max_pending must be at least batch_size")
        self.database = database
        self.mode = mode
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.wait_seconds = wait_seconds
        self._pending: collections.deque[Any] = collections.deque()
        self._in_flight = 0  # taken from the queue by the writer, not yet committed
        self._wake = threading.Event()  # new events are waiting
        self._urgent = threading.Event()  # a flush or close: cut a retry delay short
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
        """How many events wait to be committed (batched mode), those being written included."""
        return sum(1 for item in list(self._pending) if type(item) is tuple) + self._in_flight

    def add(self, action: str, actor: str, decision: Decision, occurred_at: dt.datetime) -> None:
        """Record a decision: committed now (sync) or queued (batched).

        Args:
            action: ``decision`` or ``disclosure``.
            actor: who asked (``sdk``, ``api:<key>`` …).
            decision: the decision made.
            occurred_at: when it was made.

        Raises:
            StoreUnavailable: the event could not be committed (sync), or the queue stayed
                full for ``wait_seconds`` (batched).
            UsageError: the log is closed.
        """
        if self._closed:
            raise UsageError("the decision log is closed")
        if self._writer is None:
            with self.database.transaction() as connection:
                audit.append(connection, [_entry([(action, actor, decision, occurred_at)])])
            return
        pending = self._pending
        pending.append((action, actor, decision, occurred_at))
        size = len(pending)
        if size >= self.batch_size:
            if not self._wake.is_set():
                self._wake.set()
            if size + self._in_flight > self.max_pending:
                self._wait_for_room()

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every event queued before this call is committed.

        Args:
            timeout: seconds to wait at most; None waits as long as ``wait_seconds``.

        Raises:
            StoreUnavailable: the events could not be committed in time.
        """
        if self._writer is None:
            return
        done = threading.Event()
        self._pending.append(done)
        self._urgent.set()
        self._wake.set()
        limit = self.wait_seconds if timeout is None else timeout
        if not done.wait(limit):
            raise StoreUnavailable(
                f"the decision log could not be written within {limit:g} s"
                f" ({self.pending} audit events wait):"
                f" {self._failure or 'timed out'}"
            )

    def close(self) -> None:
        """Commit what is queued and stop the writer. Safe to call twice.

        Raises:
            StoreUnavailable: queued events could not be committed (they are lost; the
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
        while len(self._pending) + self._in_flight > self.max_pending:
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    "decisions cannot be audited: the decision log is full and Pledge's"
                    f" database does not accept its writes ({self._failure or 'too slow'})"
                )
            time.sleep(0.001)

    def _write_pending(self) -> bool:
        """Commit up to ten batches of queued events in one transaction (the writer's work).

        Returns:
            Whether something was taken from the queue.
        """
        pending = self._pending
        limit = self.batch_size * 10
        # Counted as in flight before they leave the queue, so that callers waiting for room
        # never see the queue emptier than it is.
        self._in_flight = min(len(pending), limit)
        taken: list[Any] = []
        while pending and len(taken) < limit:
            taken.append(pending.popleft())
        if not taken:
            self._in_flight = 0
            return False
        entries = _entries([item for item in taken if type(item) is tuple])
        try:
            if entries:
                with self.database.transaction() as connection:
                    audit.append(connection, entries)
        except Exception as error:
            pending.extendleft(reversed(taken))  # keep them, in order, for the next attempt
            self._in_flight = 0
            self._failure = error
            raise
        self._in_flight = 0
        self._failure = None
        for item in taken:
            if type(item) is not tuple:
                item.set()
        return True


def _entries(items: list[_Queued]) -> list[AuditEntry]:
    """Audit entries for queued decisions: identical decisions in one batch become one entry.

    Decisions that agree on everything but the moment (same action, actor, subject, purpose,
    categories, recipient and outcome) are recorded once, with ``count`` and the first and
    last time; a single decision is an entry with ``count`` 1. Nothing is dropped: the counts
    add up to the decisions made.
    """
    groups: dict[tuple[Any, ...], list[_Queued]] = {}
    for item in items:
        action, actor, decision, _ = item
        key = (
            action,
            actor,
            decision.subject_id,
            decision.purpose,
            decision.allowed,
            decision.rule,
            decision.categories,
            decision.recipient,
        )
        groups.setdefault(key, []).append(item)
    return [_entry(group) for group in groups.values()]


def _entry(group: list[_Queued]) -> AuditEntry:
    action, actor, decision, first_at = group[0]
    details: dict[str, Any] = {
        "allowed": decision.allowed,
        "reason": decision.reason,
        "legal_basis": decision.legal_basis,
        "rule": decision.rule,
        "categories": list(decision.categories),
        "count": len(group),
    }
    if len(group) > 1:
        details["last_at"] = group[-1][3].isoformat()
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
