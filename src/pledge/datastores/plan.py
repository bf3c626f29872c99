"""The plan of a request in one datastore: which tables hold a person's rows, how each is
found, in which order rows are read and erased, and what refuses the plan.

Plain Python, no I/O. Built from the reachability of ``graph`` (one meaning for requests, dry
runs, reports and ``pledge datastores check``) and the constraints of ``constraints``. Rows are
read in four rounds: by identity; up from an owned table's identity rows to the person they
belong to; down along owner links, level by level; up into reference tables. Erasure goes in
the order the foreign keys allow, referencing tables first; the links of a cycle (and
self-references) are emptied in the person's rows first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pledge.datastores import constraints
from pledge.datastores.graph import OWNED, PERSON, REFERENCE, Graph, build_graph
from pledge.datastores.model import Link, Schema
from pledge.declaration.datastores import (
    PERSON_KINDS,
    Erasure,
    ErasureStrategy,
    IdentityKind,
    LegalHold,
    MatchKind,
)
from pledge.declaration.datastores import Datastore as DatastoreDeclaration
from pledge.errors import SchemaDrift

SECRET_CATEGORIES = frozenset({"account.password"})
"""Categories that are credentials: held, listed in a report, never shown."""


@dataclass(frozen=True, slots=True)
class Identify:
    """An identity column of a step: rows whose value matches one of the person's.

    Args:
        column: the column.
        kind: the kind of identity it holds.
        match: how it compares.
        region: the country of phone numbers stored without a country code.
    """

    column: str
    kind: IdentityKind
    match: MatchKind
    region: str | None = None

    @property
    def label(self) -> str:
        """How the source reads in a plan."""
        how = "" if self.match is MatchKind.EXACT else f" ({self.match})"
        return f"{self.column} = the person's {self.kind}{how}"


@dataclass(frozen=True, slots=True)
class Step:
    """A table of the plan: how its rows are found, what they hold, how they are erased.

    Args:
        table: the table.
        role: person, owned or reference (see ``graph``).
        level: the round its rows are read in, after the tables it is found from.
        identities: its identity columns.
        owners: links to the rows it belongs to (owned): found down from them; an owned
            table's identity rows also lead up along them to the person they belong to.
        references: links from the person's rows into it (reference tables).
        personal: the annotated columns: what an access report shows.
        secret: annotated columns that are credentials: listed, never shown.
        key: the primary key.
        linking: its columns that links use (either side): shown, so that rows can be joined.
        kinds: what each column it reads holds (text, integer, number, other).
        erasure: how it forgets a person (None: it keeps the rows).
        legal_hold: what the law makes the company keep, if anything.
    """

    table: str
    role: str
    level: int
    identities: tuple[Identify, ...]
    owners: tuple[Link, ...]
    references: tuple[Link, ...]
    personal: tuple[str, ...]
    secret: tuple[str, ...]
    key: tuple[str, ...]
    linking: tuple[str, ...]
    kinds: Mapping[str, str]
    erasure: Erasure | None
    legal_hold: LegalHold | None

    @property
    def climbs(self) -> bool:
        """Whether identity rows of this owned table lead up to the person they belong to
        (an e-mail, phone or account identity; a device id names only the device)."""
        return self.role == OWNED and any(
            identify.kind in PERSON_KINDS for identify in self.identities
        )

    @property
    def kept(self) -> bool:
        """Whether an erasure leaves this table's rows as they are (a hold, no strategy)."""
        return self.legal_hold is not None or self.erasure is None

    @property
    def deletes(self) -> bool:
        """Whether an erasure deletes this table's rows."""
        return (
            not self.kept
            and self.erasure is not None
            and (self.erasure.strategy is ErasureStrategy.DELETE)
        )

    @property
    def reads(self) -> tuple[str, ...]:
        """Every column an access pass reads: key, links and personal columns."""
        return tuple(dict.fromkeys((*self.key, *self.linking, *self.personal)))

    @property
    def shown(self) -> tuple[str, ...]:
        """The columns a report shows: key, links and personal columns but credentials."""
        return tuple(column for column in self.reads if column not in self.secret)

    @property
    def sources(self) -> tuple[str, ...]:
        """How the step's rows are found, as text."""
        return (
            *(identify.label for identify in self.identities),
            *(f"{link.label} (owner)" for link in self.owners),
            *(f"{link.label} (pointed to)" for link in self.references),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """Every step of one datastore, in reading order, and how erasure goes.

    Args:
        datastore: the datastore's name.
        steps: the reached tables, in the order their rows are read.
        graph: the reachability the plan follows.
        erasure_order: the tables in the order erasure changes them (referencing first).
        prenull: links emptied in the person's rows before anything is deleted (cycles and
            self-references among the person's own rows).
        problems: why the plan cannot be carried out as declared (empty: it can).
        constraints: what the database's constraints stand in the way of, errors (in
            ``problems`` too) and warnings (what may stop an erasure for some people).
    """

    datastore: str
    steps: tuple[Step, ...]
    graph: Graph
    erasure_order: tuple[str, ...]
    prenull: tuple[Link, ...]
    problems: tuple[str, ...]
    constraints: tuple[constraints.Problem, ...] = ()

    @property
    def unreached(self) -> Mapping[str, str]:
        """Declared tables with annotated columns that no request reaches, with why."""
        return self.graph.unreached

    def step(self, table: str) -> Step:
        """The step of ``table``.

        Raises:
            KeyError: the table is not in the plan.
        """
        for step in self.steps:
            if step.table == table:
                return step
        raise KeyError(table)

    def has(self, table: str) -> bool:
        """Whether ``table`` is in the plan."""
        return any(step.table == table for step in self.steps)

    def needed(self) -> dict[str, tuple[str, ...]]:
        """Per table, the columns whose values other tables' rows are found by."""
        wanted: dict[str, list[str]] = {}
        for step in self.steps:
            for link in step.owners:
                wanted.setdefault(link.other, []).extend(link.other_columns)
                if step.climbs:
                    wanted.setdefault(step.table, []).extend(link.columns)
            for link in step.references:
                wanted.setdefault(link.table, []).extend(link.columns)
                wanted.setdefault(step.table, []).extend(link.other_columns)
        for link in self.prenull:
            wanted.setdefault(link.table, []).extend(link.columns)
        return {table: tuple(dict.fromkeys(columns)) for table, columns in wanted.items()}

    def tables_used(self) -> list[str]:
        """Every table a request reads: the plan's, and those whose rows point into them (to
        tell a row shared with other people from one of the person's, and to name what stops
        an erasure)."""
        reached = {step.table for step in self.steps}
        pointing = [link.table for link in self.graph.links if link.other in reached]
        return list(dict.fromkeys([*reached, *pointing]))

    def levels(self) -> list[list[Step]]:
        """The steps by reading round."""
        rounds: dict[int, list[Step]] = {}
        for step in self.steps:
            rounds.setdefault(step.level, []).append(step)
        return [rounds[level] for level in sorted(rounds)]


def build_plan(
    name: str,
    schema: Schema,
    declared: DatastoreDeclaration,
    *,
    region: str | None = None,
) -> Plan:
    """The plan of datastore ``name`` from its reflected ``schema`` and its annotations.

    Only declared tables take part: the declaration says where personal data is.

    Args:
        name: the datastore's name.
        schema: the database as reflected.
        declared: its annotations.
        region: the country of phone numbers stored without a country code, unless a column
            says otherwise (the controller's country).

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
    graph = build_graph(schema, declared)
    linking: dict[str, list[str]] = {}
    for link in graph.links:
        linking.setdefault(link.table, []).extend(link.columns)
        linking.setdefault(link.other, []).extend(link.other_columns)
    steps = []
    for table, place in graph.places.items():
        annotation = declared.tables[table]
        real = schema.tables[table]
        columns = annotation.columns
        used = [column for column in linking.get(table, ()) if column in real.columns]
        identities = tuple(
            Identify(
                column,
                found.identity,
                found.matching or MatchKind.EXACT,
                found.region or region,
            )
            for column, found in columns.items()
            if found.identity is not None
        )
        steps.append(
            Step(
                table=table,
                role=place.role,
                level=place.level,
                identities=identities,
                owners=place.owners,
                references=place.references,
                personal=tuple(columns),
                secret=tuple(
                    column
                    for column, found in columns.items()
                    if found.secret or found.category in SECRET_CATEGORIES
                ),
                key=real.key,
                linking=tuple(dict.fromkeys(used)),
                kinds={column.name: column.kind for column in real.columns.values()},
                erasure=annotation.erasure,
                legal_hold=annotation.legal_hold,
            )
        )
    order = {PERSON: 0, OWNED: 1, REFERENCE: 2}
    steps.sort(key=lambda step: (step.level, order[step.role]))
    checked = constraints.check(schema, declared, graph, tuple(steps))
    problems = [
        *(
            f"rows of '{table}' could belong to a person along several links"
            f" ({', '.join(link.label for link in found)}): declare follow: false on the"
            " links that only refer to someone, or follow: true on each link whose rows"
            " belong to every person they link to"
            for table, found in graph.ambiguous.items()
        ),
        *(
            f"'{table}' holds personal data no request reaches: {why}"
            for table, why in graph.unreached.items()
            if table not in graph.ambiguous
        ),
        *(problem.message for problem in checked.problems if problem.error),
    ]
    return Plan(
        name,
        tuple(steps),
        graph,
        checked.order,
        checked.prenull,
        tuple(problems),
        checked.problems,
    )


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
            *(column for relation in table.relations for column in relation.columns),
        ]
        missing.extend(
            f"column {table_name}.{column} is gone"
            for column in dict.fromkeys(named)
            if column not in found.columns
        )
    return missing


def identity_values(
    identities: Mapping[IdentityKind, frozenset[str]], plan: Plan
) -> dict[IdentityKind, frozenset[str]]:
    """The identities the plan can use: only kinds some identity column holds."""
    kinds = {identify.kind for step in plan.steps for identify in step.identities}
    return {kind: values for kind, values in identities.items() if kind in kinds and values}
