"""Carrying out access, portability, rectification and erasure in the company's datastores.

A staff member approves a verified request (:meth:`RequestExecution.approve`): that moves it to
``planned`` and enqueues its job in the same transaction. A runner then calls
:meth:`RequestExecution.run` with the job, which goes through named steps; each finished step
is a row of ``job_steps`` written in the transaction that records its outcome, so a job cut
off anywhere resumes at the step that did not finish:

``found:DS``    the person's rows in datastore DS (encrypted under the subject's key);
``erase:DS``    erasure in one DS transaction, children first, from what ``found`` holds;
``correct:DS``  rectification likewise;
``verify:DS``   the access plan run again after an erasure: nothing may be left but legal holds;
``recipients``  a notification job per recipient with a webhook (GDPR Art. 19);
``report``      the report, encrypted under the subject's key, kept until it expires.

Erasure and correction are idempotent, so the one step that may run twice (the one in hand
when a worker died) changes nothing the second time, and the report keeps what ``found``
recorded before anything was erased.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from pledge.clock import Clock, utc_now
from pledge.datastores import residue as outsider
from pledge.datastores.errors import translate
from pledge.datastores.execute import Found, collect, correct, erase, reread, residue
from pledge.datastores.model import Datastore
from pledge.datastores.plan import Plan, Step, build_plan
from pledge.datastores.sql import SqlDatastore
from pledge.datastores.statements import Tables
from pledge.declaration.model import Declaration, IdentityKind, PseudonymKind, Rewrite
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import DatastoreError, NotFound, PlanRefused, RequestError
from pledge.jobs.service import (
    MAX_ATTEMPTS,
    Job,
    Jobs,
    LeaseLost,
    Retry,
    StepRecord,
    backoff,
    describe,
    request_key,
)
from pledge.requests import reports as report_files
from pledge.requests.corrections import corrections_in
from pledge.requests.model import IMMEDIATE_TYPES, RequestState, RequestType, SubjectRequest
from pledge.requests.service import SubjectRequests
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

Connector = Callable[[str, str], Datastore]


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
        self.connect = connect or _long_lived
        self._stores: dict[str, Datastore] = {}
        self._stores_lock = threading.Lock()
        self.clock = clock
        self.report_lifetime = report_lifetime

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
        identities = self._identities(request)
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
            result = self._carry_out(job, request)
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
        self._forget(job, request)

    def _forget(self, job: Job, request: SubjectRequest) -> None:
        """After an erasure that kept nothing, Pledge forgets the person too.

        Their data key and blind indexes are destroyed (:meth:`Subjects.erase`): identities,
        consent evidence, request details, the found rows of the job's steps and the reports
        can no longer be decrypted, and the person is signed out. The completion mail, with
        what was erased, went out before. When a legal hold keeps rows, the person stays
        known, restricted, so that what is kept is only stored.
        """
        if request.type is not RequestType.ERASURE or self.jobs.step(job.id, "restrict"):
            return
        if not self._found_anything(job):
            return  # nothing was erased: the person stays known, with the request's record
        if self.subjects.get(request.subject_id).erased:
            return
        self.subjects.erase(
            request.subject_id, actor=f"job:{job.id}", reason=f"erasure request {request.id}"
        )

    def _found_anything(self, job: Job) -> bool:
        found = [step for step in self.jobs.steps(job.id) if step.name.startswith("found:")]
        return any(sum(step.result.get("rows", {}).values()) for step in found)

    def _carry_out(self, job: Job, request: SubjectRequest) -> dict[str, Any]:
        with self._datastores() as datastores:
            return self._carry_out_in(job, request, datastores)

    def _carry_out_in(
        self, job: Job, request: SubjectRequest, datastores: _Datastores
    ) -> dict[str, Any]:
        identities = self._identities(request)
        kind = request.type
        if kind is RequestType.RECTIFICATION:
            self._check_corrections(request, datastores)
        outcome: dict[str, Any] = {}
        gathered: dict[str, Found] = {}
        found_steps: dict[str, StepRecord] = {}
        for name in self.declaration.datastores:
            found_steps[name] = self._step(
                job,
                request,
                f"found:{name}",
                partial(self._find, datastores, name, request, identities),
            )
            gathered[name] = _decode_found(self._data(job, request, found_steps[name]))
        if not any(found.total() for found in gathered.values()):
            nothing = {"nothing_found": True, **self._searched(datastores, identities)}
            self._step(job, request, "report", lambda: self._report(request, gathered, nothing))
            return nothing
        for name in self.declaration.datastores:
            if kind is RequestType.ERASURE:
                erased = self._step(
                    job,
                    request,
                    f"erase:{name}",
                    partial(self._erase, datastores, name, gathered[name]),
                )
                verified = self._step(
                    job,
                    request,
                    f"verify:{name}",
                    partial(self._verify, datastores, name, identities, gathered[name]),
                )
                outcome[name] = {"tables": erased.result["tables"], **verified.result}
            elif kind is RequestType.RECTIFICATION:
                corrected = self._step(
                    job,
                    request,
                    f"correct:{name}",
                    partial(self._correct, datastores, name, request, gathered[name]),
                )
                outcome[name] = corrected.result
            else:
                outcome[name] = {"rows": found_steps[name].result["rows"]}
        if kind is RequestType.ERASURE:
            left = _left(outcome)
            if left:
                raise DatastoreError(
                    "the erasure was carried out, but its verification found the person's data"
                    f" still there: {left}; the request is not complete"
                )
        if kind is RequestType.ERASURE and _retained(outcome):
            self._step(job, request, "restrict", lambda: self._restrict(job, request))
        if kind in NOTIFY_TYPES:
            self._step(job, request, "recipients", lambda: self._recipients(request))
        self._step(job, request, "report", lambda: self._report(request, gathered, outcome))
        return {"datastores": {name: _summary(value) for name, value in outcome.items()}}

    def _check_corrections(self, request: SubjectRequest, datastores: _Datastores) -> None:
        """Refuse, before anything is changed, corrections to tables no plan reaches."""
        for name, tables in corrections_in(request.details or {}).items():
            plan = datastores.open(name).plan
            unreached = [table for table in tables if not plan.has(table)]
            if unreached:
                raise DatastoreError(
                    f"datastore '{name}': no request reaches {', '.join(unreached)}, so the"
                    " correction cannot be applied there; nothing was corrected"
                )

    def _searched(
        self, datastores: _Datastores, identities: Mapping[IdentityKind, frozenset[str]]
    ) -> dict[str, Any]:
        """What a request that found nothing searched: the kinds of identity, and where."""
        return {
            "identities": sorted(str(kind) for kind in identities),
            "searched": {
                name: [
                    f"{step.table}.{identify.column}"
                    for step in datastores.open(name).plan.steps
                    for identify in step.identities
                    if identify.kind in identities
                ]
                for name in self.declaration.datastores
            },
        }

    # --- steps --------------------------------------------------------------------------------

    def _step(
        self,
        job: Job,
        request: SubjectRequest,
        name: str,
        work: Callable[[], tuple[dict[str, Any], bytes | None]],
    ) -> StepRecord:
        done = self.jobs.step(job.id, name)
        if done is not None:
            return done
        result, data = work()
        with self.database.transaction() as connection:
            encrypted = (
                None
                if data is None
                else self.subjects.encrypt(connection, request.subject_id, _field(job, name), data)
            )
            record = self.jobs.record_step(connection, job, name, result, encrypted)
            audit.record(
                connection,
                AuditEntry(
                    "request.step",
                    f"job:{job.id}",
                    request.subject_id,
                    details={"request_id": request.id, "step": name, **_summary(result)},
                ),
                clock=self.clock,
            )
        return record

    def _data(self, job: Job, request: SubjectRequest, step: StepRecord) -> bytes:
        assert step.data_encrypted is not None
        with self.database.read() as connection:
            return self.subjects.decrypt(
                connection, request.subject_id, _field(job, step.name), step.data_encrypted
            )

    def _find(
        self,
        datastores: _Datastores,
        name: str,
        request: SubjectRequest,
        identities: Mapping[IdentityKind, frozenset[str]],
    ) -> tuple[dict[str, Any], bytes]:
        columns = "erasure" if request.type is RequestType.ERASURE else "all"
        opened = datastores.open(name)
        with opened.store.engine.connect() as connection:
            found = collect(connection, opened.tables, opened.plan, identities, columns=columns)
        result: dict[str, Any] = {"rows": found.counts()}
        shared = {table: len(rows) for table, rows in found.shared.items() if rows}
        if shared:
            result["shared"] = shared
        return result, _encode_found(found)

    def _erase(
        self, datastores: _Datastores, name: str, found: Found
    ) -> tuple[dict[str, Any], None]:
        opened = datastores.open(name)
        erasure_key = os.urandom(32)  # this erasure's pseudonyms link to nothing else

        def key(table: str, how: Rewrite) -> bytes:
            if how.pseudonym is PseudonymKind.STABLE:
                return _derive(self.pseudonym_key, f"stable/{name}")
            return _derive(erasure_key, f"table/{table}")

        with opened.store.engine.begin() as connection:
            outcomes = erase(connection, opened.tables, opened.plan, found, pseudonym_key=key)
        return {"tables": {table: outcome.to_dict() for table, outcome in outcomes.items()}}, None

    def _verify(
        self,
        datastores: _Datastores,
        name: str,
        identities: Mapping[IdentityKind, frozenset[str]],
        found: Found,
    ) -> tuple[dict[str, Any], None]:
        opened = datastores.open(name)
        plan = opened.plan
        region = self.declaration.controller.country
        declared = self.declaration.datastores[name]
        with opened.store.engine.connect() as connection:
            after = collect(connection, opened.tables, plan, identities, known=found)
            again = reread(connection, opened.tables, plan, found)
            left = residue(plan, found, after, again)
            person = outsider.person(identities, declared, found.rows, region=region)
            elsewhere = outsider.search(
                connection,
                name,
                declared,
                person,
                exclude=_shared_keys(plan, found),
                region=region,
                metadata=opened.store.metadata,
            )
        result: dict[str, Any] = {"residue": left}
        if elsewhere:
            result["found_elsewhere"] = elsewhere
        return result, None

    def _correct(
        self,
        datastores: _Datastores,
        name: str,
        request: SubjectRequest,
        found: Found,
    ) -> tuple[dict[str, Any], None]:
        wanted = corrections_in(request.details or {}).get(name, {})
        if not wanted:
            return {"corrected": {}}, None
        opened = datastores.open(name)
        with opened.store.engine.begin() as connection:
            changed = correct(connection, opened.tables, opened.plan, found, wanted)
        return {
            "corrected": {
                table: {"rows": rows, "columns": sorted(wanted[table])}
                for table, rows in changed.items()
            }
        }, None

    def _restrict(self, job: Job, request: SubjectRequest) -> tuple[dict[str, Any], None]:
        # What a legal hold keeps may only be stored from now on (GDPR Art. 18(2), 17(3)(b)).
        self.subjects.set_restricted(
            request.subject_id,
            True,
            actor=f"job:{job.id}",
            reason=f"rows kept under a legal hold after erasure request {request.id}",
        )
        return {"restricted": True}, None

    def _recipients(self, request: SubjectRequest) -> tuple[dict[str, Any], None]:
        with self.database.transaction() as connection:
            result = self.notify_recipients(connection, request)
        return result, None

    def notify_recipients(self, connection: Connection, request: SubjectRequest) -> dict[str, Any]:
        """Queue, in the caller's transaction, a notice to each recipient with a webhook.

        Each notice keeps, sealed under a key of Pledge's own, the identities the recipient
        finds the person by (and a rectification's corrections): an erasure that keeps nothing
        makes Pledge forget the person right after, and the notice must still name them. The
        snapshot is dropped once the recipient has it.

        Returns which recipients will be notified and which must be told by hand.
        """
        notified: list[str] = []
        by_hand: list[str] = []
        snapshot: bytes | None = None
        for key, recipient in self.declaration.recipients.items():
            if recipient.webhook is None:
                by_hand.append(key)
                continue
            job_id = self.jobs.enqueue(
                connection,
                "recipient",
                f"recipient:{request.id}:{key}",
                {"recipient": key, "request_id": request.id, "type": str(request.type)},
                request_id=request.id,
            )
            if snapshot is None:
                subject = self.subjects.get(request.subject_id, connection)
                snapshot = json.dumps(
                    {
                        "subject": _grouped(subject.identities),
                        "details": shared_details(request.type, request.details or {}),
                    }
                ).encode()
            sealed = self.subjects.keyring.seal(snapshot, notice_context(job_id))
            self.jobs.attach(connection, job_id, NOTICE_STEP, sealed)
            notified.append(key)
        return {"webhooks": notified, "by_hand": by_hand}

    def _report(
        self,
        request: SubjectRequest,
        gathered: Mapping[str, Found],
        outcome: Mapping[str, Any],
    ) -> tuple[dict[str, Any], None]:
        built = report_files.build(self.declaration, request, gathered, outcome, self.clock())
        expires = self.clock() + self.report_lifetime
        with self.database.transaction() as connection:
            for item in built:
                report_files.store(connection, self.subjects, request, item, self.clock(), expires)
        return {"formats": [item.format for item in built], "expires_at": expires.isoformat()}, None

    # --- helpers ------------------------------------------------------------------------------

    def _identities(self, request: SubjectRequest) -> dict[IdentityKind, frozenset[str]]:
        subject = self.subjects.get(request.subject_id)
        found: dict[IdentityKind, set[str]] = {}
        for identity in subject.identities:
            found.setdefault(IdentityKind(str(identity.kind)), set()).add(identity.value)
        return {kind: frozenset(values) for kind, values in found.items()}

    def _datastores(self) -> _Datastores:
        return _Datastores(self)

    def store(self, name: str, url: str) -> Datastore:
        """The connector of datastore ``name``, opened once and kept for every job: its
        connections (and SQLAlchemy's cache of compiled statements) outlive a job."""
        with self._stores_lock:
            found = self._stores.get(name)
            if found is None:
                found = self._stores[name] = self.connect(name, url)
            return found

    def close(self) -> None:
        """Release the datastores' connections."""
        with self._stores_lock:
            stores, self._stores = list(self._stores.values()), {}
        for store in stores:
            store.close()


@dataclass(frozen=True)
class _Opened:
    """A datastore opened for a job: its connector, its plan and the plan's tables."""

    name: str
    store: SqlDatastore
    plan: Plan
    tables: Tables


def _long_lived(name: str, url: str) -> SqlDatastore:
    # Kept across jobs, its pooled connections are checked before use: a database restarted
    # in between costs a reconnect, not a failed step.
    return SqlDatastore(name, url, pre_ping=True)


class _Datastores:
    """The datastores of one job (or dry run): each reflected and planned once, on first use,
    so that a job's steps share one look at the schema, and every job sees the schema as it
    is when it starts."""

    def __init__(self, execution: RequestExecution) -> None:
        self.execution = execution
        self._opened: dict[str, _Opened] = {}

    def open(self, name: str, *, strict: bool = True) -> _Opened:
        """The datastore ``name``, opened on first use.

        Args:
            name: the datastore.
            strict: refuse a plan that cannot be carried out as declared (a dry run shows it
                instead).

        Raises:
            NotFound: no such datastore is declared.
            DatastoreError: it cannot be reached, cannot run queries or no longer matches
                the declaration.
            PlanRefused: ``strict``, and the plan has problems.
        """
        found = self._opened.get(name)
        if found is None:
            declared = self.execution.declaration.datastores.get(name)
            if declared is None:
                raise NotFound(f"no datastore '{name}' is declared")
            store = self.execution.store(name, declared.url)
            if not isinstance(store, SqlDatastore):
                raise DatastoreError(f"datastore '{name}' cannot run queries")
            region = self.execution.declaration.controller.country
            plan = build_plan(name, store.reflect(only=declared.tables), declared, region=region)
            try:
                with store.engine.connect() as connection:
                    tables = Tables(connection, plan.tables_used(), name, store.metadata)
            except SQLAlchemyError as error:
                raise translate(error, name) from None
            found = self._opened[name] = _Opened(name, store, plan, tables)
        if strict and found.plan.problems:
            raise PlanRefused(name, found.plan.problems)
        return found

    def __enter__(self) -> _Datastores:
        return self

    def __exit__(self, *_: object) -> None:
        self._opened.clear()


def _shared_keys(plan: Plan, found: Found) -> dict[str, list[tuple[Any, ...]]]:
    """The primary keys of the rows an erasure kept as shared, per table."""
    keys: dict[str, list[tuple[Any, ...]]] = {}
    for table, positions in found.shared.items():
        step = plan.step(table)
        if step.key:
            rows = found.rows.get(table, [])
            keys[table] = [tuple(rows[index][column] for column in step.key) for index in positions]
    return keys


NOTICE_STEP = "notice"
"""The name under which a recipient job keeps its sealed snapshot of the person."""


def notice_context(job_id: str) -> str:
    """What a recipient notice's snapshot is sealed to: its job."""
    return f"recipient-notice/{job_id}"


def shared_details(kind: RequestType, details: Mapping[str, Any]) -> dict[str, Any]:
    """What of a request's details a recipient is told: a rectification's corrections."""
    if kind is RequestType.RECTIFICATION:
        return {"corrections": dict(details.get("corrections") or {})}
    return {}


def _grouped(identities: Any) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for identity in identities:
        grouped.setdefault(str(identity.kind), []).append(identity.value)
    return grouped


def _derive(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()


def _left(outcome: Mapping[str, Any]) -> str:
    """What the verification of an erasure found, as text naming tables and columns only."""
    parts = []
    for name, done in outcome.items():
        for table, rows in (done.get("residue") or {}).items():
            parts.append(f"{name}.{table}: {rows} row{'' if rows == 1 else 's'} left")
        for table, columns in (done.get("found_elsewhere") or {}).items():
            listed = ", ".join(f"{column} ({rows})" for column, rows in columns.items())
            parts.append(f"{name}.{table}: the person's values in {listed}")
    return "; ".join(parts)


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


def _retained(outcome: Mapping[str, Any]) -> bool:
    """Whether an erasure kept rows under a legal hold in any datastore."""
    return any(
        table.get("action") == "retained" and table.get("rows")
        for done in outcome.values()
        for table in done.get("tables", {}).values()
    )


def _summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """A step's result as audited: counts and names only."""
    return {key: value for key, value in result.items() if key != "formats" or value}


def _field(job: Job, name: str) -> str:
    return f"job/{job.id}/{name}"


# --- found rows as stored ----------------------------------------------------------------------


def _encode_found(found: Found) -> bytes:
    body = {"rows": found.rows, "shared": found.shared, "tallies": found.tallies}
    return json.dumps(body, default=_tagged, separators=(",", ":")).encode()


def _decode_found(data: bytes) -> Found:
    body = json.loads(data, object_hook=_untagged)
    if set(body) != {"rows", "shared", "tallies"}:
        return Found(body)  # a job found before shared rows were told apart
    return Found(body["rows"], body["shared"], body["tallies"])


def _tagged(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot store a {type(value).__name__}")


def _untagged(value: dict[str, Any]) -> Any:
    if len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$decimal":
            return decimal.Decimal(text)
        if tag == "$datetime":
            return dt.datetime.fromisoformat(text)
        if tag == "$date":
            return dt.date.fromisoformat(text)
        if tag == "$bytes":
            return base64.b64decode(text)
    return value
