"""The plan of a request in one datastore: which tables hold a person's rows, and how to find them.

Plain Python, no I/O. A person is found in the tables with identity columns; from there the
plan follows links from parent to child only (``homes.owner_id → users.id`` makes a home the
person's because the user row is), so that it never wanders into other people's rows. A
self-reference (``users.referred_by → users.id``) links two people and is not followed.

Steps come parents first: the order rows are collected in. Erasure runs them in reverse,
children first, so that no foreign key is left pointing at a deleted row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pledge.datastores.model import Link, Schema, links
from pledge.declaration.model import Datastore as DatastoreDeclaration
from pledge.declaration.model import Erasure, IdentityKind, LegalHold
from pledge.errors import SchemaDrift


@dataclass(frozen=True, slots=True)
class Source:
    """One way rows of a step's table are found: an identity, or the values of a parent's rows.

    Exactly one of ``identity`` and ``parent`` is set: ``column`` holds the person's identity
    of that kind, or the values of ``parent.parent_column`` in the person's parent rows.
    """

    column: str
    identity: IdentityKind | None = None
    parent: str | None = None
    parent_column: str | None = None

    @property
    def label(self) -> str:
        """How the source reads in a plan: ``email = identity`` or ``owner_id → users.id``."""
        if self.identity is not None:
            return f"{self.column} = the person's {self.identity}"
        return f"{self.column} → {self.parent}.{self.parent_column}"


@dataclass(frozen=True, slots=True)
class Step:
    """A table of the plan: how its rows are found, what they hold, how they are erased."""

    table: str
    sources: tuple[Source, ...]
    personal: tuple[str, ...]
    """The annotated columns: what an access report shows."""
    key: tuple[str, ...]
    """The primary key, to address single rows when a value is computed per row."""
    erasure: Erasure | None
    legal_hold: LegalHold | None

    @property
    def reads(self) -> tuple[str, ...]:
        """The columns collection reads: primary key, personal columns, and link columns."""
        wanted = [*self.key, *self.personal, *(source.column for source in self.sources)]
        return tuple(dict.fromkeys(wanted))


@dataclass(frozen=True, slots=True)
class Plan:
    """Every step of one datastore, parents before children."""

    datastore: str
    steps: tuple[Step, ...]
    unreached: tuple[str, ...] = ()
    """Declared tables with personal columns the plan cannot reach: their rows are not found."""
    ignored: tuple[Link, ...] = ()
    """Links not followed: self-references, and links that would close a cycle."""

    def step(self, table: str) -> Step:
        """The step of ``table``.

        Raises:
            KeyError: the table is not in the plan.
        """
        for step in self.steps:
            if step.table == table:
                return step
        raise KeyError(table)

    def needed(self) -> dict[str, tuple[str, ...]]:
        """Per table, the columns whose values children are found by."""
        wanted: dict[str, list[str]] = {}
        for step in self.steps:
            for source in step.sources:
                if source.parent is not None and source.parent_column is not None:
                    wanted.setdefault(source.parent, []).append(source.parent_column)
        return {table: tuple(dict.fromkeys(columns)) for table, columns in wanted.items()}


def build_plan(name: str, schema: Schema, declared: DatastoreDeclaration) -> Plan:
    """The plan of datastore ``name`` from its reflected ``schema`` and its annotations.

    Only declared tables take part: the declaration says where personal data is.

    Raises:
        SchemaDrift: the database no longer has a declared table or column (the schema
            changed since it was declared); nothing can be carried out until they agree.
    """
    missing = drift(schema, declared)
    if missing:
        raise SchemaDrift(
            f"datastore '{name}' no longer matches the declaration: {', '.join(missing)};"
            " run 'pledge datastores check' and update the declaration"
        )
    present = dict(declared.tables)
    sources: dict[str, list[Source]] = {
        table: [
            Source(column, identity=column_annotation.identity)
            for column, column_annotation in annotation.columns.items()
            if column_annotation.identity is not None
        ]
        for table, annotation in present.items()
    }
    edges = [link for link in links(schema, declared) if link.table in present]
    edges = [link for link in edges if link.other in present]
    ignored = [link for link in edges if link.table == link.other]
    children: dict[str, list[Link]] = {}
    for link in edges:
        if link.table != link.other:
            children.setdefault(link.other, []).append(link)

    # Reach: from the identity tables, parent to child. A link back to a table still being
    # explored would close a cycle, and is not followed; the rest is ordered parents first.
    roots = [table for table, found in sources.items() if found]
    followed: list[Link] = []
    placed: set[str] = set()
    active: set[str] = set()

    def explore(table: str) -> None:
        placed.add(table)
        active.add(table)
        for link in children.get(table, ()):
            if link.table in active:
                ignored.append(link)
                continue
            followed.append(link)
            if link.table not in placed:
                explore(link.table)
        active.discard(table)

    for root in roots:
        if root not in placed:
            explore(root)
    for link in followed:
        sources[link.table].append(
            Source(link.column, parent=link.other, parent_column=link.other_column)
        )
    order = _parents_first(list(present), placed, followed)

    steps = tuple(
        Step(
            table=table,
            sources=tuple(sources[table]),
            personal=tuple(present[table].columns),
            key=tuple(
                column.name
                for column in schema.tables[table].columns.values()
                if column.primary_key
            ),
            erasure=present[table].erasure,
            legal_hold=present[table].legal_hold,
        )
        for table in order
    )
    unreached = tuple(
        table for table, annotation in present.items() if annotation.columns and table not in placed
    )
    return Plan(name, steps, unreached, tuple(ignored))


def drift(schema: Schema, declared: DatastoreDeclaration) -> list[str]:
    """The declared tables and columns the database lacks, as ``table`` or ``table.column``."""
    missing: list[str] = []
    for table_name, table in declared.tables.items():
        found = schema.tables.get(table_name)
        if found is None:
            missing.append(f"table {table_name} is gone")
            continue
        named = [
            *table.columns,
            *((table.erasure.rewrite or {}) if table.erasure else {}),
            *(relation.column for relation in table.relations),
        ]
        missing.extend(
            f"column {table_name}.{column} is gone"
            for column in dict.fromkeys(named)
            if column not in found.columns
        )
    return missing


def _parents_first(tables: list[str], placed: set[str], followed: list[Link]) -> list[str]:
    """The placed tables, each after all of its parents (Kahn), in declaration order on ties."""
    waiting = {table: {link.other for link in followed if link.table == table} for table in placed}
    order: list[str] = []
    while waiting:
        ready = [table for table in tables if table in waiting and not waiting[table]]
        for table in ready:
            del waiting[table]
            order.append(table)
        for parents in waiting.values():
            parents.difference_update(ready)
    return order


def identity_values(
    identities: Mapping[IdentityKind, frozenset[str]], plan: Plan
) -> dict[IdentityKind, frozenset[str]]:
    """The identities the plan can use: only kinds some identity column holds."""
    kinds = {source.identity for step in plan.steps for source in step.sources if source.identity}
    return {kind: values for kind, values in identities.items() if kind in kinds and values}
