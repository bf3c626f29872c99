"""The steps that carry a request out in the company's datastores, each recorded once.

A job goes through named steps; each finished step is a row of ``job_steps`` written in the
transaction that records its outcome (and fenced by the job's claim), so a job cut off anywhere
resumes at the step that did not finish:

``found:DS``    the person's rows in datastore DS (encrypted under the subject's key);
``erase:DS``    erasure in one DS transaction, from what ``found`` holds;
``correct:DS``  rectification likewise;
``verify:DS``   the plan again, the changed rows read back, and the search apart from the plan;
``restrict``    the person restricted when a legal hold kept rows;
``recipients``  a notice per recipient with a webhook (GDPR Art. 19);
``report``      the report, encrypted under the subject's key, kept until it expires.

Erasure and correction are idempotent, so the one step that may run twice (the one in hand
when a runner died) changes nothing the second time, and the report keeps what ``found``
recorded before anything was erased.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from pledge.clock import Clock
from pledge.datastores import residue as outsider
from pledge.datastores.collect import Found, collect, reread
from pledge.datastores.execute import correct, erase, residue
from pledge.datastores.plan import Plan
from pledge.declaration.model import Declaration, IdentityKind, PseudonymKind, Rewrite
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import DatastoreError
from pledge.jobs.service import Job, Jobs, StepRecord
from pledge.requests import found_rows
from pledge.requests import reports as report_files
from pledge.requests.connections import DatastoreConnections, OpenedDatastores
from pledge.requests.corrections import corrections_in
from pledge.requests.model import RequestType, SubjectRequest
from pledge.requests.notices import queue_notices
from pledge.store.database import Database
from pledge.subjects.service import Subjects

NOTIFY_TYPES = frozenset({RequestType.RECTIFICATION, RequestType.ERASURE})
"""Requests whose outcome declared recipients are told of (restriction is told on verifying)."""


class RequestSteps:
    """The steps of the jobs that carry requests out.

    Args:
        database: Pledge's store.
        declaration: the declaration in force.
        subjects: identities and per-subject encryption.
        jobs: the job table (steps are recorded there).
        connections: the datastores' connectors.
        pseudonym_key: the key of ``stable`` pseudonyms.
        clock: the time source.
        report_lifetime: how long a report can be downloaded.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        subjects: Subjects,
        jobs: Jobs,
        connections: DatastoreConnections,
        *,
        pseudonym_key: bytes,
        clock: Clock,
        report_lifetime: dt.timedelta,
    ) -> None:
        self.database = database
        self.declaration = declaration
        self.subjects = subjects
        self.jobs = jobs
        self.connections = connections
        self.pseudonym_key = pseudonym_key
        self.clock = clock
        self.report_lifetime = report_lifetime

    def identities(self, request: SubjectRequest) -> dict[IdentityKind, frozenset[str]]:
        """The person's identities by kind, decrypted."""
        subject = self.subjects.get(request.subject_id)
        found: dict[IdentityKind, set[str]] = {}
        for identity in subject.identities:
            found.setdefault(IdentityKind(str(identity.kind)), set()).add(identity.value)
        return {kind: frozenset(values) for kind, values in found.items()}

    def carry_out(self, job: Job, request: SubjectRequest) -> dict[str, Any]:
        """Carry the request of ``job`` out, resuming after its last finished step; returns
        the result to record (counts and names only).

        Raises:
            DatastoreError: a datastore refused or failed (``transient`` says whether a retry
                may help); nothing is recorded of the step that failed.
            LeaseLost: another runner took the job over.
        """
        with self.connections.opened() as datastores:
            return self._carry_out_in(job, request, datastores)

    def _carry_out_in(
        self, job: Job, request: SubjectRequest, datastores: OpenedDatastores
    ) -> dict[str, Any]:
        identities = self.identities(request)
        kind = request.type
        if kind is RequestType.RECTIFICATION:
            self._check_corrections(request, datastores)
        # The steps a run cut off finished (read once: the job's lease keeps other runners out).
        finished = {step.name: step for step in self.jobs.steps(job.id)}
        outcome: dict[str, Any] = {}
        gathered: dict[str, Found] = {}
        found_steps: dict[str, StepRecord] = {}
        for name in self.declaration.datastores:
            found_steps[name] = self._step(
                job,
                request,
                f"found:{name}",
                partial(self._find, datastores, name, request, identities, gathered),
                finished,
            )
            if name not in gathered:  # found by a run cut off: read back from the store
                gathered[name] = found_rows.decode(self._data(job, request, found_steps[name]))
        if not any(found.total() for found in gathered.values()):
            nothing = {"nothing_found": True, **self._searched(datastores, identities)}
            self._step(
                job, request, "report", lambda: self._report(request, gathered, nothing), finished
            )
            return nothing
        for name in self.declaration.datastores:
            if kind is RequestType.ERASURE:
                erased = self._step(
                    job,
                    request,
                    f"erase:{name}",
                    partial(self._erase, datastores, name, gathered[name]),
                    finished,
                )
                verified = self._step(
                    job,
                    request,
                    f"verify:{name}",
                    partial(self._verify, datastores, name, identities, gathered[name]),
                    finished,
                )
                outcome[name] = {"tables": erased.result["tables"], **verified.result}
            elif kind is RequestType.RECTIFICATION:
                corrected = self._step(
                    job,
                    request,
                    f"correct:{name}",
                    partial(self._correct, datastores, name, request, gathered[name]),
                    finished,
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
        if kind is RequestType.ERASURE and retained(outcome):
            self._step(job, request, "restrict", lambda: self._restrict(job, request), finished)
        if kind in NOTIFY_TYPES:
            self._step(job, request, "recipients", lambda: self._recipients(request), finished)
        self._step(
            job, request, "report", lambda: self._report(request, gathered, outcome), finished
        )
        return {"datastores": {name: _summary(value) for name, value in outcome.items()}}

    def _check_corrections(self, request: SubjectRequest, datastores: OpenedDatastores) -> None:
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
        self, datastores: OpenedDatastores, identities: Mapping[IdentityKind, frozenset[str]]
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
        finished: Mapping[str, StepRecord],
    ) -> StepRecord:
        done = finished.get(name)
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
        datastores: OpenedDatastores,
        name: str,
        request: SubjectRequest,
        identities: Mapping[IdentityKind, frozenset[str]],
        gathered: dict[str, Found],
    ) -> tuple[dict[str, Any], bytes]:
        columns = "erasure" if request.type is RequestType.ERASURE else "all"
        opened = datastores.open(name)
        with opened.store.engine.connect() as connection:
            found = collect(connection, opened.tables, opened.plan, identities, columns=columns)
        gathered[name] = found
        result: dict[str, Any] = {"rows": found.counts()}
        shared = {table: len(rows) for table, rows in found.shared.items() if rows}
        if shared:
            result["shared"] = shared
        return result, found_rows.encode(found)

    def _erase(
        self, datastores: OpenedDatastores, name: str, found: Found
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
        datastores: OpenedDatastores,
        name: str,
        identities: Mapping[IdentityKind, frozenset[str]],
        found: Found,
    ) -> tuple[dict[str, Any], None]:
        opened = datastores.open(name)
        plan = opened.plan
        region = self.declaration.controller.country
        declared = self.declaration.datastores[name]
        with opened.store.engine.connect() as connection:
            after = collect(
                connection, opened.tables, plan, identities, known=found, columns="erasure"
            )
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
        datastores: OpenedDatastores,
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
        if not any(recipient.webhook for recipient in self.declaration.recipients.values()):
            by_hand = list(self.declaration.recipients)
            return {"webhooks": [], "by_hand": by_hand}, None
        with self.database.transaction() as connection:
            result = queue_notices(connection, request, self.declaration, self.jobs, self.subjects)
        return result, None

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


def _shared_keys(plan: Plan, found: Found) -> dict[str, list[tuple[Any, ...]]]:
    """The primary keys of the rows an erasure kept as shared, per table."""
    keys: dict[str, list[tuple[Any, ...]]] = {}
    for table, positions in found.shared.items():
        step = plan.step(table)
        if step.key:
            rows = found.rows.get(table, [])
            keys[table] = [tuple(rows[index][column] for column in step.key) for index in positions]
    return keys


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


def retained(outcome: Mapping[str, Any]) -> bool:
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


__all__ = ["NOTIFY_TYPES", "RequestSteps", "retained"]
