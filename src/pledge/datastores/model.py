"""What Pledge knows of a company's database: its reflected schema, and how tables link.

Plain Python, no I/O. A connector (``sql.SqlDatastore``, or the fake in ``pledge.testing``)
produces a :class:`Schema`; :func:`links` and :func:`reachable_tables` turn it, with the
declared annotations, into the graph a request follows from a person's identity to their rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pledge.declaration.model import Datastore as DatastoreDeclaration


@dataclass(frozen=True, slots=True)
class Column:
    """A column as the database reports it."""

    name: str
    type: str = "TEXT"
    nullable: bool = True
    primary_key: bool = False


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key the database enforces: ``table.columns`` → ``referred_table.columns``."""

    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table as the database reports it."""

    name: str
    columns: Mapping[str, Column]
    foreign_keys: tuple[ForeignKey, ...] = ()


@dataclass(frozen=True, slots=True)
class Schema:
    """The tables of one database, by name."""

    tables: Mapping[str, Table] = field(default_factory=dict)

    @classmethod
    def of(cls, tables: Iterable[Table]) -> Schema:
        """A schema holding ``tables``."""
        return cls({table.name: table for table in tables})


@dataclass(frozen=True, slots=True)
class Link:
    """Rows of two tables that belong together: ``table.column`` equals ``other.other_column``.

    ``declared`` tells a relation written in the declaration from a reflected foreign key.
    """

    table: str
    column: str
    other: str
    other_column: str
    declared: bool = False


@runtime_checkable
class Datastore(Protocol):
    """A company database Pledge connects to.

    Connectors implement this; :class:`pledge.testing.InMemoryDatastore` is the fake to test
    against.
    """

    name: str

    def reflect(self) -> Schema:
        """The tables, columns and foreign keys of the database as it is now.

        Raises:
            DatastoreError: the database cannot be reached.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def links(schema: Schema, declared: DatastoreDeclaration) -> list[Link]:
    """Every link between tables: reflected single-column foreign keys, then declared relations.

    Declared relations naming a table or column the schema lacks are left out (the check
    reports them).
    """
    found = [
        Link(table.name, key.columns[0], key.referred_table, key.referred_columns[0])
        for table in schema.tables.values()
        for key in table.foreign_keys
        if len(key.columns) == 1 and key.referred_table in schema.tables
    ]
    for table_name, table in declared.tables.items():
        for relation in table.relations:
            other, other_column = relation.references.split(".", 1)
            if _has(schema, table_name, relation.column) and _has(schema, other, other_column):
                found.append(Link(table_name, relation.column, other, other_column, declared=True))
    return found


def identity_tables(declared: DatastoreDeclaration) -> list[str]:
    """The tables with at least one identity column: where a person is looked up."""
    return [
        name
        for name, table in declared.tables.items()
        if any(column.identity is not None for column in table.columns.values())
    ]


def reachable_tables(starts: Iterable[str], edges: Iterable[Link]) -> set[str]:
    """The tables reached from ``starts`` along links, followed in both directions."""
    neighbours: dict[str, set[str]] = {}
    for link in edges:
        neighbours.setdefault(link.table, set()).add(link.other)
        neighbours.setdefault(link.other, set()).add(link.table)
    seen = set(starts)
    queue = list(seen)
    while queue:
        for nxt in neighbours.get(queue.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _has(schema: Schema, table: str, column: str) -> bool:
    found = schema.tables.get(table)
    return found is not None and column in found.columns
