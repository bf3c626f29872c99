"""The job table: enqueue, claim under a lease, record finished steps, finish or fail."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, delete, insert, or_, select, update

from pledge.clock import Clock, utc_now
from pledge.errors import PledgeError, StoreUnavailable
from pledge.ids import new_id
from pledge.store.database import Database
from pledge.store.tables import job_steps, jobs

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
"""How often a job is tried (a runner that stopped half-way counts) before it is given up."""
LEASE = dt.timedelta(minutes=5)
"""How long a claim holds unless renewed (``PLEDGE_JOB_LEASE_SECONDS``)."""
REQUEST_JOB = "request"
"""The kind of the job that carries out a subject request (its key: :func:`request_key`)."""


class JobState(StrEnum):
    """Where a job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    # Given up after MAX_ATTEMPTS: tried again that often, or its runner stopped half-way every
    # time. Never claimed again.
    DEAD = "dead"


class LeaseLost(PledgeError):
    """The runner no longer holds the job: its lease ran out and another runner took the job
    over. Nothing it still wanted to write is written; the other runner carries on."""


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
    token: str = ""
    """New at every claim; every write of the job names it (fencing)."""


@dataclass(frozen=True)
class StepRecord:
    """A step a job finished: its result (no personal data) and its encrypted data."""

    name: str
    result: Mapping[str, Any]
    data_encrypted: bytes | None
    done_at: dt.datetime


class Jobs:
    """The job table.

    A claim holds a job under a lease, renewed while the job runs (:meth:`holding`). Every
    write a runner makes for a job (a finished step, its end) names the token of its claim:
    once the lease has run out and another runner has taken the job over, the first runner's
    writes are refused (:class:`LeaseLost`), so that two runners never both carry a job on.

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
        lease: dt.timedelta = LEASE,
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
            and_(
                jobs.c.state == str(JobState.RUNNING),
                jobs.c.lease_until < now,
                jobs.c.attempts < MAX_ATTEMPTS,  # worn out: left to :meth:`bury`
            ),
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
            token = secrets.token_hex(16)
            taken = connection.execute(
                update(jobs)
                .where(jobs.c.id == row["id"], due)
                .values(
                    state=str(JobState.RUNNING),
                    attempts=jobs.c.attempts + 1,
                    lease_owner=owner,
                    lease_until=now + self.lease,
                    lease_token=token,
                    updated_at=now,
                )
            ).rowcount
        if taken != 1:
            return None
        return _job(row, owner, token)

    def bury(self) -> list[Job]:
        """Give up the jobs whose runners stopped half-way :data:`MAX_ATTEMPTS` times (their
        lease ran out again): they are dead-lettered with the reason, never claimed again, and
        returned so that what they carried out can be told (a request marked failed)."""
        now = self.clock()
        worn = and_(
            jobs.c.state == str(JobState.RUNNING),
            jobs.c.lease_until < now,
            jobs.c.attempts >= MAX_ATTEMPTS,
        )
        with self.database.read() as connection:  # mostly none: no write lock to look
            if connection.execute(select(jobs.c.id).where(worn).limit(1)).first() is None:
                return []
        with self.database.transaction() as connection:
            rows = connection.execute(select(jobs).where(worn)).mappings().all()
            for row in rows:
                reason = (
                    f"given up after {row['attempts']} attempts: its runner stopped before it"
                    " finished every time (the worker's log says where)"
                )
                connection.execute(
                    update(jobs)
                    .where(jobs.c.id == row["id"], worn)
                    .values(
                        state=str(JobState.DEAD),
                        error=reason,
                        lease_owner=None,
                        lease_until=None,
                        lease_token=None,
                        updated_at=now,
                    )
                )
        return [_job(row, str(row["lease_owner"] or ""), "") for row in rows]

    def renew(self, job: Job) -> bool:
        """Extend the lease of a job this runner holds. False when it holds it no more."""
        now = self.clock()
        with self.database.transaction() as connection:
            return bool(
                connection.execute(
                    update(jobs)
                    .where(_held(job))
                    .values(lease_until=now + self.lease, updated_at=now)
                ).rowcount
            )

    @contextmanager
    def holding(self, job: Job) -> Iterator[None]:
        """Renew the lease of ``job`` in the background while the block runs (a third of the
        lease between renewals), so that a long step keeps it. A renewal that finds the lease
        taken over stops renewing; the runner's next write is then refused."""
        stop = threading.Event()
        interval = max(self.lease.total_seconds() / 3, 0.05)

        def keep() -> None:
            while not stop.wait(interval):
                try:
                    if not self.renew(job):
                        log.warning("job %s: the lease was taken over", job.id)
                        return
                except StoreUnavailable:
                    continue  # the next renewal tries again; the lease may still run out

        thread = threading.Thread(target=keep, name=f"pledge-lease-{job.id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

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
        job: Job,
        name: str,
        result: Mapping[str, Any],
        data_encrypted: bytes | None = None,
    ) -> StepRecord:
        """Record, in the caller's transaction, that a step finished.

        Raises:
            LeaseLost: the runner no longer holds ``job``: the caller's transaction must not
                commit (nothing of it is written).
        """
        now = self.clock()
        held = connection.execute(update(jobs).where(_held(job)).values(updated_at=now)).rowcount
        if not held:
            raise LeaseLost(f"job {job.id} was taken over by another runner")
        return self._insert_step(connection, job.id, name, result, data_encrypted)

    def _insert_step(
        self,
        connection: Connection,
        job_id: str,
        name: str,
        result: Mapping[str, Any],
        data_encrypted: bytes | None,
    ) -> StepRecord:
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
        self._insert_step(connection, job_id, name, {}, data)

    def detach(self, connection: Connection, job_id: str, name: str) -> None:
        """Drop the data kept with a job under ``name`` (it has served)."""
        connection.execute(
            update(job_steps)
            .where(job_steps.c.job_id == job_id, job_steps.c.name == name)
            .values(data_encrypted=None)
        )

    def finish(self, job: Job) -> bool:
        """Mark a job done; False when the runner no longer held it (nothing changes)."""
        return self._close(job, JobState.DONE, None, None)

    def fail(self, job: Job, reason: str, *, retry_after: dt.timedelta | None = None) -> bool:
        """Record a failure: queued again after ``retry_after`` while attempts remain.

        A failure to be retried once the attempts are spent (:data:`MAX_ATTEMPTS`) is given up:
        dead-lettered with the reason, never claimed again. Any other fails the job for good.

        Returns whether the job will be tried again (False too when the runner no longer held
        it: nothing changes then).
        """
        if retry_after is None:
            self._close(job, JobState.FAILED, reason, None)
            return False
        if job.attempts < MAX_ATTEMPTS:
            return self._close(job, JobState.QUEUED, reason, self.clock() + retry_after)
        self._close(job, JobState.DEAD, f"given up after {job.attempts} attempts: {reason}", None)
        return False

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

    def notices(self, request_id: str) -> list[Mapping[str, Any]]:
        """The notices to recipients a request queued (``recipient`` jobs), oldest first."""
        with self.database.read() as connection:
            rows = connection.execute(
                select(jobs)
                .where(jobs.c.request_id == request_id, jobs.c.kind == "recipient")
                .order_by(jobs.c.id)
            ).mappings()
            return [{**row, "payload": json.loads(row["payload"])} for row in rows]

    def _close(
        self, job: Job, state: JobState, error: str | None, run_after: dt.datetime | None
    ) -> bool:
        now = self.clock()
        values: dict[str, Any] = {
            "state": str(state),
            "error": error,
            "lease_owner": None,
            "lease_until": None,
            "lease_token": None,
            "updated_at": now,
        }
        if run_after is not None:
            values["run_after"] = run_after
        with self.database.transaction() as connection:
            return bool(
                connection.execute(update(jobs).where(_held(job)).values(**values)).rowcount
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


def _held(job: Job) -> Any:
    """The job's row, as long as this claim still holds it."""
    return and_(
        jobs.c.id == job.id,
        jobs.c.state == str(JobState.RUNNING),
        jobs.c.lease_token == job.token,
    )


def _job(row: RowMapping, owner: str, token: str) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        key=row["key"],
        request_id=row["request_id"],
        attempts=row["attempts"] + 1,
        payload=json.loads(row["payload"]),
        owner=owner,
        token=token,
    )


def _step(row: RowMapping) -> StepRecord:
    return StepRecord(row["name"], json.loads(row["result"]), row["data_encrypted"], row["done_at"])
