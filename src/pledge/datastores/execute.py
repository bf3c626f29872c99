"""Carrying out a plan in a SQL datastore: find a person's rows, erase them, correct them.

Every statement is set-based: one ``SELECT … WHERE column IN (…)`` per table (per chunk of
values), one ``DELETE`` per table, one ``UPDATE`` per table for fixed and null rewrites. Only
values computed per row (a mask, a keyed pseudonym) are written by one batched
``executemany``, each row guarded by its old value, so that running an erasure twice changes
nothing the second time. Erasure and correction run in one transaction per datastore.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.dml import Delete, Update

from pledge.datastores.plan import Plan, Step
from pledge.declaration.model import ErasureStrategy, IdentityKind, Rewrite
from pledge.errors import DatastoreError

CHUNK = 2000
"""The most values one ``IN (…)`` list carries; more are split over several statements."""

Row = dict[str, Any]
Statement = Select[Any] | Delete | Update
_S = TypeVar("_S", Select[Any], Delete, Update)


@dataclass
class Found:
    """The rows of one person (or several) in one datastore, per table, as read."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def values(self, table: str, column: str) -> set[Any]:
        """The non-null values of ``table.column`` among the rows found."""
        return {row[column] for row in self.rows.get(table, ()) if row.get(column) is not None}

    def counts(self) -> dict[str, int]:
        """How many rows each table holds, in plan order."""
        return {table: len(rows) for table, rows in self.rows.items()}

    def total(self) -> int:
        """How many rows in all."""
        return sum(len(rows) for rows in self.rows.values())


@dataclass(frozen=True)
class TableOutcome:
    """What erasure did to one table."""

    action: str  # deleted, rewritten, retained, kept
    rows: int
    columns: tuple[str, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form, without personal data."""
        found: dict[str, Any] = {"action": self.action, "rows": self.rows}
        if self.columns:
            found["columns"] = list(self.columns)
        if self.reason:
            found["reason"] = self.reason
        return found


class Tables:
    """The SQLAlchemy tables of a plan, reflected once from a datastore's engine.

    Args:
        connection: reflects the plan's tables, unless ``metadata`` already holds them.
        plan: the plan.
        metadata: tables reflected before (:attr:`SqlDatastore.metadata`), to reflect nothing
            again.
    """

    def __init__(
        self, connection: Connection, plan: Plan, metadata: MetaData | None = None
    ) -> None:
        names = [step.table for step in plan.steps]
        if metadata is None or any(name not in metadata.tables for name in names):
            metadata = MetaData()
            try:
                metadata.reflect(bind=connection, only=names)
            except SQLAlchemyError as error:
                raise DatastoreError(f"datastore '{plan.datastore}': {_reason(error)}") from None
        self._tables = {name: metadata.tables[name] for name in names}
        self.arrays = connection.dialect.name == "postgresql"
        self._clauses: dict[tuple[str, tuple[str, ...]], ColumnElement[bool]] = {}
        self._statements: dict[tuple[Any, ...], Any] = {}
        self._compiled: dict[int, Compiled] = {}
        self._pipeline_supported: bool | None = None

    def __getitem__(self, name: str) -> Table:
        return self._tables[name]

    def clause(self, table: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
        """``c0 IN :p0 OR c1 IN :p1 …`` over ``columns``, built once and reused.

        On PostgreSQL a list is one array parameter (``c0 = ANY(:p0)``), so the statement text
        never changes with the number of values; elsewhere an expanding ``IN``.
        """
        key = (table, columns)
        found = self._clauses.get(key)
        if found is None:
            found = or_(
                *(self._match(table, column, index) for index, column in enumerate(columns))
            )
            self._clauses[key] = found
        return found

    def select(self, table: str, wanted: tuple[str, ...], columns: tuple[str, ...]) -> Select[Any]:
        """``SELECT wanted FROM table WHERE`` :meth:`clause`, built once and reused."""
        source = self._tables[table]
        return self._cached(
            ("select", table, wanted, columns),
            lambda: select(*(source.c[name] for name in wanted)).where(self.clause(table, columns)),
        )

    def delete(self, table: str, columns: tuple[str, ...]) -> Statement:
        """``DELETE FROM table WHERE`` :meth:`clause`, built once and reused."""
        return self._cached(
            ("delete", table, columns),
            lambda: delete(self._tables[table]).where(self.clause(table, columns)),
        )

    def update(self, table: str, columns: tuple[str, ...], values: Mapping[str, Any]) -> Statement:
        """``UPDATE table SET values WHERE`` :meth:`clause`, built once per set of columns."""
        return self._cached(
            ("update", table, columns, tuple(values)),
            lambda: (
                update(self._tables[table])
                .where(self.clause(table, columns))
                .values({name: bindparam(f"set_{name}") for name in values})
            ),
        )

    def rewrite_rows(self, table: str, key: Sequence[str], columns: tuple[str, ...]) -> Statement:
        """``UPDATE table SET c = :new_c … WHERE key = :key_k … AND c = :old_c …``: one row's
        masks and pseudonyms, guarded by its old values; built once and reused."""
        source = self._tables[table]
        return self._cached(
            ("rewrite", table, tuple(key), columns),
            lambda: (
                update(source)
                .where(
                    and_(
                        *(source.c[name] == bindparam(f"key_{name}") for name in key),
                        *(source.c[name] == bindparam(f"old_{name}") for name in columns),
                    )
                )
                .values({name: bindparam(f"new_{name}") for name in columns})
            ),
        )

    def fetch(
        self, connection: Connection, statement: Statement, parameters: Mapping[str, Any]
    ) -> list[Row]:
        """The rows of a cached ``SELECT``, as dicts."""
        if not self.arrays:
            return [dict(row) for row in connection.execute(statement, parameters).mappings()]
        cursor = self._run(connection, statement, parameters)
        try:
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def write(
        self, connection: Connection, statement: Statement, parameters: Mapping[str, Any]
    ) -> int:
        """Run a cached ``DELETE`` or ``UPDATE``; how many rows it changed."""
        if not self.arrays:
            return int(connection.execute(statement, parameters).rowcount)
        cursor = self._run(connection, statement, parameters)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def fetch_many(
        self, connection: Connection, batch: Sequence[tuple[Statement, Mapping[str, Any]]]
    ) -> list[list[Row]]:
        """The rows of several cached ``SELECT``\\ s whose parameters do not depend on one
        another: on PostgreSQL sent together in one pipeline (one round trip), in order."""
        if len(batch) < 2 or not self.pipelines(connection):
            return [
                self.fetch(connection, statement, parameters) for statement, parameters in batch
            ]
        with connection.connection.dbapi_connection.pipeline() as pipeline:  # type: ignore[union-attr]
            cursors = [
                self._run(connection, statement, parameters) for statement, parameters in batch
            ]
            pipeline.sync()  # every result is in: descriptions and rows can be read
            found = []
            for cursor in cursors:
                try:
                    names = [column[0] for column in cursor.description]
                    found.append([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
                finally:
                    cursor.close()
        return found

    def write_many(
        self, connection: Connection, batch: Sequence[tuple[Statement, Mapping[str, Any]]]
    ) -> list[int]:
        """Run several cached ``DELETE``\\ s or ``UPDATE``\\ s in order; the rows each changed.
        On PostgreSQL they are sent together in one pipeline (one round trip)."""
        if len(batch) < 2 or not self.pipelines(connection):
            return [
                self.write(connection, statement, parameters) for statement, parameters in batch
            ]
        raw = connection.connection.dbapi_connection
        with raw.pipeline():  # type: ignore[union-attr]
            cursors = [
                self._run(connection, statement, parameters) for statement, parameters in batch
            ]
        try:
            return [int(cursor.rowcount) for cursor in cursors]
        finally:
            for cursor in cursors:
                cursor.close()

    def pipelines(self, connection: Connection) -> bool:
        """Whether statements go to this datastore in pipelines (PostgreSQL over psycopg)."""
        if not self.arrays:
            return False
        if self._pipeline_supported is None:
            import psycopg

            raw = connection.connection.dbapi_connection
            self._pipeline_supported = isinstance(raw, psycopg.Connection) and bool(
                psycopg.Pipeline.is_supported()
            )
        return self._pipeline_supported

    def _cached(self, key: tuple[Any, ...], build: Callable[[], _S]) -> _S:
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = build()
        return cast(_S, found)

    def _run(
        self, connection: Connection, statement: Statement, parameters: Mapping[str, Any]
    ) -> Any:
        # On PostgreSQL a cached statement's text never changes (arrays, not expanding lists):
        # it is compiled once and run on the driver's cursor, sparing SQLAlchemy's work per
        # execution on the path of every request.
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            compiled = self._compiled[id(statement)] = statement.compile(dialect=connection.dialect)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.string, {**compiled.params, **parameters})
        except BaseException:
            cursor.close()
            raise
        return cursor

    def _match(self, table: str, column: str, index: int) -> ColumnElement[bool]:
        target = self._tables[table].c[column]
        if self.arrays:
            return target == any_(bindparam(f"p{index}", type_=ARRAY(target.type)))
        return target.in_(bindparam(f"p{index}", expanding=True))


def collect(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    identities: Mapping[IdentityKind, Iterable[str]],
    *,
    known: Found | None = None,
    columns: str = "all",
) -> Found:
    """Find the person's rows in every table of the plan, parents first.

    Args:
        connection: a connection to the datastore.
        tables: the plan's tables.
        plan: the plan.
        identities: the person's identities by kind (normalised: e-mail lower case, E.164).
        known: rows found earlier (say before an erasure): their link values are used too,
            so that rows linked to an already rewritten parent are still found.
        columns: ``all`` reads every column the plan knows; ``keys`` only what erasure
            needs (keys, link columns, columns rewritten per row).
    """
    found = Found()
    needed = plan.needed()
    for level in _levels(plan):
        # The tables of one level hang only on earlier levels: their queries go out together.
        batch: list[tuple[Step, Statement, dict[str, list[Any]]]] = []
        for step in level:
            wanted = step.reads if columns == "all" else _erasure_reads(step, needed)
            for matched, parameters in _conditions(
                tables[step.table], step, identities, found, known
            ):
                batch.append((step, tables.select(step.table, wanted, matched), parameters))
        results = tables.fetch_many(
            connection, [(statement, values) for _, statement, values in batch]
        )
        rows: dict[str, dict[tuple[Any, ...], Row]] = {step.table: {} for step in level}
        for (step, _, _), records in zip(batch, results, strict=True):
            for record in records:
                rows[step.table][_identify(record, step)] = record
        for step in level:
            found.rows[step.table] = list(rows[step.table].values())
    found.rows = {step.table: found.rows[step.table] for step in plan.steps}
    return found


def erase(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    identities: Mapping[IdentityKind, Iterable[str]],
    found: Found,
    *,
    pseudonym_key: bytes,
) -> dict[str, TableOutcome]:
    """Erase the rows ``found`` (and any the same links reach now), children first.

    The caller runs this inside one transaction. Tables under a legal hold are left as they
    are and reported as retained with the hold's reason.
    """
    outcomes: dict[str, TableOutcome] = {}
    # Statements whose parameters all come from ``found``: sent together, in order (on
    # PostgreSQL in one pipeline; elsewhere a per-row rewrite is one executemany, after them).
    pending: list[tuple[str, Statement, Mapping[str, Any]]] = []
    deleted: dict[str, int] = {}

    def flush() -> None:
        changed = tables.write_many(connection, [(sql, values) for _, sql, values in pending])
        for (table_name, _, _), rows in zip(pending, changed, strict=True):
            deleted[table_name] = deleted.get(table_name, 0) + rows
        pending.clear()

    for step in reversed(plan.steps):
        table = tables[step.table]
        count = len(found.rows.get(step.table, ()))
        if step.legal_hold is not None:
            outcomes[step.table] = TableOutcome("retained", count, reason=step.legal_hold.reason)
            continue
        if step.erasure is None:
            outcomes[step.table] = TableOutcome(
                "kept", count, reason="the declaration gives this table no erasure strategy"
            )
            continue
        conditions = list(_conditions(table, step, identities, found, found))
        if step.erasure.strategy is ErasureStrategy.DELETE:
            deleted[step.table] = 0
            pending += [
                (step.table, tables.delete(step.table, columns), parameters)
                for columns, parameters in conditions
            ]
            outcomes[step.table] = TableOutcome("deleted", count)
            continue
        rewrite = step.erasure.rewrite or {}
        pending += _fixed_rewrites(tables, step, conditions, rewrite)
        if _computed(rewrite) and tables.pipelines(connection):
            statement, batch = _computed_rewrites(tables, step, rewrite, found, pseudonym_key)
            pending += [(step.table, statement, values) for values in batch]
        elif _computed(rewrite):
            flush()
            _rewrite(connection, tables, step, rewrite, found, pseudonym_key)
        outcomes[step.table] = TableOutcome("rewritten", count, columns=tuple(rewrite))
    flush()
    for table_name, rows in deleted.items():
        if outcomes[table_name].action == "deleted":
            outcomes[table_name] = TableOutcome("deleted", max(outcomes[table_name].rows, rows))
    return dict(reversed(outcomes.items()))


def correct(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    identities: Mapping[IdentityKind, Iterable[str]],
    found: Found,
    corrections: Mapping[str, Mapping[str, Any]],
) -> dict[str, int]:
    """Write the corrected values into the person's rows: table → column → new value.

    The caller checked that every column may be corrected, and runs this in one transaction.
    Returns how many rows of each table were changed.
    """
    changed: dict[str, int] = {}
    for table_name, values in corrections.items():
        step = plan.step(table_name)
        table = tables[table_name]
        changes = {f"set_{name}": value for name, value in values.items()}
        changed[table_name] = sum(
            tables.write(
                connection,
                tables.update(table_name, columns, values),
                {**parameters, **changes},
            )
            for columns, parameters in _conditions(table, step, identities, found, found)
        )
    return changed


def residue(plan: Plan, after: Found, rewritten: Mapping[str, Any] | None = None) -> dict[str, int]:
    """What an erasure should have removed but is still there, per table (empty: nothing).

    Rows of tables under a legal hold or without an erasure strategy are expected. Rows of a
    rewritten table are expected too, as long as every rewritten column holds no value the
    person gave (checked by :func:`erased_value`).
    """
    left: dict[str, int] = {}
    for step in plan.steps:
        rows = after.rows.get(step.table, [])
        if not rows or step.legal_hold is not None or step.erasure is None:
            continue
        if step.erasure.strategy is ErasureStrategy.DELETE:
            left[step.table] = len(rows)
            continue
        rewrite = step.erasure.rewrite or {}
        bad = [
            row
            for row in rows
            if any(not erased_value(row.get(column), how) for column, how in rewrite.items())
        ]
        if bad:
            left[step.table] = len(bad)
    return left


def erased_value(value: Any, how: Rewrite | None) -> bool:
    """Whether ``value`` is what a rewrite leaves: null, the fixed value, a mask, a pseudonym."""
    if how is None:
        return value is None
    if how.fixed is not None:
        return value is None or str(value) == str(how.fixed)
    if how.mask is not None:
        text = "" if value is None else str(value)
        hidden = text[: len(text) - how.mask.keep_last] if how.mask.keep_last else text
        return set(hidden) <= {"*"}
    return value is None or (
        isinstance(value, str) and all(char in "0123456789abcdef" for char in value)
    )


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


def _conditions(
    table: Table,
    step: Step,
    identities: Mapping[IdentityKind, Iterable[str]],
    found: Found,
    known: Found | None,
) -> Iterator[tuple[tuple[str, ...], dict[str, list[Any]]]]:
    """What selects the person's rows of ``step``: the columns matched (for
    :meth:`Tables.clause`) and their values as ``p0``, ``p1`` …; one pair, or one per chunk."""
    parts: list[tuple[str, list[Any]]] = []
    for source in step.sources:
        column: Column[Any] = table.c[source.column]
        if source.identity is not None:
            values = _coerce(column, identities.get(source.identity, ()))
        else:
            assert source.parent is not None and source.parent_column is not None
            linked = found.values(source.parent, source.parent_column)
            if known is not None:
                linked |= known.values(source.parent, source.parent_column)
            values = sorted(linked, key=str)
        if values:
            parts.append((source.column, values))
    if not parts:
        return
    if sum(len(values) for _, values in parts) <= CHUNK:
        yield (
            tuple(name for name, _ in parts),
            {f"p{index}": values for index, (_, values) in enumerate(parts)},
        )
        return
    for name, values in parts:
        for start in range(0, len(values), CHUNK):
            yield (name,), {"p0": values[start : start + CHUNK]}


def _fixed_rewrites(
    tables: Tables,
    step: Step,
    conditions: Sequence[tuple[tuple[str, ...], dict[str, list[Any]]]],
    rewrite: Mapping[str, Rewrite | None],
) -> list[tuple[str, Statement, Mapping[str, Any]]]:
    """The ``UPDATE``\\ s of the null and fixed rewrites of ``step``: one per condition."""
    fixed = {
        column: (None if how is None else how.fixed)
        for column, how in rewrite.items()
        if how is None or how.fixed is not None
    }
    if not fixed:
        return []
    changes = {f"set_{name}": value for name, value in fixed.items()}
    return [
        (step.table, tables.update(step.table, columns, fixed), {**parameters, **changes})
        for columns, parameters in conditions
    ]


def _computed(rewrite: Mapping[str, Rewrite | None]) -> dict[str, Rewrite]:
    """The rewrites computed per row: masks and pseudonyms."""
    return {column: how for column, how in rewrite.items() if how and how.fixed is None}


def _rewrite(
    connection: Connection,
    tables: Tables,
    step: Step,
    rewrite: Mapping[str, Rewrite | None],
    found: Found,
    key: bytes,
) -> None:
    """Write the masks and pseudonyms of ``step``: one batched, guarded ``executemany``."""
    statement, batch = _computed_rewrites(tables, step, rewrite, found, key)
    if batch:
        connection.execute(statement, batch)


def _computed_rewrites(
    tables: Tables,
    step: Step,
    rewrite: Mapping[str, Rewrite | None],
    found: Found,
    key: bytes,
) -> tuple[Statement, list[dict[str, Any]]]:
    """The guarded ``UPDATE`` of the masks and pseudonyms of ``step``, and its rows'
    parameters: the row's key and each column's old value (so that running it twice changes
    nothing) and new one."""
    computed = _computed(rewrite)
    table = tables[step.table]
    if not step.key:
        raise DatastoreError(
            f"table '{step.table}' has no primary key: a mask or pseudonym is written row by row"
            " and needs one"
        )
    statement = tables.rewrite_rows(step.table, step.key, tuple(computed))
    batch = []
    for row in found.rows.get(step.table, ()):
        if all(erased_value(row.get(name), how) for name, how in computed.items()):
            continue  # already erased (an earlier request): a pseudonym is not pseudonymised
        if any(row.get(name) is None for name in computed):
            continue  # a null old value never matches the guard
        guarded: dict[str, Any] = {f"key_{name}": row[name] for name in step.key}
        for name, how in computed.items():
            old = row[name]
            guarded[f"old_{name}"] = old
            guarded[f"new_{name}"] = (
                mask(old, how.mask.keep_last)
                if how.mask is not None
                else pseudonym(key, old, getattr(table.c[name].type, "length", None))
            )
        batch.append(guarded)
    return statement, batch


def _levels(plan: Plan) -> list[list[Step]]:
    """The plan's steps by depth: a table found by identities only is at level 0, one linked
    to parents one level below the deepest of them."""
    depth: dict[str, int] = {}
    levels: list[list[Step]] = []
    for step in plan.steps:  # parents come first
        parents = [depth[source.parent] for source in step.sources if source.parent is not None]
        level = depth[step.table] = 1 + max(parents) if parents else 0
        while len(levels) <= level:
            levels.append([])
        levels[level].append(step)
    return levels


def _erasure_reads(step: Step, needed: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    rewrite = step.erasure.rewrite if step.erasure is not None else None
    computed = [name for name, how in (rewrite or {}).items() if how and how.fixed is None]
    wanted = [*step.key, *needed.get(step.table, ()), *computed]
    return tuple(dict.fromkeys(wanted)) or step.reads


def _identify(row: Row, step: Step) -> tuple[Any, ...]:
    if step.key:
        return tuple(row[name] for name in step.key)
    return tuple(sorted(row.items(), key=lambda item: item[0]))


def _coerce(column: Column[Any], values: Iterable[str]) -> list[Any]:
    """Identity values as the column's type holds them; values it cannot hold match nothing."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return sorted(set(values))
    if kind is str:
        return sorted(set(values))
    coerced = set()
    for value in values:
        try:
            coerced.add(kind(value))
        except (TypeError, ValueError, ArithmeticError):
            continue
    return sorted(coerced)


def _reason(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


__all__ = [
    "CHUNK",
    "Found",
    "TableOutcome",
    "Tables",
    "collect",
    "correct",
    "erase",
    "erased_value",
    "mask",
    "pseudonym",
    "residue",
]
