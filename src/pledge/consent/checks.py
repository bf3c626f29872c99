"""The checks behind ``verify``: one range of subjects' consent chains, or of the audit trail.

Each check reads a consistent snapshot (without taking SQLite's write lock, so writers carry
on), streams its rows in order and returns its :class:`Findings`. ``proof.verify`` plans the
ranges, runs the checks in this process or in worker processes, and merges the findings in
order. Everything a worker needs is passed by value: the checks are plain functions.

``chain_checks`` checks a range of subjects (their chains, heads, sealed heads, state and the
audit events that record their decisions), ``audit_checks`` a range of the audit trail;
``rows`` reads every row without trusting it, so that a malformed one is a finding, never a
crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import NullPool

from pledge.consent.audit_checks import check_audit
from pledge.consent.chain_checks import check_consent
from pledge.consent.findings import AuditRange, ConsentRange, Findings, Problem, Task
from pledge.consent.rows import Malformed
from pledge.errors import StoreUnavailable

__all__ = [
    "AuditRange",
    "ConsentRange",
    "Findings",
    "Problem",
    "Task",
    "Tick",
    "check",
    "run",
    "snapshot",
]

Tick = Callable[[int], None]
"""Called with the number of rows checked so far in this range."""


@contextmanager
def snapshot(url: str, *, tolerant: bool = False) -> Iterator[Connection]:
    """A connection reading one consistent snapshot of the store, without blocking writers.

    SQLite: a deferred transaction (WAL keeps the snapshot while others write). PostgreSQL: a
    REPEATABLE READ transaction, times written as ISO text in UTC.

    Args:
        url: the store's URL, password included.
        tolerant: on SQLite, read text that is not UTF-8 as bytes (a finding) instead of
            failing with :class:`~pledge.consent.rows.Malformed`. Slower: ``verify`` reads
            tolerantly only once a first reading has met such text.

    Raises:
        StoreUnavailable: the database cannot be reached.
        Malformed: SQLite text that is not UTF-8, when not ``tolerant``.
    """
    engine = _reader(url, tolerant)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
                    connection.exec_driver_sql("SET LOCAL DateStyle = 'ISO'")
                yield connection
    except (OperationalError, InterfaceError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        if reason.startswith("Could not decode to UTF-8"):
            raise Malformed(reason) from None
        raise StoreUnavailable(f"Pledge's database is unavailable: {reason}") from error
    finally:
        engine.dispose()


def _reader(url: str, tolerant: bool) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def manual_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        if tolerant:
            dbapi_connection.text_factory = _text_or_bytes

    @event.listens_for(engine, "begin")
    def deferred(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def _text_or_bytes(stored: bytes) -> str | bytes:
    """SQLite text as ``str``, or, when it is not UTF-8, the bytes (malformed, not fatal)."""
    try:
        return stored.decode()
    except UnicodeDecodeError:
        return stored


def run(url: str, task: Task, batch: int, limit: int, tolerant: bool = False) -> Findings:
    """Run one check on its own snapshot (the entry point of worker processes).

    Args:
        url: the store's URL.
        task: the range to check.
        batch: rows fetched at a time.
        limit: problems kept.
        tolerant: see :func:`snapshot`.

    Returns:
        The findings.
    """
    with snapshot(url, tolerant=tolerant) as connection:
        return check(connection, task, batch, limit, None)


def check(
    connection: Connection, task: Task, batch: int, limit: int, tick: Tick | None
) -> Findings:
    """Run one check on ``connection``.

    Args:
        connection: a snapshot (see :func:`snapshot`).
        task: the range to check.
        batch: rows fetched at a time.
        limit: problems kept.
        tick: progress, or None.

    Returns:
        The findings.
    """
    findings = Findings(limit=limit)
    if isinstance(task, ConsentRange):
        check_consent(connection, task, batch, findings, tick)
    else:
        check_audit(connection, task, batch, findings, tick)
    return findings
