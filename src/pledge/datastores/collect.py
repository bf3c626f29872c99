"""Finding a person's rows in a SQL datastore, in the rounds of its plan.

Rows are read by identity; up from an owned table's identity rows to the person they belong
to; down along owner links, level by level; up into reference tables, each row of which is
then told shared (other people's rows point to it too) or the person's alone. The statements
of one round go out together (on PostgreSQL in one pipeline).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from pledge.datastores import matching
from pledge.datastores.graph import REFERENCE
from pledge.datastores.plan import Plan, Step
from pledge.datastores.statements import CHUNK, Condition, Row, Statement, Tables, lookups
from pledge.declaration.datastores import IdentityKind, MatchKind


@dataclass
class Found:
    """The rows of one person in one datastore, per table, as read.

    Args:
        rows: per table, the rows read.
        shared: per table, the positions in ``rows`` of rows other people's rows point to
            too: shown to the person, never erased.
        tallies: per table, how many rows there are where only the count was read (rows an
            erasure keeps, which nothing else needs).
    """

    rows: dict[str, list[Row]] = field(default_factory=dict)
    shared: dict[str, list[int]] = field(default_factory=dict)
    tallies: dict[str, int] = field(default_factory=dict)

    def values(self, table: str, columns: tuple[str, ...]) -> list[Any]:
        """The distinct values of ``columns`` among the rows of ``table`` (tuples when there
        are several columns; rows with a null among them left out)."""
        found: dict[Any, None] = {}
        for row in self.rows.get(table, ()):
            value = tuple(row.get(column) for column in columns)
            if any(part is None for part in value):
                continue
            found[value if len(columns) > 1 else value[0]] = None
        return list(found)

    def own(self, table: str) -> list[Row]:
        """The rows of ``table`` that are the person's alone (not shared)."""
        shared = set(self.shared.get(table, ()))
        return [row for index, row in enumerate(self.rows.get(table, ())) if index not in shared]

    def count(self, table: str) -> int:
        """How many rows of ``table`` were found (read or counted)."""
        return len(self.rows.get(table, ())) + self.tallies.get(table, 0)

    def counts(self) -> dict[str, int]:
        """How many rows each table holds."""
        names = dict.fromkeys([*self.rows, *self.tallies])
        return {table: self.count(table) for table in names}

    def total(self) -> int:
        """How many rows in all."""
        return sum(self.counts().values())


def collect(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    identities: Mapping[IdentityKind, Iterable[str]],
    *,
    known: Found | None = None,
    columns: str = "all",
) -> Found:
    """Find the person's rows in every table of the plan.

    Args:
        connection: a connection to the datastore.
        tables: the plan's tables.
        plan: the plan.
        identities: the person's identities by kind (normalised: e-mail lower case, E.164).
        known: rows found earlier (before an erasure): their link values are used too, so
            that rows linked to an already rewritten parent are still found.
        columns: ``all`` reads every column the plan shows; ``erasure`` what erasure and its
            verification need (keys, links, rewritten columns, personal values), and only
            counts the rows of the tables it keeps (through subqueries where the kept rows of
            one table lead to those of another), however many they are.
    """
    reader = _Reader(connection, tables, plan, columns == "all")
    reader.run(reader.by_identity(identities))
    climbing = [step for step in plan.steps if step.climbs and reader.rows[step.table]]
    arrived = {step.table: list(reader.rows[step.table].values()) for step in climbing}
    while arrived:
        batch = []
        for table, new in arrived.items():
            for link in plan.step(table).owners:
                parent = plan.step(link.other)
                values = reader.unread(parent, link.other_columns, link_values(new, link.columns))
                batch += reader.lookups(
                    parent, [(Condition(link.other_columns, link.match), values)]
                )
        added = reader.run(batch)
        arrived = {table: new for table, new in added.items() if new and plan.step(table).owners}
    for level in plan.levels():
        batch = []
        for step in level:
            parts = [
                (
                    Condition(link.columns, link.match),
                    reader.linked(link.other, link.other_columns, known),
                )
                for link in step.owners
            ] + [
                (
                    Condition(link.other_columns, link.match),
                    reader.linked(link.table, link.columns, known),
                )
                for link in step.references
            ]
            batch += reader.lookups(step, parts)
        reader.run(batch)
    found = reader.found()
    found.shared = _shared(connection, tables, plan, found)
    return found


class _Reader:
    """The rounds of :func:`collect`: lookups built per step, run together, rows merged."""

    def __init__(self, connection: Connection, tables: Tables, plan: Plan, everything: bool):
        self.connection = connection
        self.tables = tables
        self.plan = plan
        self.everything = everything
        self.needed = plan.needed()
        self.rows: dict[str, dict[tuple[Any, ...], Row]] = {step.table: {} for step in plan.steps}
        self.tallies: dict[str, int] = {}
        self.copies: dict[str, dict[tuple[Any, ...], int]] = {}
        self.quiet = set() if everything else _quiet(plan)
        self.counted = {
            step.table
            for step in plan.steps
            if self._only_counted(step) or step.table in self.quiet
        }

    def by_identity(
        self, identities: Mapping[IdentityKind, Iterable[str]]
    ) -> list[tuple[Step, Statement, dict[str, list[Any]]]]:
        batch = []
        for step in self.plan.steps:
            parts = [
                (
                    Condition((identify.column,), identify.match, identify.region),
                    list(identities.get(identify.kind, ())),
                )
                for identify in step.identities
            ]
            batch += self.lookups(step, parts)
        return batch

    def lookups(
        self, step: Step, parts: Sequence[tuple[Condition, list[Any]]]
    ) -> list[tuple[Step, Statement, dict[str, list[Any]]]]:
        if step.table in self.quiet:
            return self._below(step)
        prepared = [
            (condition, self._values(step.table, condition, values)) for condition, values in parts
        ]
        batch: list[tuple[Step, Statement, dict[str, list[Any]]]] = []
        for conditions, parameters in lookups(prepared):
            if step.table in self.counted:
                statement = self.tables.count(step.table, conditions)
            else:
                statement = self.tables.select(step.table, self._reads(step), conditions)
            batch.append((step, statement, parameters))
        return batch

    def run(
        self, batch: list[tuple[Step, Statement, dict[str, list[Any]]]]
    ) -> dict[str, list[Row]]:
        results = self.tables.fetch_many(
            self.connection, [(statement, values) for _, statement, values in batch]
        )
        added: dict[str, list[Row]] = {}
        for (step, _, _), records in zip(batch, results, strict=True):
            if step.table in self.counted:
                self.tallies[step.table] = self.tallies.get(step.table, 0) + int(records[0]["rows"])
                continue
            held = self.rows[step.table]
            here: dict[tuple[Any, ...], int] = {}
            for record in records:
                identity = _identify(record, step)
                here[identity] = here.get(identity, 0) + 1
                if identity not in held:
                    held[identity] = record
                    added.setdefault(step.table, []).append(record)
            if not step.key:
                # Rows without a key may repeat exactly. A lookup that finds one finds every
                # copy; several lookups may find the same copies: the most any found is how
                # many there are.
                copies = self.copies.setdefault(step.table, {})
                for identity, count in here.items():
                    copies[identity] = max(copies.get(identity, 1), count)
        return added

    def linked(self, table: str, columns: tuple[str, ...], known: Found | None) -> list[Any]:
        values = link_values(list(self.rows.get(table, {}).values()), columns)
        if known is not None:
            values = list(dict.fromkeys([*values, *known.values(table, columns)]))
        return values

    def unread(self, step: Step, columns: tuple[str, ...], values: list[Any]) -> list[Any]:
        """``values`` of ``step``'s columns less those of rows already read, where the columns
        are the table's key (a key value already read finds no other row)."""
        if not values or not step.key or columns != step.key or step.table in self.counted:
            return values
        held = self.rows[step.table]
        if len(columns) == 1:
            return [value for value in values if (value,) not in held]
        return [value for value in values if tuple(value) not in held]

    def found(self) -> Found:
        rows: dict[str, list[Row]] = {}
        for step in self.plan.steps:
            copies = self.copies.get(step.table, {})
            rows[step.table] = [
                row
                for identity, row in self.rows[step.table].items()
                for _ in range(copies.get(identity, 1))
            ]
        return Found(rows, {}, dict(self.tallies))

    def _below(self, step: Step) -> list[tuple[Step, Statement, dict[str, list[Any]]]]:
        """A quiet step's count: the chain of kept tables up to the first one that is read,
        in subqueries, the read one's values as the parameter."""
        chain: list[tuple[str, Condition, tuple[str, ...]]] = []
        wanted: tuple[str, ...] = ()
        current = step
        while True:
            (link,) = current.owners
            chain.append((current.table, Condition(link.columns, link.match), wanted))
            wanted = link.other_columns
            parent = self.plan.step(link.other)
            if parent.table not in self.quiet:
                break
            current = parent
        chain.reverse()
        values = self.linked(link.other, link.other_columns, None)
        top = chain[0][1]
        prepared = self._values(chain[0][0], top, values)
        if not prepared:
            return []
        statement = (
            self.tables.count(chain[0][0], (top,))
            if len(chain) == 1
            else self.tables.count_below(chain)
        )
        return [
            (step, statement, {"p0": prepared[start : start + CHUNK]})
            for start in range(0, len(prepared), CHUNK)
        ]

    def _values(self, table: str, condition: Condition, values: list[Any]) -> list[Any]:
        if len(condition.columns) > 1:
            return values
        kind = self.tables.kind(table, condition.columns[0])
        if condition.match is MatchKind.EXACT:
            return matching.coerce(values, kind)
        return matching.values(values, condition.match, kind, condition.region)

    def _reads(self, step: Step) -> tuple[str, ...]:
        if self.everything:
            return step.reads
        if not step.key:
            # A row without a key is addressed by its values (:func:`rows_of`): those of the
            # links and identities it was found by must be among them.
            return step.reads
        rewritten = list((step.erasure.rewrite or {}) if step.erasure else {})
        wanted = [*step.key, *self.needed.get(step.table, ()), *rewritten]
        if not step.kept:
            wanted += step.personal
        return tuple(dict.fromkeys(wanted)) or step.reads

    def _only_counted(self, step: Step) -> bool:
        # An erasure keeps these rows and no other table is found through them: their count
        # is all the report needs, however many the person has.
        sources = bool(step.identities) + bool(step.owners) + bool(step.references)
        return (
            not self.everything
            and step.kept
            and step.table not in self.needed
            and sources == 1
            and len(step.identities) <= 1
            and len(step.owners) <= 1
            and len(step.references) <= 1
        )


def _quiet(plan: Plan) -> set[str]:
    """The kept tables an erasure need not read a row of: found along one owner link only, and
    whose rows only other such tables are found through. Their rows are counted in one
    statement each, through subqueries, however many the person has."""
    candidates = {
        step.table
        for step in plan.steps
        if step.kept
        and len(step.owners) == 1
        and not step.identities
        and not step.references
        and not step.climbs
        and len(step.owners[0].columns) == 1
    }
    consumers: dict[str, set[str]] = {step.table: set() for step in plan.steps}
    for step in plan.steps:
        for link in step.owners:
            consumers[link.other].add(step.table)
        for link in step.references:
            consumers[link.table].add(step.table)
    for link in plan.prenull:
        consumers[link.table].add("")
    quiet = set(candidates)
    changed = True
    while changed:
        changed = False
        for table in list(quiet):
            if not consumers[table] <= quiet:
                quiet.discard(table)
                changed = True
    return quiet


def _shared(
    connection: Connection, tables: Tables, plan: Plan, found: Found
) -> dict[str, list[int]]:
    """Per reference table, the rows found that rows which are not the person's point to as
    well: for each link into the table, how many rows point to each value, against how many
    of the person's rows do."""
    shared: dict[str, list[int]] = {}
    for step in plan.steps:
        rows = found.rows.get(step.table, [])
        if step.role != REFERENCE or not rows:
            continue
        crowded: set[int] = set()
        for link in plan.graph.into(step.table):
            if link.is_self:
                continue
            targets = found.values(step.table, link.other_columns)
            if not targets:
                continue
            mine: dict[Any, int] = {}
            kept_shared = set(shared.get(link.table, ()))  # rows of other people's too
            for position, row in enumerate(found.rows.get(link.table, ())):
                if position in kept_shared:
                    continue
                value = tuple(row.get(column) for column in link.columns)
                key = value if len(value) > 1 else value[0]
                mine[key] = mine.get(key, 0) + 1
            condition = Condition(link.columns, link.match)
            for conditions, parameters in lookups([(condition, targets)]):
                statement = tables.select(link.table, link.columns, conditions)
                pointing: dict[Any, int] = {}
                for record in tables.fetch(connection, statement, parameters):
                    value = tuple(record[column] for column in link.columns)
                    key = value if len(value) > 1 else value[0]
                    pointing[key] = pointing.get(key, 0) + 1
                for index, row in enumerate(rows):
                    value = tuple(row.get(column) for column in link.other_columns)
                    key = value if len(value) > 1 else value[0]
                    if pointing.get(key, 0) > mine.get(key, 0):
                        crowded.add(index)
        if crowded:
            shared[step.table] = sorted(crowded)
    return shared


def reread(connection: Connection, tables: Tables, plan: Plan, before: Found) -> Found:
    """The person's own rows of ``before`` as they are now, by primary key: what an erasure
    rewrote is checked even where the rewrite means the person can no longer be found."""
    batch: list[tuple[Step, Statement, Mapping[str, Any]]] = []
    for step in plan.steps:
        own = before.own(step.table)
        if step.kept or not step.key or not own:
            continue
        rewritten = tuple(step.erasure.rewrite or {}) if step.erasure else ()
        wanted = tuple(dict.fromkeys((*step.key, *rewritten)))
        batch += [
            (step, tables.select(step.table, wanted, conditions), parameters)
            for conditions, parameters in rows_of(tables, step, own)
        ]
    results = tables.fetch_many(connection, [(statement, values) for _, statement, values in batch])
    found = Found()
    for (step, _, _), rows in zip(batch, results, strict=True):
        found.rows.setdefault(step.table, []).extend(rows)
    return found


def rows_of(
    tables: Tables, step: Step, rows: list[Row]
) -> list[tuple[tuple[Condition, ...], dict[str, list[Any]]]]:
    """The lookups that address exactly ``rows``: by primary key; without one, by the values
    of every column read of them.

    Rows without a key are grouped by the columns they hold a value in, one lookup per group
    over those columns: among them is the link or identity each row was found by, so a row of
    someone else never matches (rows alike in all of them are the same to the person).
    """
    if not rows:
        return []
    if step.key:
        groups = {step.key: rows}
    else:
        groups = {}
        for row in rows:
            held = tuple(column for column, value in row.items() if value is not None)
            groups.setdefault(held, []).append(row)
    lookups: list[tuple[tuple[Condition, ...], dict[str, list[Any]]]] = []
    for columns, members in groups.items():
        if not columns:
            continue  # a row of nulls only: nothing tells it apart, it was found by nothing
        values = [
            tuple(row[column] for column in columns) if len(columns) > 1 else row[columns[0]]
            for row in members
        ]
        unique = list(dict.fromkeys(values))
        condition = Condition(tuple(columns))
        lookups += [
            ((condition,), {"p0": unique[start : start + CHUNK]})
            for start in range(0, len(unique), CHUNK)
        ]
    return lookups


def link_values(rows: Sequence[Row], columns: tuple[str, ...]) -> list[Any]:
    found: dict[Any, None] = {}
    for row in rows:
        value = tuple(row.get(column) for column in columns)
        if any(part is None for part in value):
            continue
        found[value if len(columns) > 1 else value[0]] = None
    return list(found)


def _identify(row: Row, step: Step) -> tuple[Any, ...]:
    return identify_by(row, step.key)


def identify_by(row: Row, key: tuple[str, ...]) -> tuple[Any, ...]:
    if key:
        return tuple(row[name] for name in key)
    return tuple(sorted(row.items(), key=lambda item: item[0]))


__all__ = ["Found", "collect", "identify_by", "link_values", "reread", "rows_of"]
