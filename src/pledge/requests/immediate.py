"""Requests that take effect at once: restriction and its lifting, objection, unsubscribe and
withdrawal of consent, carried out on verification and completed.

The transaction that verifies such a request also queues its job (kind ``request``, the key of
the request, due after :data:`EFFECT_GRACE`). The process that verified it takes that job at
once and applies the effect; should the process die before it finishes, the job falls due and
any runner (``pledge worker``, the runner of ``pledge serve``) applies the effect instead,
through :meth:`ImmediateRequests.carry_out`. An effect applied twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from sqlalchemy import Connection

from pledge.clock import Clock
from pledge.declaration.model import Declaration
from pledge.errors import PledgeError, StoreUnavailable
from pledge.jobs.service import REQUEST_JOB, Jobs, backoff, describe, request_key
from pledge.requests.effects import ImmediateEffects
from pledge.requests.lifecycle import RequestLifecycle
from pledge.requests.model import IMMEDIATE_TYPES, RequestState, RequestType, SubjectRequest
from pledge.requests.notices import queue_notices
from pledge.requests.notifier import Notifier
from pledge.store.database import Database
from pledge.subjects.service import Subjects

EFFECT_GRACE = dt.timedelta(seconds=10)
"""How long the job of a verified immediate request waits for the process that verified it
before any runner may apply the effect instead."""


class ImmediateRequests(RequestLifecycle):
    """Carries out the requests that take effect on verification, through their jobs.

    Args:
        database: Pledge's store.
        declaration: the declaration in force.
        subjects: the subjects.
        clock: the time source.
        notifier: where messages to people go.
        effects: checks and applies what the requests ask for.
        jobs: the job table; without it the effect is applied in-process only.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        subjects: Subjects,
        clock: Clock,
        notifier: Notifier,
        *,
        effects: ImmediateEffects,
        jobs: Jobs | None,
    ) -> None:
        super().__init__(database, declaration, subjects, clock, notifier)
        self.declaration = declaration
        self.effects = effects
        self.jobs = jobs
        self._owner = f"{socket.gethostname()[:30]}:{os.getpid()}:effects"

    def retry(self, request_id: str, *, actor: str) -> SubjectRequest:
        """Send a retryable failure back to ``verified`` (and carry out an immediate type).

        Raises:
            RequestError: the request did not fail, or failed for good.
        """
        kind = self.get(request_id).type

        def queue(connection: Connection) -> None:
            self._queue_effect(connection, request_id, kind)

        retried = self._move(
            request_id,
            RequestState.VERIFIED,
            actor,
            "request.retried",
            {},
            also=queue,
            failure=None,
        )
        if retried.type in IMMEDIATE_TYPES:
            self._carry_out_now(request_id, actor)
            return self.get(request_id)
        return retried

    def carry_out(self, request_id: str, *, actor: str) -> SubjectRequest:
        """Apply a verified restriction, lifting, objection, unsubscribe or withdrawal, then
        complete it (or record why it failed); a request no longer verified is left as it is.

        Applying an effect twice changes nothing (the job of a process that died after the
        effect but before completing runs it again).

        Raises:
            StoreUnavailable: Pledge's store is down: the request stays verified.
        """
        request = self.get(request_id)
        if request.state is not RequestState.VERIFIED or request.type not in IMMEDIATE_TYPES:
            return request
        try:
            result = self.effects.apply(request, actor)
        except StoreUnavailable:
            raise  # still verified: its job applies it when the database is back
        except PledgeError as error:
            return self.fail(request_id, str(error), retryable=False, actor=actor)
        also = None
        jobs = self.jobs
        if request.type is RequestType.RESTRICTION and jobs is not None:
            # The recipients are told in the transaction that completes it (GDPR Art. 19).
            def also(connection: Connection) -> None:
                queue_notices(connection, request, self.declaration, jobs, self.subjects)

        return self.complete(request_id, actor=actor, result=result, also=also)

    def _queue_effect(self, connection: Connection, request_id: str, kind: RequestType) -> None:
        """Queue, in the verifying transaction, the job that applies an immediate request's
        effect should this process not get to it first."""
        if self.jobs is None or kind not in IMMEDIATE_TYPES:
            return
        self.jobs.enqueue(
            connection,
            REQUEST_JOB,
            request_key(request_id),
            {"type": str(kind)},
            request_id=request_id,
            run_after=self.clock() + EFFECT_GRACE,
        )

    def _carry_out_now(self, request_id: str, actor: str) -> None:
        """Apply the effect in this process, holding its job so that no runner does it too."""
        if self.jobs is None:
            self.carry_out(request_id, actor=actor)
            return
        job = self.jobs.claim(self._owner, (REQUEST_JOB,), key=request_key(request_id), early=True)
        if job is None:
            return  # a runner holds it: the effect is applied there
        try:
            self.carry_out(request_id, actor=actor)
        except StoreUnavailable:
            raise  # the lease runs out and a runner takes the job over once the store is back
        except Exception as error:
            self.jobs.fail(job, describe(error), retry_after=backoff(1))
            raise
        self.jobs.finish(job)


__all__ = ["EFFECT_GRACE", "ImmediateRequests"]
