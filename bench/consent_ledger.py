"""Benchmark: consent writes in-process, straight into the ledger, on SQLite and PostgreSQL.

What the ledger itself can commit, without HTTP: ``ConsentLedger.record`` called from 1 and
from 32 threads over 500 subjects, each call returning once its event, chain head, consent
state and audit event are committed. Set beside ``consent_http.py`` it shows whether the
ledger or the HTTP layer limits the writes a server takes.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from harness import Result
from pledge.consent.service import ConsentLedger
from pledge.declaration import loads
from pledge.store.database import Database
from pledge.subjects.crypto import Keyring
from pledge.subjects.model import Identity
from pledge.subjects.service import Subjects

POSTGRES_URL = os.environ.get(
    "PLEDGE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DECLARATION = """\
pledge: 1
controller: {name: Bench Inc, country: DE, email: privacy@bench.example}
policy: {version: "1", effective_date: 2026-01-01}
purposes:
  newsletter:
    {legal_basis: consent, categories: [contact.email], retention: P1Y after consent_withdrawn}
  analytics: {legal_basis: consent, categories: [usage.pages], retention: P13M}
"""
SUBJECTS = 500
WRITES = 4_000
THREADS = (1, 32)


def _writes(database: Database, threads: int) -> tuple[float, float, float]:
    """Writes/s, p50 and p99 (seconds) of ``WRITES`` records from ``threads`` threads."""
    subjects = Subjects(database, Keyring(os.urandom(32)))
    ledger = ConsentLedger(database, loads(DECLARATION), subjects)
    people = [
        subjects.find_or_create(Identity.parse("account", f"t{threads}-{n}"), actor="bench")
        for n in range(SUBJECTS)
    ]
    latencies: list[float] = []
    counter = iter(range(WRITES))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            started = time.perf_counter()
            ledger.record(
                people[number % SUBJECTS],
                ("newsletter", "analytics")[number % 2],
                ("granted", "withdrawn", "refused")[number % 3],
                channel="api",
                actor="bench",
            )
            latencies.append(time.perf_counter() - started)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    close = getattr(ledger, "close", None)
    if close is not None:
        close()
    ordered = sorted(latencies)
    return WRITES / seconds, statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


@contextmanager
def _postgres() -> Iterator[Database]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pledge_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(
        make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    )
    try:
        database.upgrade()
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _sqlite() -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        database.upgrade()
        try:
            yield database
        finally:
            database.dispose()


def _row(label: str, threads: int, figures: tuple[float, float, float]) -> tuple[str, ...]:
    rate, p50, p99 = figures
    return (label, str(threads), f"{rate:,.0f}", f"{p50 * 1000:.1f} ms", f"{p99 * 1000:.1f} ms")


def measure() -> Result:
    """Time the writes on SQLite, then on PostgreSQL when it is reachable."""
    rows: list[tuple[str, ...]] = []
    for label, store in (("SQLite", _sqlite), ("PostgreSQL", _postgres)):
        try:
            with store() as database:
                rows += [_row(label, threads, _writes(database, threads)) for threads in THREADS]
        except Exception as error:
            rows.append((label, "", "not measured", "", str(error).splitlines()[0]))
    rates = [float(row[2].replace(",", "")) for row in rows if row[1] == str(THREADS[-1])]
    return Result(
        title="Consent writes in-process",
        setup=(
            f"`ConsentLedger.record` from 1 and {THREADS[-1]} threads, {WRITES:,} writes over"
            f" {SUBJECTS} subjects; each call returns once the event, its chain head, the"
            " consent state and an audit event are committed."
        ),
        columns=("store", "threads", "writes/s", "p50", "p99"),
        rows=rows,
        goal_met=bool(rates) and min(rates) >= 1000,
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    for line in measure().markdown():
        print(line)
