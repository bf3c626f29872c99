"""Whether an index serves each way a request finds a person, asked of the database itself.

A request finds a person's rows by comparing identity columns as they compare
(:mod:`pledge.datastores.matching`): ``lower(trim(email))``, a phone number's digits, an id as
stored. On a large table, a comparison no index serves reads the whole table, in every request
and in the search after every erasure. Rather than parse index definitions, the check asks the
planner: on PostgreSQL with sequential scans priced out of reach (it still scans when nothing
else can serve), on SQLite with ``EXPLAIN QUERY PLAN``. MySQL and MariaDB are not checked: an
index there serves ``lower(trim(…))`` only through a generated column (docs/declaration.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, func, literal, select, text

from pledge.datastores import matching
from pledge.datastores.model import TEXT
from pledge.datastores.sql import column_kind
from pledge.declaration.datastores import Datastore as DatastoreDeclaration
from pledge.declaration.datastores import MatchKind

LARGE = 10_000
"""Rows from which a table read whole is worth a warning."""

CHECKED_DIALECTS = ("postgresql", "sqlite")


@dataclass(frozen=True)
class Unindexed:
    """An identity column of a large table that no index serves as it is compared.

    Args:
        table: the table.
        column: the column.
        match: how it compares.
        rows: about how many rows the table holds (at least :data:`LARGE`).
        create: the statement that creates an index that serves it.
    """

    table: str
    column: str
    match: MatchKind
    rows: int
    create: str


def unindexed(
    connection: Connection, declared: DatastoreDeclaration, tables: dict[str, Table]
) -> Iterator[Unindexed]:
    """The identity columns of large tables that no index serves, on PostgreSQL and SQLite.

    Args:
        connection: a connection to the datastore (rolled back after: nothing is changed).
        declared: the datastore's annotations.
        tables: its reflected tables, by name.
    """
    dialect = connection.dialect.name
    if dialect not in CHECKED_DIALECTS:
        return
    for name, annotation in declared.tables.items():
        table = tables.get(name)
        if table is None:
            continue
        identities = [
            (column, described.matching)
            for column, described in annotation.columns.items()
            if described.matching is not None and column in table.c
        ]
        if not identities:
            continue
        rows = _rows(connection, table)
        if rows < LARGE:
            continue
        for column, how in identities:
            kind = column_kind(table.c[column].type)
            target = matching.expression(table.c[column], how, kind)
            probe = select(literal(1)).select_from(table).where(target == _sample(kind))
            if not _served(connection, probe, table.name):
                yield Unindexed(name, column, how, rows, _create(dialect, table.name, column, how))


def _sample(kind: str) -> Any:
    return "x" if kind == TEXT else 0


def _rows(connection: Connection, table: Table) -> int:
    if connection.dialect.name == "postgresql":
        estimate = connection.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
            {"name": connection.dialect.identifier_preparer.quote(table.name)},
        ).scalar()
        if estimate is not None and estimate >= 0:  # -1: never analysed, counted below
            return int(estimate)
    first = select(literal(1)).select_from(table).limit(LARGE).subquery()
    return int(connection.execute(select(func.count()).select_from(first)).scalar_one())


def _served(connection: Connection, probe: Any, table: str) -> bool:
    sql = str(probe.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        with connection.begin_nested() if connection.in_transaction() else connection.begin():
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()
            connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
        return not _scans(plan if not isinstance(plan, str) else json.loads(plan), table)
    steps = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    return not any(str(step[-1]).startswith(("SCAN ", "SCAN\t")) for step in steps)


def _scans(plan: Any, table: str) -> bool:
    """Whether a PostgreSQL JSON plan reads ``table`` sequentially anywhere."""
    if isinstance(plan, list):
        return any(_scans(item, table) for item in plan)
    if not isinstance(plan, dict):
        return False
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") == table:
        return True
    return any(_scans(value, table) for value in plan.values() if isinstance(value, list | dict))


def _create(dialect: str, table: str, column: str, how: MatchKind) -> str:
    expression = matching.index_expression(column, how, dialect)
    served = f'"{column}"' if expression is None else f"({expression})"
    if dialect == "sqlite":  # SQLite's indexes need a name
        return f'CREATE INDEX "{table}_{column}_{how}" ON "{table}" ({served})'
    return f'CREATE INDEX ON "{table}" ({served})'


__all__ = ["LARGE", "Unindexed", "unindexed"]
