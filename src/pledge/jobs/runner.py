"""A runner: claims due jobs and hands each to the handler of its kind.

``pledge serve`` runs one in a background thread; ``pledge worker`` runs one in the
foreground, and several workers may run at once on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Mapping

from pledge.errors import StoreUnavailable
from pledge.ids import new_id
from pledge.jobs.service import Job, Jobs, LeaseLost, Retry, backoff, describe

log = logging.getLogger(__name__)

BURY_EVERY = dt.timedelta(seconds=1)
"""How often a runner looks for worn-out jobs to give up (they are never claimed meanwhile)."""

Handler = Callable[[Job], None]
"""Carries out one job; raises :class:`Retry` to be tried again later, anything else fails it."""


def run_claimed(jobs: Jobs, job: Job, handler: Handler) -> None:
    """Run a job this runner (or process) claimed, under its lease, and record its end: done,
    queued again (:class:`Retry`, dead-lettered once its attempts are spent) or failed.

    Raises:
        StoreUnavailable: the store is down; the lease runs out and the job is taken up again
            once it is back.
    """
    try:
        with jobs.holding(job):
            handler(job)
    except LeaseLost:
        log.warning("job %s (%s): taken over by another runner; left to it", job.id, job.kind)
    except Retry as retry:
        again = jobs.fail(job, retry.reason, retry_after=retry.after or backoff(job.attempts))
        log.warning("job %s (%s): %s; retried: %s", job.id, job.kind, retry.reason, again)
    except StoreUnavailable:
        raise  # the lease runs out and the job is taken up again once the store is back
    except Exception as error:  # a bug or a refusal: the job fails, the runner goes on
        reason = describe(error)
        # Where it happened, never the error's own text: it may hold personal values.
        where = "".join(traceback.format_tb(error.__traceback__))
        log.error("job %s (%s) failed: %s\n%s", job.id, job.kind, reason, where)
        jobs.fail(job, reason)
    else:
        jobs.finish(job)


class Runner:
    """Claims jobs from ``jobs`` and runs them with ``handlers`` (kind → handler).

    A job runs under its lease, renewed while its handler works; a job whose runners stopped
    half-way too often is given up (dead-lettered) and its kind's ``on_dead`` handler told.

    Args:
        jobs: the job table.
        handlers: the handler of each job kind this runner takes.
        poll: seconds between looks at the table when it had nothing due.
        on_dead: per kind, what to do when a job of that kind is given up.
    """

    def __init__(
        self,
        jobs: Jobs,
        handlers: Mapping[str, Handler],
        *,
        poll: float = 1.0,
        on_dead: Mapping[str, Handler] | None = None,
    ) -> None:
        self.jobs = jobs
        self.handlers = dict(handlers)
        self.on_dead = dict(on_dead or {})
        self.poll = poll
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{new_id()[-8:]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_bury: dt.datetime | None = None

    def run_once(self) -> bool:
        """Claim and run one due job; False when none was due."""
        now = self.jobs.clock()
        if self._next_bury is None or now >= self._next_bury:
            # Worn-out jobs are never claimed: looking for them once a second is enough.
            self._next_bury = now + BURY_EVERY
            self._bury()
        job = self.jobs.claim(self.owner, tuple(self.handlers))
        if job is None:
            return False
        run_claimed(self.jobs, job, self.handlers[job.kind])
        return True

    def _bury(self) -> None:
        for dead in self.jobs.bury():
            log.error(
                "job %s (%s) given up: its runner stopped half-way too often", dead.id, dead.kind
            )
            handler = self.on_dead.get(dead.kind)
            if handler is not None:
                try:
                    handler(dead)
                except Exception as error:
                    log.error("job %s: telling of its end failed: %s", dead.id, describe(error))

    def run_until_idle(self) -> int:
        """Run due jobs until none is left; returns how many ran."""
        count = 0
        while self.run_once():
            count += 1
        return count

    def run_forever(self) -> None:
        """Run jobs until :meth:`stop`; waits ``poll`` seconds whenever nothing is due."""
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except StoreUnavailable as error:
                log.warning("job runner: %s", error)
                busy = False
            if not busy:
                self._stop.wait(self.poll)

    def start(self) -> None:
        """Run in a background thread (as ``pledge serve`` does)."""
        self._thread = threading.Thread(target=self.run_forever, name="pledge-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the job in hand."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
