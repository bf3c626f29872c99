"""Pledge's side of the subject-request benchmark: its datastore work, and whole jobs.

The datastore work is what a request's job does in the company's database, called the way the
job calls it: :func:`collect` for an access; :func:`collect` (erasure columns) and
:func:`erase` in one transaction, committed, for an erasure. The plan is built once from the
declaration and the reflected schema (``build_plan``, refused when it has problems, as
``pledge datastores check`` would report them), with the engine options of Pledge's SQL
connector.

A whole job (:func:`jobs`) is what a warm ``pledge worker`` does with a request: a runtime built
once (``build_runtime``) on Pledge's own store, SQLite or PostgreSQL; each request submitted by
staff and approved outside the timing, then ``Runner.run_once`` timed: the job claimed, the
person's rows found and stored encrypted, erased and verified (the plan run again, the changed
rows re-read, the independent residue search), the report built and stored, the request
completed.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from cloudwarm_data import conninfo, create_database
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.datastores.execute import collect, erase
from pledge.datastores.plan import Plan, build_plan
from pledge.datastores.sql import SqlDatastore
from pledge.datastores.statements import Tables
from pledge.declaration.model import IdentityKind
from pledge.jobs import Runner
from pledge.requests.model import RequestState
from pledge.store.database import Database
from pledge.subjects.model import Identity
from subject_cases import Case

STORE_URL = os.environ.get(
    "PLEDGE_BENCH_STORE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pledge_bench_store"
)
"""Pledge's own store on PostgreSQL for whole jobs: dropped and created afresh each time."""
STORES = ("SQLite", "PostgreSQL")


class PlanProblems(RuntimeError):
    """The declaration's plan has problems: requests would be refused."""


@dataclass
class Pledge:
    """What Pledge builds once per datastore: the connector, the plan and its tables."""

    store: SqlDatastore
    plan: Plan
    tables: Tables
    key: bytes


def connect(case: Case, key: bytes, *, hold: bool = False) -> Pledge:
    """Pledge, ready to carry out requests in ``case``'s database (built outside timings).

    Raises:
        PlanProblems: the plan has problems (what ``pledge datastores check`` reports).
    """
    declaration = case.declaration(hold=hold)
    declared = declaration.datastores[case.datastore]
    store = SqlDatastore(case.datastore, declared.url)
    plan = build_plan(
        case.datastore,
        store.reflect(only=declared.tables),
        declared,
        region=declaration.controller.country,
    )
    if plan.problems != ():
        store.close()
        raise PlanProblems(f"{case.name}: {'; '.join(plan.problems)}")
    with store.engine.connect() as connection:
        tables = Tables(connection, plan.tables_used(), case.datastore, store.metadata)
    return Pledge(store, plan, tables, key)


def access(pledge: Pledge, email: str) -> dict[str, int]:
    """Pledge's access for the person with ``email``: rows found per table."""
    with pledge.store.engine.connect() as connection:
        found = collect(connection, pledge.tables, pledge.plan, {IdentityKind.EMAIL: [email]})
    return found.counts()


def erasure(pledge: Pledge, email: str) -> dict[str, int]:
    """Pledge's erasure of the person with ``email`` in one transaction, committed: rows
    deleted or rewritten per table."""
    with pledge.store.engine.begin() as connection:
        found = collect(
            connection,
            pledge.tables,
            pledge.plan,
            {IdentityKind.EMAIL: [email]},
            columns="erasure",
        )
        outcomes = erase(
            connection, pledge.tables, pledge.plan, found, pseudonym_key=lambda *_: pledge.key
        )
    return {
        table: outcome.rows
        for table, outcome in outcomes.items()
        if outcome.action in ("deleted", "rewritten")
    }


def close(pledge: Pledge) -> None:
    """Release the connector's connections."""
    pledge.store.close()


# --- whole jobs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Jobs:
    """Seconds per job by kind, in rounds, for one case and one store."""

    access: list[list[float]]
    erasure: list[list[float]]
    erased: list[str]
    """The addresses of the people erased, warm-up included."""


@contextmanager
def worker(case: Case, store: str) -> Iterator[Runtime]:
    """A runtime on a fresh store of kind ``store`` (SQLite or PostgreSQL), as ``pledge
    worker`` builds it, under ``case``'s declaration; closed and its store dropped after."""
    with tempfile.TemporaryDirectory(prefix="pledge-store-") as folder:
        if store == "SQLite":
            database = Database(f"sqlite:///{Path(folder) / 'pledge.db'}")
        else:
            _fresh(STORE_URL)
            database = Database(STORE_URL)
        database.upgrade()
        runtime = build_runtime(
            Settings(secret_key=os.urandom(32)), declaration=case.declaration(), database=database
        )
        try:
            yield runtime
        finally:
            runtime.close()


def jobs(
    case: Case,
    store: str,
    readers: Sequence[str],
    erased: Sequence[str],
    *,
    rounds: int,
    warm_up: int,
    budget: float,
    least: int,
) -> Jobs:
    """Time whole jobs on a warm worker: ``warm_up`` of each kind first, then ``rounds``
    rounds, access and erasure jobs alternating.

    ``readers`` and ``erased`` give the people (by address) of the access and erasure jobs,
    ``warm_up`` of each first; the rest is split evenly over the rounds. A round ends early
    once it has taken ``budget`` seconds and run ``least`` jobs of each kind, so that slow
    jobs keep the benchmark short.

    Raises:
        RuntimeError: a request did not complete.
    """
    per_round = (len(readers) - warm_up) // rounds
    found = Jobs([], [], [])
    with worker(case, store) as runtime:
        runner = runtime.runner()
        for index in range(warm_up):
            _job(runtime, runner, "access", readers[index])
            found.erased.append(erased[index])
            _job(runtime, runner, "erasure", erased[index])
        for round_ in range(rounds):
            start = warm_up + round_ * per_round
            found.access.append([])
            found.erasure.append([])
            began = time.perf_counter()
            for index in range(start, start + per_round):
                found.access[-1].append(_job(runtime, runner, "access", readers[index]))
                found.erased.append(erased[index])
                found.erasure[-1].append(_job(runtime, runner, "erasure", erased[index]))
                if index - start + 1 >= least and time.perf_counter() - began > budget:
                    break
    return found


def _job(runtime: Runtime, runner: Runner, kind: str, email: str) -> float:
    request = runtime.requests.submit(
        kind,
        Identity.parse("email", email),
        on_behalf_of_staff="bench",
        skip_verification_reason="benchmark",
    )
    runtime.execution.approve(request.id, actor="staff:bench")
    started = time.perf_counter()
    ran = runner.run_once()
    seconds = time.perf_counter() - started
    done = runtime.requests.get(request.id)
    if not ran or done.state is not RequestState.COMPLETED:
        raise RuntimeError(f"{kind} request {request.id} ended {done.state}: {done.failure or ''}")
    return seconds


def _fresh(url: str) -> None:
    """Drop the database ``url`` names, if it exists, and create it empty."""
    target = make_url(url)
    admin = conninfo(target.set(database="postgres").render_as_string(hide_password=False))
    name = str(target.database).replace('"', '""')
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    create_database(url)
