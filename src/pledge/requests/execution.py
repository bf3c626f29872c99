"""Carrying out access, portability, rectification and erasure in the company's datastores.

A staff member approves a verified request (:meth:`RequestExecution.approve`): that moves it to
``planned`` and enqueues its job in the same transaction. A runner then calls
:meth:`RequestExecution.run` with the job, which goes through the named steps of
:mod:`pledge.requests.steps`, each recorded once, so a job cut off anywhere resumes at the step
that did not finish. A failure that may pass (a datastore unreachable) is retried; any other
fails the request once, with a reason that names no personal value. After an erasure that kept
nothing, Pledge forgets the person too; after one that found nothing, nobody is forgotten.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from pledge.clock import Clock, utc_now
from pledge.datastores.collect import collect
from pledge.datastores.plan import Step
from pledge.declaration.model import Declaration
from pledge.errors import DatastoreError, RequestError
from pledge.jobs.service import (
    MAX_ATTEMPTS,
    Job,
    Jobs,
    LeaseLost,
    Retry,
    backoff,
    describe,
    request_key,
)
from pledge.requests import reports as report_files
from pledge.requests.connections import Connector, DatastoreConnections, OpenedDatastores
from pledge.requests.corrections import corrections_in
from pledge.requests.model import IMMEDIATE_TYPES, RequestState, RequestType, SubjectRequest
from pledge.requests.service import SubjectRequests
from pledge.requests.steps import RequestSteps, retained
from pledge.store.database import Database
from pledge.subjects.crypto import KeyDestroyed
from pledge.subjects.service import Subjects

log = logging.getLogger(__name__)

JOB_KIND = "request"
DATASTORE_TYPES = frozenset(
    {
        RequestType.ACCESS,
        RequestType.PORTABILITY,
        RequestType.RECTIFICATION,
        RequestType.ERASURE,
    }
)
"""The request types carried out in the company's datastores (by a job)."""

NOTIFY_TYPES = frozenset({RequestType.RECTIFICATION, RequestType.ERASURE})
"""Requests whose outcome declared recipients are told of (restriction is told on verifying)."""

REPORT_LIFETIME = dt.timedelta(days=30)


@dataclass(frozen=True)
class PlannedTable:
    """One table of a dry run: how rows are found and how many there are now.

    ``shared`` counts the rows other people's rows point to as well (shown, never erased);
    a table no request reaches is listed with ``action`` ``not searched`` and why.
    """

    datastore: str
    table: str
    found_by: tuple[str, ...]
    rows: int
    action: str
    shared: int = 0


@dataclass(frozen=True)
class DryRun:
    """What carrying a request out would read or change; nothing was changed.

    Args:
        tables: every declared table, reached or not.
        problems: what refuses the plan (the request would fail until they are fixed).
        warnings: what may stop an erasure for some people.
    """

    tables: tuple[PlannedTable, ...]
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class RequestExecution:
    """Plans and carries out the requests that reach into the company's datastores.

    Args:
        database: Pledge's store.
        declaration: the declaration in force (its ``datastores`` section).
        requests: the lifecycle service.
        subjects: identities and per-subject encryption.
        jobs: the job table.
        pseudonym_key: the key of HMAC pseudonyms written by erasure.
        connect: opens a datastore (the SQL connector by default).
        clock: the time source.
        report_lifetime: how long a report can be downloaded.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        requests: SubjectRequests,
        subjects: Subjects,
        jobs: Jobs,
        *,
        pseudonym_key: bytes,
        connect: Connector | None = None,
        clock: Clock = utc_now,
        report_lifetime: dt.timedelta = REPORT_LIFETIME,
    ) -> None:
        self.database = database
        self.declaration = declaration
        self.requests = requests
        self.subjects = subjects
        self.jobs = jobs
        self.pseudonym_key = pseudonym_key
        self.connections = DatastoreConnections(declaration, connect)
        self.clock = clock
        self.report_lifetime = report_lifetime
        self.steps = RequestSteps(
            database,
            declaration,
            subjects,
            jobs,
            self.connections,
            pseudonym_key=pseudonym_key,
            clock=clock,
            report_lifetime=report_lifetime,
        )

    # --- deciding -----------------------------------------------------------------------------

    def approve(self, request_id: str, *, actor: str) -> SubjectRequest:
        """Approve a verified request: it is planned and its job queued, in one transaction.

        Raises:
            NotFound: no such request.
            RequestError: the request is not verified, or is not carried out in datastores.
        """
        request = self.requests.get(request_id)
        if request.type not in DATASTORE_TYPES:
            raise RequestError(f"a {request.type} request takes effect on verification")
        if request.type is RequestType.RECTIFICATION and not corrections_in(request.details or {}):
            raise RequestError(
                "the rectification names no datastore columns (details.corrections): correct"
                " the data by hand, then complete the request"
            )
        if not self.declaration.datastores:
            raise RequestError("the declaration has no datastores to carry the request out in")

        def enqueue(connection: Connection) -> None:
            self.jobs.enqueue(
                connection,
                JOB_KIND,
                request_key(request_id),
                {"type": str(request.type)},
                request_id=request_id,
            )

        return self.requests.mark_planned(request_id, actor=actor, also=enqueue)

    def dry_run(self, request_id: str) -> DryRun:
        """The plan of a request with the rows each table holds now; nothing is changed.

        A plan that would be refused is shown with its problems, and the rows it can find.

        Raises:
            NotFound: no such request.
            DatastoreError: a datastore is unreachable or no longer matches the declaration.
        """
        request = self.requests.get(request_id)
        identities = self.steps.identities(request)
        planned: list[PlannedTable] = []
        problems: list[str] = []
        warnings: list[str] = []
        with self._datastores() as datastores:
            for name in self.declaration.datastores:
                opened = datastores.open(name, strict=False)
                plan = opened.plan
                with opened.store.engine.connect() as connection:
                    found = collect(connection, opened.tables, plan, identities, columns="erasure")
                for step in plan.steps:
                    planned.append(
                        PlannedTable(
                            name,
                            step.table,
                            step.sources,
                            found.count(step.table),
                            _action(request.type, step),
                            len(found.shared.get(step.table, ())),
                        )
                    )
                for table, why in plan.unreached.items():
                    planned.append(PlannedTable(name, table, (), 0, f"not searched: {why}"))
                problems += [f"{name}: {problem}" for problem in plan.problems]
                warnings += [
                    f"{name}: {problem.message}"
                    for problem in plan.constraints
                    if not problem.error
                ]
        return DryRun(tuple(planned), tuple(problems), tuple(warnings))

    def reaches(self, datastore: str, table: str) -> bool:
        """Whether a request reaches ``table`` of ``datastore`` (False for either unknown).

        Raises:
            DatastoreError: the datastore cannot be reached or read.
        """
        if datastore not in self.declaration.datastores:
            return False
        with self._datastores() as datastores:
            return datastores.open(datastore, strict=False).plan.has(table)

    def run_now(self, request_id: str, *, owner: str) -> SubjectRequest:
        """Carry out an approved request's job in this process, now (``pledge request run``).

        Raises:
            RequestError: the request has no job waiting (not approved, or already running
                in another runner).
        """
        job = self.jobs.claim(owner, (JOB_KIND,), key=request_key(request_id))
        if job is None:
            raise RequestError(
                "the request has no job waiting: approve it first (or another runner has it)"
            )
        try:
            with self.jobs.holding(job):
                self.run(job)
        except LeaseLost:
            raise RequestError("another runner took the request's job over") from None
        except Retry as retry:
            self.jobs.fail(job, retry.reason, retry_after=backoff(job.attempts))
            raise RequestError(f"not finished, will be retried: {retry.reason}") from None
        except Exception as error:
            self.jobs.fail(job, describe(error))
            raise
        self.jobs.finish(job)
        return self.requests.get(request_id)

    def buried(self, job: Job) -> None:
        """A request's job was given up (its runner stopped half-way too often): the request
        fails with the reason, and staff may retry it."""
        assert job.request_id is not None
        request = self.requests.get(job.request_id)
        if request.state in (RequestState.PLANNED, RequestState.RUNNING):
            self.requests.fail(
                request.id,
                f"its job was given up after {job.attempts - 1} attempts: the runner stopped"
                " before it finished every time",
                retryable=True,
                actor=f"job:{job.id}",
            )

    def report(self, request_id: str, format: str) -> report_files.ReportFile:
        """A carried-out request's report in ``format`` (html, zip or json), decrypted.

        Raises:
            NotFound: no such request, or no report in that format.
            RequestError: the report expired.
        """
        request = self.requests.get(request_id)
        return report_files.load(self.database, self.subjects, request, format, self.clock())

    def reports(self, request_id: str) -> list[dict[str, Any]]:
        """The formats of a request's report that can still be downloaded (none once the
        person is erased: their key is gone)."""
        request = self.requests.get(request_id)
        if self.subjects.get(request.subject_id).erased:
            return []
        return report_files.available(self.database, request_id, self.clock())

    # --- the job ------------------------------------------------------------------------------

    def run(self, job: Job) -> None:
        """Carry out the request of ``job``, resuming after its last finished step."""
        assert job.request_id is not None
        request = self.requests.get(job.request_id)
        if request.type in IMMEDIATE_TYPES:
            # The job a verification queued for its effect, should the verifying process not
            # have applied it: applied here (a request no longer verified is left as it is).
            self.requests.carry_out(request.id, actor=f"job:{job.id}")
            return
        if request.state is RequestState.COMPLETED:
            self._forget(job, request)  # a run cut off between completing and forgetting
            return
        if request.state is RequestState.DENIED:
            return
        if request.state is RequestState.FAILED:
            return  # retried only through SubjectRequests.retry and a new approval
        actor = f"job:{job.id}"
        try:
            if request.state is RequestState.PLANNED:
                request = self.requests.mark_running(request.id, actor=actor)
            result = self.steps.carry_out(job, request)
        except DatastoreError as error:
            # Only a passing fault is tried again (and may be retried by staff); anything else
            # fails for good, once: put the declaration or the data right, then ask again.
            if error.transient and job.attempts < MAX_ATTEMPTS:
                raise Retry(str(error)) from None
            self.requests.fail(request.id, str(error), retryable=error.transient, actor=actor)
            raise
        except (Retry, KeyDestroyed, LeaseLost):
            raise
        except Exception as error:
            self.requests.fail(request.id, describe(error), retryable=False, actor=actor)
            raise
        self.requests.complete(request.id, actor=actor, result=result)
        self._forget(job, request, result)

    def _forget(
        self, job: Job, request: SubjectRequest, result: Mapping[str, Any] | None = None
    ) -> None:
        """After an erasure that kept nothing, Pledge forgets the person too.

        Their data key and blind indexes are destroyed (:meth:`Subjects.erase`): identities,
        consent evidence, request details, the found rows of the job's steps and the reports
        can no longer be decrypted, and the person is signed out. The completion mail, with
        what was erased, was queued with the completion, sealed under a key of Pledge's own:
        it is delivered even when that happens after the person is forgotten (the mail server
        was down). When a legal hold keeps rows, the person stays known, restricted, so that
        what is kept is only stored.

        ``result`` is what the run that just completed the request returned; a run cut off
        between completing and forgetting reads the job's steps instead.
        """
        if request.type is not RequestType.ERASURE:
            return
        if result is not None:
            kept = retained(result.get("datastores", {}))
            found = not result.get("nothing_found")
        else:
            steps = self.jobs.steps(job.id)
            kept = any(step.name == "restrict" for step in steps)
            found = any(
                sum(step.result.get("rows", {}).values())
                for step in steps
                if step.name.startswith("found:")
            )
        if kept or not found:
            return  # kept rows, or nothing was erased: the person stays known
        self.subjects.erase(
            request.subject_id, actor=f"job:{job.id}", reason=f"erasure request {request.id}"
        )

    def _datastores(self) -> OpenedDatastores:
        return self.connections.opened()

    def close(self) -> None:
        """Release the datastores' connections."""
        self.connections.close()


def _action(kind: RequestType, step: Step) -> str:
    if kind is not RequestType.ERASURE:
        return "read"
    if step.legal_hold is not None:
        return "retain (legal hold)"
    if step.erasure is None:
        return "keep (no erasure strategy)"
    return (
        "delete" if step.erasure.rewrite is None else "rewrite " + ", ".join(step.erasure.rewrite)
    )
