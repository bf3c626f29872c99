"""The job table: enqueue, claim under a lease, record finished steps, finish or fail."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, delete, insert, or_, select, update

from pledge.clock import Clock, utc_now
from pledge.errors import PledgeError
from pledge.ids import new_id
from pledge.store.database import Database
from pledge.store.tables import job_steps, jobs

MAX_ATTEMPTS = 8
"""How often a job is tried before it fails for good."""
REQUEST_JOB = "request"
"""The kind of the job that carries out a subject request (its key: :func:`request_key`)."""


class JobState(StrEnum):
    """Where a job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Retry(Exception):
    """Raised by a handler: the job should be tried again later (say, a datastore is down).

    Args:
        reason: what went wrong (no personal data: it is stored with the job).
        after: how long to wait; default grows with each attempt.
    """

    def __init__(self, reason: str, *, after: dt.timedelta | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


@dataclass(frozen=True)
class Job:
    """A claimed job."""

    id: str
    kind: str
    key: str
    request_id: str | None
    attempts: int
    payload: Mapping[str, Any]
    owner: str


@dataclass(frozen=True)
class StepRecord:
    """A step a job finished: its result (no personal data) and its encrypted data."""

    name: str
    result: Mapping[str, Any]
    data_encrypted: bytes | None
    done_at: dt.datetime


class Jobs:
    """The job table.

    Args:
        database: Pledge's store.
        clock: the time source.
        lease: how long a claim holds before another runner may take the job over.
    """

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock = utc_now,
        lease: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self.database = database
        self.clock = clock
        self.lease = lease

    def enqueue(
        self,
        connection: Connection,
        kind: str,
        key: str,
        payload: Mapping[str, Any] | None = None,
        *,
        request_id: str | None = None,
        run_after: dt.datetime | None = None,
    ) -> str:
        """Add a job in the caller's transaction; a job with the same key is queued again.

        Re-enqueuing a finished or failed job queues it once more with its steps kept, so a
        retried request resumes where it stopped. Returns the job's id.
        """
        now = self.clock()
        existing = connection.execute(
            select(jobs.c.id, jobs.c.state).where(jobs.c.key == key)
        ).first()
        if existing is not None:
            if existing.state != JobState.RUNNING:
                connection.execute(
                    update(jobs)
                    .where(jobs.c.id == existing.id)
                    .values(
                        state=str(JobState.QUEUED),
                        attempts=0,
                        error=None,
                        run_after=run_after or now,
                        updated_at=now,
                    )
                )
            return str(existing.id)
        job_id = new_id()
        connection.execute(
            insert(jobs).values(
                id=job_id,
                kind=kind,
                key=key,
                request_id=request_id,
                state=str(JobState.QUEUED),
                attempts=0,
                run_after=run_after or now,
                payload=_canonical(payload or {}),
                created_at=now,
                updated_at=now,
            )
        )
        return job_id

    def claim(
        self,
        owner: str,
        kinds: tuple[str, ...] | None = None,
        *,
        key: str | None = None,
        early: bool = False,
    ) -> Job | None:
        """Take the next job that is due (or whose runner's lease ran out), or None.

        Several runners may claim at once: on PostgreSQL rows are locked with SKIP LOCKED,
        and on every backend the claim is a compare-and-set on the job's state.

        Args:
            owner: the runner claiming.
            kinds: only jobs of these kinds.
            key: only the job with this key.
            early: a queued job is taken before its ``run_after`` too (the process that
                queued it carrying it out at once).
        """
        now = self.clock()
        queued = jobs.c.state == str(JobState.QUEUED)
        due = or_(
            queued if early else and_(queued, jobs.c.run_after <= now),
            and_(jobs.c.state == str(JobState.RUNNING), jobs.c.lease_until < now),
        )
        if kinds is not None:
            due = and_(due, jobs.c.kind.in_(kinds))
        if key is not None:
            due = and_(due, jobs.c.key == key)
        with self.database.transaction() as connection:
            row = (
                connection.execute(
                    select(jobs)
                    .where(due)
                    .order_by(jobs.c.run_after, jobs.c.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            taken = connection.execute(
                update(jobs)
                .where(jobs.c.id == row["id"], due)
                .values(
                    state=str(JobState.RUNNING),
                    attempts=jobs.c.attempts + 1,
                    lease_owner=owner,
                    lease_until=now + self.lease,
                    updated_at=now,
                )
            ).rowcount
        if taken != 1:
            return None
        return _job(row, owner)

    def renew(self, job: Job) -> None:
        """Extend the lease of a job this runner holds (during a long step)."""
        now = self.clock()
        with self.database.transaction() as connection:
            connection.execute(
                update(jobs)
                .where(jobs.c.id == job.id, jobs.c.lease_owner == job.owner)
                .values(lease_until=now + self.lease, updated_at=now)
            )

    def step(self, job_id: str, name: str) -> StepRecord | None:
        """The step ``name`` of a job if it finished, else None."""
        with self.database.read() as connection:
            row = (
                connection.execute(
                    select(job_steps).where(job_steps.c.job_id == job_id, job_steps.c.name == name)
                )
                .mappings()
                .first()
            )
        return None if row is None else _step(row)

    def steps(self, job_id: str) -> list[StepRecord]:
        """Every finished step of a job, in the order they finished."""
        with self.database.read() as connection:
            rows = connection.execute(
                select(job_steps)
                .where(job_steps.c.job_id == job_id)
                .order_by(job_steps.c.done_at, job_steps.c.name)
            ).mappings()
            return [_step(row) for row in rows]

    def record_step(
        self,
        connection: Connection,
        job_id: str,
        name: str,
        result: Mapping[str, Any],
        data_encrypted: bytes | None = None,
    ) -> StepRecord:
        """Record, in the caller's transaction, that a step finished."""
        now = self.clock()
        connection.execute(
            insert(job_steps).values(
                job_id=job_id,
                name=name,
                result=_canonical(result),
                data_encrypted=data_encrypted,
                done_at=now,
            )
        )
        return StepRecord(name, dict(result), data_encrypted, now)

    def attach(self, connection: Connection, job_id: str, name: str, data: bytes) -> None:
        """Keep encrypted ``data`` with a job under ``name`` (replacing what was there), in the
        caller's transaction: what the job needs later that must not be in its payload."""
        connection.execute(
            delete(job_steps).where(job_steps.c.job_id == job_id, job_steps.c.name == name)
        )
        self.record_step(connection, job_id, name, {}, data)

    def detach(self, connection: Connection, job_id: str, name: str) -> None:
        """Drop the data kept with a job under ``name`` (it has served)."""
        connection.execute(
            update(job_steps)
            .where(job_steps.c.job_id == job_id, job_steps.c.name == name)
            .values(data_encrypted=None)
        )

    def finish(self, job: Job) -> None:
        """Mark a job done."""
        self._close(job, JobState.DONE, None, None)

    def fail(self, job: Job, reason: str, *, retry_after: dt.timedelta | None = None) -> bool:
        """Record a failure: queued again after ``retry_after`` while attempts remain.

        Returns whether the job will be tried again.
        """
        again = retry_after is not None and job.attempts < MAX_ATTEMPTS
        if again:
            assert retry_after is not None
            self._close(job, JobState.QUEUED, reason, self.clock() + retry_after)
        else:
            self._close(job, JobState.FAILED, reason, None)
        return again

    def get(self, job_id: str) -> Mapping[str, Any]:
        """A job's row (for reports and tests)."""
        with self.database.read() as connection:
            return dict(
                connection.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
            )

    def for_request(self, request_id: str) -> Mapping[str, Any] | None:
        """The job carrying out a request, if there is one."""
        with self.database.read() as connection:
            row = (
                connection.execute(select(jobs).where(jobs.c.key == request_key(request_id)))
                .mappings()
                .first()
            )
        return None if row is None else dict(row)

    def _close(
        self, job: Job, state: JobState, error: str | None, run_after: dt.datetime | None
    ) -> None:
        now = self.clock()
        values: dict[str, Any] = {
            "state": str(state),
            "error": error,
            "lease_owner": None,
            "lease_until": None,
            "updated_at": now,
        }
        if run_after is not None:
            values["run_after"] = run_after
        with self.database.transaction() as connection:
            connection.execute(
                update(jobs)
                .where(jobs.c.id == job.id, jobs.c.lease_owner == job.owner)
                .values(**values)
            )


def request_key(request_id: str) -> str:
    """The key of the job that carries out a subject request."""
    return f"request:{request_id}"


def describe(error: BaseException) -> str:
    """A failure as a job row, a request and the audit trail may record it: Pledge's own
    errors by their message (which names no personal value), anything else by its type only
    (its text may carry the values it was working on)."""
    if isinstance(error, PledgeError):
        return str(error)
    return f"internal error ({type(error).__name__}); the worker's log has where it happened"


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait before attempt ``attempts + 1``: 10 s, 20 s, 40 s … at most an hour."""
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


def _canonical(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _job(row: RowMapping, owner: str) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        key=row["key"],
        request_id=row["request_id"],
        attempts=row["attempts"] + 1,
        payload=json.loads(row["payload"]),
        owner=owner,
    )


def _step(row: RowMapping) -> StepRecord:
    return StepRecord(row["name"], json.loads(row["result"]), row["data_encrypted"], row["done_at"])
