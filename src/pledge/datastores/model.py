"""What Pledge knows of a company's database: its reflected schema, and how its tables link.

Plain Python, no I/O. A connector (``sql.SqlDatastore``, or the fake in ``pledge.testing``)
produces a :class:`Schema`; :func:`links` joins it with the declared annotations into every
link between tables: the foreign keys the database enforces (composite ones included) and the
relations the declaration adds or annotates. ``graph`` decides which of them make a row
someone's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from pledge.declaration.datastores import Datastore as DatastoreDeclaration
from pledge.declaration.datastores import MatchKind

TEXT = "text"
INTEGER = "integer"
NUMBER = "number"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Column:
    """A column as the database reports it.

    Args:
        name: as the database spells it.
        type: the database's type, as text (``VARCHAR(254)``).
        nullable: whether it accepts null.
        primary_key: whether it is part of the primary key.
        kind: what its values are: text, integer, number or other.
        length: the most characters a text column holds, when the database limits it.
    """

    name: str
    type: str = "TEXT"
    nullable: bool = True
    primary_key: bool = False
    kind: str = TEXT
    length: int | None = None


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key the database enforces: ``table.columns`` → ``referred_table.columns``.

    ``ondelete`` is the referential action as declared (``CASCADE``, ``SET NULL``, ``SET
    DEFAULT``, ``RESTRICT``), None for the default (no action).
    """

    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    ondelete: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A table as the database reports it."""

    name: str
    columns: Mapping[str, Column]
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        """The primary key's columns (empty when the table has none)."""
        return tuple(column.name for column in self.columns.values() if column.primary_key)


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
    """Rows of ``table`` point to rows of ``other``: ``table.columns`` = ``other.other_columns``.

    Args:
        table: the referencing table.
        columns: its linking columns, in order.
        other: the referenced table.
        other_columns: the referenced columns, in the same order.
        enforced: a foreign key the database enforces (else a declared relation).
        ondelete: the foreign key's action on delete (None: no action).
        follow: as the declaration says (``follow: true/false``), None when it says nothing.
        match: how values compare: exact, or as the identity a declared relation links to.
    """

    table: str
    columns: tuple[str, ...]
    other: str
    other_columns: tuple[str, ...]
    enforced: bool = False
    ondelete: str | None = None
    follow: bool | None = None
    match: MatchKind = MatchKind.EXACT

    @property
    def label(self) -> str:
        """How the link reads: ``customers.address_id → addresses.id``."""
        return f"{_side(self.table, self.columns)} → {_side(self.other, self.other_columns)}"

    @property
    def is_self(self) -> bool:
        """Whether the link points into its own table."""
        return self.table == self.other

    @property
    def cascades(self) -> bool:
        """Whether deleting a referenced row deletes the rows pointing to it."""
        return (self.ondelete or "").upper() == "CASCADE"

    @property
    def sets_null(self) -> bool:
        """Whether deleting a referenced row empties (or defaults) the link in the rows."""
        return (self.ondelete or "").upper() in ("SET NULL", "SET DEFAULT")


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
    """Every link between the schema's tables: its foreign keys, then declared relations.

    A relation naming the same columns as a foreign key annotates it (``follow``); any other
    relation is a link of its own. Relations naming a table or column the schema lacks are
    left out (``pledge datastores check`` reports them). A relation to (or from) an identity
    column that compares other than exactly compares the same way (an e-mail string).
    """
    found: dict[tuple[str, tuple[str, ...], str, tuple[str, ...]], Link] = {}
    for table in schema.tables.values():
        for foreign_key in table.foreign_keys:
            if foreign_key.referred_table in schema.tables:
                link = Link(
                    table.name,
                    foreign_key.columns,
                    foreign_key.referred_table,
                    foreign_key.referred_columns,
                    enforced=True,
                    ondelete=foreign_key.ondelete,
                )
                found[_identity(link)] = link
    for table_name, annotation in declared.tables.items():
        for relation in annotation.relations:
            other = relation.references.table
            other_columns = relation.references.columns
            if not _has(schema, table_name, relation.columns) or not _has(
                schema, other, other_columns
            ):
                continue
            key = (table_name, relation.columns, other, other_columns)
            existing = found.get(key)
            if existing is not None:
                found[key] = replace(existing, follow=relation.follow)
                continue
            found[key] = Link(
                table_name,
                relation.columns,
                other,
                other_columns,
                follow=relation.follow,
                match=_relation_match(declared, table_name, relation.columns, other, other_columns),
            )
    return list(found.values())


def _relation_match(
    declared: DatastoreDeclaration,
    table: str,
    columns: tuple[str, ...],
    other: str,
    other_columns: tuple[str, ...],
) -> MatchKind:
    if len(columns) != 1:
        return MatchKind.EXACT
    for name, column in ((other, other_columns[0]), (table, columns[0])):
        annotation = declared.tables.get(name)
        found = annotation.columns.get(column) if annotation is not None else None
        if found is not None and found.matching not in (None, MatchKind.EXACT):
            return found.matching
    return MatchKind.EXACT


def _identity(link: Link) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
    return (link.table, link.columns, link.other, link.other_columns)


def _has(schema: Schema, table: str, columns: tuple[str, ...]) -> bool:
    found = schema.tables.get(table)
    return found is not None and all(column in found.columns for column in columns)


def _side(table: str, columns: tuple[str, ...]) -> str:
    if len(columns) == 1:
        return f"{table}.{columns[0]}"
    return f"{table}.({', '.join(columns)})"
