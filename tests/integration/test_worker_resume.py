"""A worker killed in the middle of an erasure: the restarted job finishes, no step twice.

Everything is real: PostgreSQL for Pledge's store and for the company's database, and
``pledge worker`` as a separate process. The test holds a row lock on the person's home, so the
worker's erasure transaction blocks half-way (the readings and thermostats already deleted in
it, the home not yet); the test kills the worker with SIGKILL there, which rolls that
transaction back. When the job's lease has run out, a new worker takes the job over: it skips
the step that had finished (finding the rows, whose counts the report needs) and redoes the
erasure, which is idempotent.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url
from tests.backends import postgres_database
from tests.cloudwarm import SEED, declaration_at, example_database

from pledge import loads
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditFilter
from pledge.requests.model import RequestState
from pledge.store.database import Database
from pledge.store.tables import jobs
from pledge.subjects.model import Identity

PLEDGE = Path(sys.executable).parent / "pledge"
PERSON = SEED.rows()["users"][0]


@pytest.fixture
def store_url() -> Iterator[str]:
    """Pledge's store: a fresh PostgreSQL database, migrated."""
    yield from postgres_database()


@pytest.fixture
def company(tmp_path: Path) -> Iterator[str]:
    """The example's database on PostgreSQL."""
    yield from example_database("postgresql", tmp_path)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_a_killed_worker_resumes_without_doing_a_step_twice(
    store_url: str, company: str, tmp_path: Path
) -> None:
    key = secrets.token_bytes(32)
    source = declaration_at(company)
    (tmp_path / "pledge.yaml").write_text(source, encoding="utf-8")
    settings = Settings(database_url=store_url, secret_key=key)
    runtime = build_runtime(settings, declaration=loads(source), database=Database(store_url))
    request = runtime.requests.submit(
        "erasure",
        Identity.parse("email", PERSON["email"]),
        on_behalf_of_staff="Sam",
        skip_verification_reason="identified in person",
    )
    runtime.execution.approve(request.id, actor="staff:Sam")
    env = {
        **os.environ,
        "PLEDGE_DATABASE_URL": store_url,
        "PLEDGE_SECRET_KEY": base64.b64encode(key).decode(),
        "PLEDGE_CONFIG": str(tmp_path / "pledge.yaml"),
        "PLEDGE_ENVIRONMENT": "production",
    }
    database_name = make_url(company).database
    engine = create_engine(company)
    locker = engine.connect()
    try:
        locker.begin()
        locker.execute(text("SELECT id FROM homes WHERE owner_id = :id FOR UPDATE"), {"id": 1})
        worker = subprocess.Popen(
            [str(PLEDGE), "worker", "--poll", "0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def blocked() -> bool:
            with engine.connect() as connection:
                waiting = connection.execute(
                    text(
                        "SELECT COUNT(*) FROM pg_stat_activity"
                        " WHERE datname = :name AND wait_event_type = 'Lock'"
                    ),
                    {"name": database_name},
                ).scalar_one()
            return bool(waiting)

        wait_for(blocked, "the worker's erasure to block on the locked home")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        locker.rollback()
    finally:
        locker.close()

    steps_before = [step.name for step in runtime.jobs.steps(_job_id(runtime, request.id))]
    assert steps_before == ["found:app"]  # the erasure died with its transaction
    with engine.connect() as connection:  # and left nothing half-done
        readings = connection.execute(
            text(
                "SELECT COUNT(*) FROM temperature_readings r JOIN thermostats t"
                " ON r.thermostat_id = t.id JOIN homes h ON t.home_id = h.id"
                " WHERE h.owner_id = 1"
            )
        ).scalar_one()
    assert readings > 0
    with runtime.database.transaction() as connection:  # five minutes later: the lease ran out
        connection.execute(update(jobs).values(lease_until=runtime.clock() - runtime.jobs.lease))

    again = subprocess.run(
        [str(PLEDGE), "worker", "--once"], env=env, capture_output=True, text=True, timeout=120
    )

    assert again.returncode == 0, again.stderr
    done = runtime.requests.get(request.id)
    assert done.state is RequestState.COMPLETED
    with runtime.database.read() as connection:
        events = audit.read(connection, AuditFilter(subject_id=done.subject_id, limit=1000))
    steps = [event.details["step"] for event in events if event.action == "request.step"]
    assert steps == ["found:app", "erase:app", "verify:app", "restrict", "recipients", "report"]
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT COUNT(*) FROM homes WHERE owner_id = 1")
        ).scalar_one()
    assert left == 0
    report = json.loads(runtime.execution.report(request.id, "json").content)
    erased = report["outcome"]["app"]["tables"]["temperature_readings"]
    assert erased == {"action": "deleted", "rows": readings}  # counted before the crash
    runtime.close()
    engine.dispose()


def _job_id(runtime: Runtime, request_id: str) -> str:
    job = runtime.jobs.for_request(request_id)
    assert job is not None
    return str(job["id"])


def test_a_frozen_worker_that_lost_its_lease_writes_nothing_when_it_wakes(
    store_url: str, company: str, tmp_path: Path
) -> None:
    """Fencing, with two real workers and a lease of one second. The first is frozen
    (SIGSTOP) half-way through its first step, so it stops renewing its lease; the second
    takes the job over and completes the request. Woken (SIGCONT), the first finishes its
    step, but its write names a claim that no longer holds: refused. The request stays
    completed, every step is recorded once, and nobody marked it failed."""
    key = secrets.token_bytes(32)
    source = declaration_at(company)
    (tmp_path / "pledge.yaml").write_text(source, encoding="utf-8")
    settings = Settings(database_url=store_url, secret_key=key)
    runtime = build_runtime(settings, declaration=loads(source), database=Database(store_url))
    request = runtime.requests.submit(
        "access",
        Identity.parse("email", PERSON["email"]),
        on_behalf_of_staff="Sam",
        skip_verification_reason="identified in person",
    )
    runtime.execution.approve(request.id, actor="staff:Sam")
    env = {
        **os.environ,
        "PLEDGE_DATABASE_URL": store_url,
        "PLEDGE_SECRET_KEY": base64.b64encode(key).decode(),
        "PLEDGE_CONFIG": str(tmp_path / "pledge.yaml"),
        "PLEDGE_ENVIRONMENT": "production",
        "PLEDGE_JOB_LEASE_SECONDS": "1",
    }
    database_name = make_url(company).database
    engine = create_engine(company)
    locker = engine.connect()
    first = None
    try:
        locker.begin()
        locker.execute(text("LOCK TABLE temperature_readings IN ACCESS EXCLUSIVE MODE"))
        log = tmp_path / "first-worker.log"
        with log.open("w") as output:  # the worker keeps its own copy of the file open
            first = subprocess.Popen(
                [str(PLEDGE), "worker", "--poll", "0.1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=output,
            )

        def waiting_readers() -> int:
            with engine.connect() as connection:
                return int(
                    connection.execute(
                        text(
                            "SELECT COUNT(*) FROM pg_stat_activity"
                            " WHERE datname = :name AND wait_event_type = 'Lock'"
                        ),
                        {"name": database_name},
                    ).scalar_one()
                )

        wait_for(lambda: waiting_readers() == 1, "the first worker's reads to block")
        first.send_signal(signal.SIGSTOP)  # frozen: no more renewals
        time.sleep(1.5)  # its lease of one second runs out
        locker.rollback()  # its blocked read may now finish, but it is frozen
    finally:
        locker.close()

    second = subprocess.run(
        [str(PLEDGE), "worker", "--once"], env=env, capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0, second.stderr
    assert runtime.requests.get(request.id).state is RequestState.COMPLETED

    assert first is not None
    first.send_signal(signal.SIGCONT)
    wait_for(
        lambda: "taken over by another runner" in log.read_text(),
        "the first worker to find its claim taken over",
    )
    first.terminate()
    first.wait(timeout=30)

    done = runtime.requests.get(request.id)
    assert done.state is RequestState.COMPLETED
    with runtime.database.read() as connection:
        events = audit.read(connection, AuditFilter(subject_id=done.subject_id, limit=1000))
    steps = [event.details["step"] for event in events if event.action == "request.step"]
    assert steps == ["found:app", "report"]
    assert [event.action for event in events if event.action == "request.failed"] == []
    runtime.close()
    engine.dispose()
