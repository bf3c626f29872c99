"""Carrying out a plan in a SQL datastore: find a person's rows, erase them, correct them.

Rows are read in the plan's rounds (``plan``), each round's statements together. Erasure and
correction change exactly the rows found, by primary key (tables without one by the
conditions that found them), never a row shared with other people, in the order the foreign
keys allow; only values computed per row (a mask, a pseudonym) are written by one batched
``executemany``, each row guarded by its old value, so that running an erasure twice changes
nothing the second time. The caller runs erasure and correction in one transaction per
datastore.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from pledge.datastores import matching
from pledge.datastores.graph import REFERENCE
from pledge.datastores.plan import Plan, Step
from pledge.datastores.statements import CHUNK, Condition, Row, Statement, Tables, lookups
from pledge.declaration.datastores import ErasureStrategy, IdentityKind, MatchKind, Rewrite
from pledge.errors import DatastoreError


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


@dataclass(frozen=True)
class TableOutcome:
    """What erasure did to one table."""

    action: str  # deleted, rewritten, retained, kept
    rows: int
    columns: tuple[str, ...] = ()
    reason: str | None = None
    shared: int = 0
    """Rows kept because other people's rows point to them too."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form, without personal data."""
        found: dict[str, Any] = {"action": self.action, "rows": self.rows}
        if self.columns:
            found["columns"] = list(self.columns)
        if self.reason:
            found["reason"] = self.reason
        if self.shared:
            found["shared"] = self.shared
        return found


SHARED_REASON = "shared with other people: other people's rows point to them too"


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
            counts the rows of tables it keeps that nothing else needs.
    """
    reader = _Reader(connection, tables, plan, columns == "all")
    reader.run(reader.by_identity(identities))
    climbing = [step for step in plan.steps if step.climbs and reader.rows[step.table]]
    arrived = {step.table: list(reader.rows[step.table].values()) for step in climbing}
    while arrived:
        batch = []
        for table, new in arrived.items():
            for link in plan.step(table).owners:
                values = _link_values(new, link.columns)
                parent = plan.step(link.other)
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
        self.counted = {step.table for step in plan.steps if self._only_counted(step)}

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
            for record in records:
                identity = _identify(record, step)
                if identity not in held:
                    held[identity] = record
                    added.setdefault(step.table, []).append(record)
        return added

    def linked(self, table: str, columns: tuple[str, ...], known: Found | None) -> list[Any]:
        values = _link_values(list(self.rows.get(table, {}).values()), columns)
        if known is not None:
            values = list(dict.fromkeys([*values, *known.values(table, columns)]))
        return values

    def found(self) -> Found:
        return Found(
            {step.table: list(self.rows[step.table].values()) for step in self.plan.steps},
            {},
            dict(self.tallies),
        )

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
        computed = [
            name
            for name, how in ((step.erasure.rewrite or {}) if step.erasure else {}).items()
            if how is not None and how.fixed is None
        ]
        wanted = [*step.key, *self.needed.get(step.table, ()), *computed]
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


def erase(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    found: Found,
    *,
    pseudonym_key: Callable[[str, Rewrite], bytes],
) -> dict[str, TableOutcome]:
    """Erase the rows ``found``, in the plan's erasure order, inside the caller's transaction.

    Tables under a legal hold (or without an erasure strategy) are left as they are and
    reported; rows shared with other people are kept and counted. ``pseudonym_key`` gives
    the key of a table's pseudonyms.

    Raises:
        DatastoreError: the database refused a change (a foreign key); nothing of the
            transaction should be committed.
    """
    try:
        return _erase(connection, tables, plan, found, pseudonym_key)
    except DatastoreError as error:
        if "foreign key" not in str(error) or "(" in str(error):
            raise  # the database named the constraint already
        pointing = _pointing(connection, tables, plan, found)
        if not pointing:
            raise
        raise DatastoreError(f"{error} ({pointing})") from None


def _erase(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    found: Found,
    pseudonym_key: Callable[[str, Rewrite], bytes],
) -> dict[str, TableOutcome]:
    pending: list[tuple[Statement, Mapping[str, Any]]] = []
    outcomes: dict[str, TableOutcome] = {}
    for link in plan.prenull:
        step = plan.step(link.table)
        own = found.own(link.table)
        if step.kept or not own:
            continue
        emptied = dict.fromkeys(link.columns)
        changes = {f"set_{name}": None for name in link.columns}
        pending += [
            (tables.update(step.table, conditions, emptied), {**parameters, **changes})
            for conditions, parameters in _rows_of(tables, step, own)
        ]
    for name in plan.erasure_order:
        step = plan.step(name)
        count = found.count(name)
        own = found.own(name)
        shared = count - len(own) if name not in found.tallies else 0
        if step.legal_hold is not None:
            outcomes[name] = TableOutcome("retained", count, reason=step.legal_hold.reason)
            continue
        if step.erasure is None:
            reason = "the declaration gives this table no erasure strategy"
            outcomes[name] = TableOutcome("kept", count, reason=reason)
            continue
        if step.erasure.strategy is ErasureStrategy.DELETE:
            pending += [
                (tables.delete(name, conditions), parameters)
                for conditions, parameters in _rows_of(tables, step, own)
            ]
            outcomes[name] = TableOutcome(
                "deleted", len(own), reason=SHARED_REASON if shared else None, shared=shared
            )
            continue
        rewrite = step.erasure.rewrite or {}
        fixed: dict[str, Any] = {
            column: (None if how is None else how.fixed)
            for column, how in rewrite.items()
            if how is None or how.fixed is not None
        }
        if fixed:
            changes = {f"set_{column}": value for column, value in fixed.items()}
            pending += [
                (tables.update(name, conditions, fixed), {**parameters, **changes})
                for conditions, parameters in _rows_of(tables, step, own)
            ]
        computed = {column: how for column, how in rewrite.items() if how and how.fixed is None}
        if computed:
            statement, batch = _computed(tables, step, computed, own, pseudonym_key)
            if tables.arrays:
                pending += [(statement, values) for values in batch]
            else:
                tables.write_many(connection, pending)
                pending = []
                tables.execute_many(connection, statement, batch)
        outcomes[name] = TableOutcome(
            "rewritten",
            len(own),
            columns=tuple(rewrite),
            reason=SHARED_REASON if shared else None,
            shared=shared,
        )
    tables.write_many(connection, pending)
    order = {step.table: index for index, step in enumerate(plan.steps)}
    return dict(sorted(outcomes.items(), key=lambda item: order[item[0]]))


def _pointing(connection: Connection, tables: Tables, plan: Plan, found: Found) -> str:
    """What still points to the person's rows of the tables erasure deletes, named by link
    and counted (for a database whose refusal names no constraint: SQLite)."""
    named = []
    for step in plan.steps:
        own = found.own(step.table)
        if not step.deletes or not own:
            continue
        for link in plan.graph.into(step.table):
            if not link.enforced:
                continue
            try:
                tables[link.table]
            except KeyError:
                continue
            values = _link_values(own, link.other_columns)
            rows = 0
            for conditions, parameters in lookups([(Condition(link.columns), values)]):
                statement = tables.count(link.table, conditions)
                rows += int(tables.fetch(connection, statement, parameters)[0]["rows"])
            if rows:
                named.append(f"{link.label}: {rows} row{'' if rows == 1 else 's'}")
    return "; ".join(named)


def correct(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    found: Found,
    corrections: Mapping[str, Mapping[str, Any]],
) -> dict[str, int]:
    """Write the corrected values into the person's own rows: table → column → new value.

    Rows shared with other people are not changed. The caller checked that every column may
    be corrected and that the plan reaches its table, and runs this in one transaction.
    Returns how many rows of each table were changed.

    Raises:
        DatastoreError: a table is not in the plan, or the database refused the change.
    """
    missing = [table for table in corrections if not plan.has(table)]
    if missing:
        raise DatastoreError(
            f"datastore '{plan.datastore}': no request reaches {', '.join(missing)}; the"
            " correction was not applied"
        )
    changed: dict[str, int] = {}
    for table_name, values in corrections.items():
        step = plan.step(table_name)
        changes = {f"set_{name}": value for name, value in values.items()}
        changed[table_name] = sum(
            tables.write(
                connection,
                tables.update(table_name, conditions, values),
                {**parameters, **changes},
            )
            for conditions, parameters in _rows_of(tables, step, found.own(table_name))
        )
    return changed


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
            for conditions, parameters in _rows_of(tables, step, own)
        ]
    results = tables.fetch_many(connection, [(statement, values) for _, statement, values in batch])
    found = Found()
    for (step, _, _), rows in zip(batch, results, strict=True):
        found.rows.setdefault(step.table, []).extend(rows)
    return found


def residue(plan: Plan, before: Found, after: Found, again: Found) -> dict[str, int]:
    """What an erasure should have removed but is still there, per table (empty: nothing).

    ``after`` is the plan run again (rows the person's identities and links reach now),
    ``again`` the rows of ``before`` read again by key. Kept tables and shared rows are
    expected. A deleted table may hold none of the person's rows; a rewritten one none that
    erasure did not see, and every rewritten column must hold what the rewrite leaves (null,
    the fixed value, a mask, or a pseudonym that is not the old value).
    """
    left: dict[str, int] = {}
    for step in plan.steps:
        if step.kept or step.erasure is None:
            continue
        rows = {_identify_by(row, step.key): row for row in after.own(step.table)}
        if step.key:
            rows.update(
                {_identify_by(row, step.key): row for row in again.rows.get(step.table, ())}
            )
        if not rows:
            continue
        if step.erasure.strategy is ErasureStrategy.DELETE:
            left[step.table] = len(rows)
            continue
        rewrite = step.erasure.rewrite or {}
        originals = {_identify_by(row, step.key): row for row in before.rows.get(step.table, ())}
        bad = 0
        for identity, row in rows.items():
            original = originals.get(identity)
            if original is None or not all(
                _erased(row.get(column), original.get(column), how)
                for column, how in rewrite.items()
                if column in row
            ):
                bad += 1
        if bad:
            left[step.table] = bad
    return left


def _erased(value: Any, original: Any, how: Rewrite | None) -> bool:
    """Whether ``value`` is what the rewrite ``how`` leaves of ``original``."""
    if value is None:
        return True
    if how is None:
        return False
    if how.fixed is not None:
        return str(value) == str(how.fixed)
    if how.mask is not None:
        return original is not None and str(value) == mask(original, how.mask.keep_last)
    return original is None or str(value) != str(original)


def pseudonym(key: bytes, value: Any, length: int | None = None) -> str:
    """The keyed pseudonym of a value: HMAC-SHA-256, hexadecimal, cut to the column's length."""
    digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()
    return digest[: length or len(digest)]


def mask(value: Any, keep_last: int) -> str:
    """The value with every character but the last ``keep_last`` replaced by ``*``."""
    text = str(value)
    kept = text[len(text) - keep_last :] if keep_last else ""
    return "*" * (len(text) - len(kept)) + kept


# --- statements ---------------------------------------------------------------------------------


def _rows_of(
    tables: Tables, step: Step, rows: list[Row]
) -> list[tuple[tuple[Condition, ...], dict[str, list[Any]]]]:
    """The lookups that address exactly ``rows``: by primary key; without one, by every
    column read of them (rows alike in all of those are the same to the person)."""
    if not rows:
        return []
    columns = step.key or tuple(
        column for column in rows[0] if all(row.get(column) is not None for row in rows)
    )
    values = [
        tuple(row[column] for column in columns) if len(columns) > 1 else row[columns[0]]
        for row in rows
    ]
    unique = list(dict.fromkeys(values))
    condition = Condition(tuple(columns))
    return [
        ((condition,), {"p0": unique[start : start + CHUNK]})
        for start in range(0, len(unique), CHUNK)
    ]


def _computed(
    tables: Tables,
    step: Step,
    computed: Mapping[str, Rewrite],
    rows: list[Row],
    pseudonym_key: Callable[[str, Rewrite], bytes],
) -> tuple[Statement, list[dict[str, Any]]]:
    """The guarded ``UPDATE`` of the masks and pseudonyms of ``step``, and its rows'
    parameters: the row's key and each column's old value (so that running it twice changes
    nothing) and new one. Every value is rewritten, whatever it looks like."""
    if not step.key:
        raise DatastoreError(
            f"table '{step.table}' has no primary key: a mask or pseudonym is written row by row"
            " and needs one"
        )
    table = tables[step.table]
    statement = tables.rewrite_rows(step.table, step.key, tuple(computed))
    keys = {column: pseudonym_key(step.table, how) for column, how in computed.items()}
    batch = []
    for row in rows:
        if any(row.get(name) is None for name in computed):
            continue  # a null old value never matches the guard, and holds nothing
        guarded: dict[str, Any] = {f"key_{name}": row[name] for name in step.key}
        for name, how in computed.items():
            old = row[name]
            guarded[f"old_{name}"] = old
            guarded[f"new_{name}"] = (
                mask(old, how.mask.keep_last)
                if how.mask is not None
                else pseudonym(keys[name], old, getattr(table.c[name].type, "length", None))
            )
        batch.append(guarded)
    return statement, batch


def _link_values(rows: Sequence[Row], columns: tuple[str, ...]) -> list[Any]:
    found: dict[Any, None] = {}
    for row in rows:
        value = tuple(row.get(column) for column in columns)
        if any(part is None for part in value):
            continue
        found[value if len(columns) > 1 else value[0]] = None
    return list(found)


def _identify(row: Row, step: Step) -> tuple[Any, ...]:
    return _identify_by(row, step.key)


def _identify_by(row: Row, key: tuple[str, ...]) -> tuple[Any, ...]:
    if key:
        return tuple(row[name] for name in key)
    return tuple(sorted(row.items(), key=lambda item: item[0]))


__all__ = [
    "SHARED_REASON",
    "Found",
    "TableOutcome",
    "Tables",
    "collect",
    "correct",
    "erase",
    "mask",
    "pseudonym",
    "reread",
    "residue",
]
