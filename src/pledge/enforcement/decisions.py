"""The decider: answers ``may_process`` and ``may_disclose`` from a warm cache, and logs each.

The rules are the pure functions of :mod:`pledge.enforcement.model`, compiled once from the
declaration. What they need about a subject (:class:`~pledge.enforcement.model.SubjectState`)
is read from the store with three queries and kept in memory for ``cache_seconds``:

- a write made through this process (consent through the ledger, an objection, a
  restriction through the SDK) calls :meth:`Decider.invalidate`, so the next decision reads
  the new state at once;
- a write made by another process is seen within ``cache_seconds`` at the latest;
- ``cache_seconds=0`` reads the store for every decision.

States are immutable: a write replaces a subject's cached state, never edits it. So the
decisions taken on an adult's cached state (they do not depend on the time) are kept with it
and answered again without re-running the rules; a child's are re-decided each time, as they
change on the day the child reaches the age of digital consent. A state is not kept past the
moment one of its grants expires (``consent_max_age``), so the first decision after it reads
the store and finds the grant expired.

Every decision is written to the audit trail through a
:class:`~pledge.enforcement.decision_log.DecisionLog` (see there for what the batched mode can
lose in a crash).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from pledge.clock import Clock, utc_now
from pledge.declaration.model import Declaration
from pledge.enforcement.decision_log import DecisionLog
from pledge.enforcement.model import Decision, Rules, SubjectState, rules_for
from pledge.enforcement.objections import load_state
from pledge.store.database import Database

_REUSED_PER_SUBJECT = 64  # decisions kept per cached subject (distinct purpose/categories)


class Decider:
    """Decides whether purposes may process, and recipients receive, a subject's data.

    Args:
        database: Pledge's store.
        declaration: the declaration in force.
        cache_seconds: how long a subject's state may be reused; 0 disables the cache.
        clock: the time source.
        log_mode: ``batched`` (default) or ``sync``; see :mod:`~pledge.enforcement.decision_log`.
        max_cached: how many subjects' states to keep at most.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        *,
        cache_seconds: float,
        clock: Clock = utc_now,
        log_mode: str = "batched",
        max_cached: int = 100_000,
    ) -> None:
        self.database = database
        self.declaration = declaration
        self.rules: Rules = rules_for(declaration)
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.log = DecisionLog(database, mode=log_mode)
        self._ttl = dt.timedelta(seconds=cache_seconds)
        self._max_cached = max_cached
        # subject id → its state, when it was read, until when it may be used, and the
        # decisions already taken on it (a state never changes: a write replaces it)
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._generation = 0  # bumped by every invalidation; a read racing one is not cached
        self._lock = threading.Lock()

    @property
    def clock(self) -> Clock:
        """The time source."""
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._clock = clock
        # The default clock without its Python frame: may_process reads it once per decision.
        self._now: Clock = partial(dt.datetime.now, dt.UTC) if clock is utc_now else clock

    def may_process(
        self,
        subject_id: str,
        purpose: str,
        categories: Sequence[str] | None = None,
        *,
        actor: str = "sdk",
    ) -> Decision:
        """Whether ``purpose`` may process ``categories`` of the subject's data now.

        Args:
            subject_id: the subject.
            purpose: a declared purpose key.
            categories: the data categories to process; None for all the purpose declares.
            actor: who asks, for the audit trail.

        Returns:
            The decision, with its reason; it is in the audit trail (or on its way to it,
            in batched mode).

        Raises:
            NotFound: no such subject or purpose.
            StoreUnavailable: the state or the audit event could not be read or written.
        """
        now = self._now()
        cached = self._cache.get(subject_id)
        if cached is None or not (cached.read_at <= now < cached.expires_at):
            cached = self._load(subject_id, now)
        key = purpose if categories is None else (purpose, _hashable(categories))
        decision = cached.decisions.get(key)
        if decision is None:
            decision = self.rules.decide(cached.state, purpose, categories, now)
            if cached.reusable and len(cached.decisions) < _REUSED_PER_SUBJECT:
                cached.decisions[key] = decision
        self.log.add("decision", actor, decision, now)
        return decision

    def may_disclose(
        self,
        subject_id: str,
        recipient: str,
        categories: Sequence[str] | None = None,
        purpose: str | None = None,
        *,
        actor: str = "sdk",
    ) -> Decision:
        """Whether the subject's data may be disclosed to ``recipient`` now.

        Args:
            subject_id: the subject.
            recipient: a declared recipient key.
            categories: the categories to disclose; None for every category the recipient
                receives for the purpose.
            purpose: the purpose of the disclosure; may be omitted when the recipient
                receives data for one purpose only.
            actor: who asks, for the audit trail.

        Returns:
            The decision, with ``recipient`` set; it is in the audit trail as a
            ``disclosure``.

        Raises:
            NotFound: no such subject, recipient or purpose.
            UsageError: no purpose given and the recipient has several.
            StoreUnavailable: the state or the audit event could not be read or written.
        """
        now = self.clock()
        state = self.state(subject_id, now)
        decision = self.rules.decide_disclosure(state, recipient, categories, purpose, now)
        self.log.add("disclosure", actor, decision, now)
        return decision

    def state(self, subject_id: str, now: dt.datetime | None = None) -> SubjectState:
        """The subject's state as decisions see it (from the cache when fresh).

        Args:
            subject_id: the subject.
            now: the current time; read from the clock when omitted.

        Returns:
            The state.

        Raises:
            NotFound: no such subject.
        """
        now = now or self.clock()
        cached = self._cache.get(subject_id)
        if cached is None or not (cached.read_at <= now < cached.expires_at):
            cached = self._load(subject_id, now)
        return cached.state

    def invalidate(self, subject_id: str) -> None:
        """Forget the cached state of a subject: its next decision reads the store.

        Args:
            subject_id: the subject whose state changed.
        """
        with self._lock:
            self._generation += 1
            self._cache.pop(subject_id, None)

    def clear(self) -> None:
        """Forget every cached state."""
        with self._lock:
            self._generation += 1
            self._cache.clear()

    def flush(self) -> None:
        """Wait until every decision made so far is committed to the audit trail."""
        self.log.flush()

    def close(self) -> None:
        """Commit the queued audit events and stop the log writer."""
        self.log.close()

    def _load(self, subject_id: str, now: dt.datetime) -> _Cached:
        generation = self._generation
        with self.database.read() as connection:
            state = load_state(connection, subject_id)
        # Decisions on an adult's state do not depend on the time, so they can be reused
        # while the state is; a child's turn on the day they reach the age of consent. Nor
        # may the state outlive a grant that expires (consent_max_age): it is read again then.
        adult = state.consent_age_from is None or state.consent_age_from <= now
        expires_at = now + self._ttl
        expiry = self.rules.next_expiry(state, now)
        if expiry is not None and expiry < expires_at:
            expires_at = expiry
        cached = _Cached(state, now, expires_at, {}, adult)
        if self.cache_seconds > 0:
            with self._lock:
                if generation == self._generation:  # no write was announced while we read
                    cache = self._cache
                    cache.pop(subject_id, None)
                    if len(cache) >= self._max_cached:
                        cache.popitem(last=False)  # the entry read longest ago
                    cache[subject_id] = cached
        return cached


@dataclass(slots=True)
class _Cached:
    state: SubjectState
    read_at: dt.datetime
    expires_at: dt.datetime
    decisions: dict[object, Decision]  # purpose (or purpose and categories) → decision
    reusable: bool


def _hashable(categories: Sequence[str]) -> object:
    return categories if isinstance(categories, str | tuple) else tuple(categories)


__all__ = ["Decider", "Decision", "SubjectState"]
