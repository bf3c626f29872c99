"""The job table on both stores: claims under a lease, retries, several runners at once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from pledge.jobs import Job, Jobs, JobState, Retry, Runner
from pledge.jobs.service import MAX_ATTEMPTS, LeaseLost
from pledge.store.database import Database
from pledge.store.tables import jobs as jobs_table


def enqueue(jobs: Jobs, count: int, kind: str = "test") -> list[str]:
    with jobs.database.transaction() as connection:
        return [jobs.enqueue(connection, kind, f"{kind}:{index}") for index in range(count)]


def test_two_runners_take_every_job_exactly_once(store: Database) -> None:
    """Runners in two threads drain the table; no job runs twice, none is left."""
    jobs = Jobs(store)
    ids = enqueue(jobs, 40)
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(job: Job) -> None:
        with lock:
            seen[job.id] += 1

    runners = [Runner(jobs, {"test": handler}) for _ in range(2)]
    threads = [threading.Thread(target=runner.run_until_idle) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(seen) == sorted(ids)
    assert set(seen.values()) == {1}
    assert {jobs.get(job_id)["state"] for job_id in ids} == {JobState.DONE}


def test_enqueuing_the_same_key_twice_gives_one_job(store: Database) -> None:
    jobs = Jobs(store)
    with store.transaction() as connection:
        first = jobs.enqueue(connection, "test", "request:1", {"a": 1})
        second = jobs.enqueue(connection, "test", "request:1", {"a": 1})
    assert first == second


def test_a_retry_waits_and_a_failure_stops(store: Database) -> None:
    """Retry queues the job again for later; any other error fails it for good."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    jobs = Jobs(store, clock=lambda: now)
    retried, failed = enqueue(jobs, 2)

    def handler(job: Job) -> None:
        if job.id == retried:
            raise Retry("datastore down")
        raise ValueError("a bug")

    runner = Runner(jobs, {"test": handler})
    assert runner.run_until_idle() == 2
    assert jobs.get(retried)["state"] == JobState.QUEUED
    assert jobs.get(retried)["run_after"] > now and jobs.get(retried)["error"] == "datastore down"
    assert jobs.get(failed)["state"] == JobState.FAILED
    # An unexpected error's text may hold the values it worked on: only its type is kept.
    assert jobs.get(failed)["error"] == (
        "internal error (ValueError); the worker's log has where it happened"
    )
    assert runner.run_until_idle() == 0  # the retry is not due yet


def test_a_job_whose_lease_ran_out_is_taken_over(store: Database) -> None:
    """A runner that died holds its job only until the lease runs out."""
    jobs = Jobs(store)
    (job_id,) = enqueue(jobs, 1)
    dead = jobs.claim("dead-runner")
    assert dead is not None and dead.id == job_id
    assert jobs.claim("other") is None  # held
    with store.transaction() as connection:
        connection.execute(
            update(jobs_table).values(lease_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        )
    taken = jobs.claim("other")
    assert taken is not None and taken.id == job_id and taken.attempts == 2
    jobs.finish(dead)  # the dead runner's late word changes nothing: it no longer holds it
    assert jobs.get(job_id)["state"] == JobState.RUNNING


def test_steps_are_recorded_once(store: Database) -> None:
    jobs = Jobs(store)
    enqueue(jobs, 1)
    job = jobs.claim("runner")
    assert job is not None
    with store.transaction() as connection:
        jobs.record_step(connection, job, "found:app", {"rows": 3})
    assert jobs.step(job.id, "found:app") is not None
    assert jobs.step(job.id, "erase:app") is None
    with (
        pytest.raises(IntegrityError),
        store.transaction() as connection,
    ):
        jobs.record_step(connection, job, "found:app", {"rows": 3})
    assert [step.result for step in jobs.steps(job.id)] == [{"rows": 3}]


def expire_leases(store: Database) -> None:
    """Every lease ran out long ago (as if every runner had stopped)."""
    with store.transaction() as connection:
        connection.execute(
            update(jobs_table).values(lease_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        )


def test_a_runner_that_lost_its_lease_can_write_nothing_more(store: Database) -> None:
    """Fencing: once another runner took the job over, the first one's step and its end are
    refused, and the second one's go through."""
    jobs = Jobs(store)
    enqueue(jobs, 1)
    first = jobs.claim("first")
    assert first is not None
    expire_leases(store)
    second = jobs.claim("second")
    assert second is not None and second.id == first.id and second.token != first.token
    with pytest.raises(LeaseLost), store.transaction() as connection:
        jobs.record_step(connection, first, "found:app", {"rows": 1})
    assert jobs.step(first.id, "found:app") is None  # nothing of its transaction was written
    assert not jobs.renew(first)
    assert not jobs.finish(first)
    with store.transaction() as connection:
        jobs.record_step(connection, second, "found:app", {"rows": 2})
    assert jobs.finish(second)
    assert jobs.get(first.id)["state"] == JobState.DONE


def test_a_job_whose_runners_keep_stopping_is_given_up_and_told(store: Database) -> None:
    """A job reclaimed MAX_ATTEMPTS times (each runner stopped half-way) is dead-lettered with
    its reason, never claimed again, and the runner tells its kind's on_dead handler."""
    jobs = Jobs(store)
    (job_id,) = enqueue(jobs, 1)
    for attempt in range(MAX_ATTEMPTS):
        claimed = jobs.claim(f"runner-{attempt}")
        assert claimed is not None and claimed.attempts == attempt + 1
        expire_leases(store)
    told: list[str] = []
    runner = Runner(
        jobs, {"test": lambda job: None}, on_dead={"test": lambda job: told.append(job.id)}
    )
    assert runner.run_once() is False
    assert told == [job_id]
    row = jobs.get(job_id)
    assert row["state"] == JobState.DEAD and "given up after 8 attempts" in row["error"]
    assert jobs.claim("another") is None


def test_a_long_step_keeps_its_lease(store: Database) -> None:
    """While a handler works longer than the lease, its runner renews the claim: no other
    runner takes the job over, and the step is recorded."""
    jobs = Jobs(store, lease=dt.timedelta(seconds=0.6))
    enqueue(jobs, 1)
    stolen: list[Job | None] = []

    def slow(job: Job) -> None:
        time.sleep(1.5)  # longer than the lease
        stolen.append(jobs.claim("thief"))
        with store.transaction() as connection:
            jobs.record_step(connection, job, "slow", {})

    assert Runner(jobs, {"test": slow}).run_once()
    assert stolen == [None]
