"""The statements a plan runs in a SQL datastore, built once per table and reused.

Every statement is set-based: one ``SELECT … WHERE c0 IN (…) OR c1 IN (…)`` per table and
round, one ``DELETE`` or ``UPDATE`` per table. A condition compares a column as its identity
matching says (``lower(trim(email))``, the digits of a phone number) or, for a composite link,
a tuple of columns. On PostgreSQL a single-column list is one array parameter (``= ANY(:p0)``),
so that a statement's text never changes with the number of values: it is compiled once and
statements that do not depend on one another go out together in one pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    MetaData,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.dml import Delete, Update

from pledge.datastores import matching
from pledge.datastores.errors import translate
from pledge.datastores.model import TEXT
from pledge.datastores.sql import column_kind, reflect_into
from pledge.declaration.datastores import MatchKind

CHUNK = 2000
"""The most values one statement carries; more are split over several statements."""

COUNTED_UP_TO = 1000
"""Rows an erasure keeps are counted up to here and no further ("more than 1,000"): what an
erasure costs does not grow with the rows it keeps."""

Row = dict[str, Any]
Statement = Select[Any] | Delete | Update
_S = TypeVar("_S", Select[Any], Delete, Update)


@dataclass(frozen=True, slots=True)
class Condition:
    """Rows whose ``columns`` equal one of a list of values, compared as ``match`` says.

    ``region`` (phone numbers stored without a country code) shapes the values looked for,
    not the statement.
    """

    columns: tuple[str, ...]
    match: MatchKind = MatchKind.EXACT
    region: str | None = field(default=None, compare=False)


Lookup = tuple[tuple[Condition, ...], dict[str, list[Any]]]
"""Conditions (for :meth:`Tables.clause`) and their values as ``p0``, ``p1`` …"""


def lookups(parts: Sequence[tuple[Condition, list[Any]]]) -> Iterator[Lookup]:
    """The lookups of ``parts`` (each a condition and its values, empty ones left out): one,
    or one per chunk of :data:`CHUNK` values."""
    parts = [(condition, values) for condition, values in parts if values]
    if not parts:
        return
    if sum(len(values) for _, values in parts) <= CHUNK:
        yield (
            tuple(condition for condition, _ in parts),
            {f"p{index}": values for index, (_, values) in enumerate(parts)},
        )
        return
    for condition, values in parts:
        for start in range(0, len(values), CHUNK):
            yield (condition,), {"p0": values[start : start + CHUNK]}


class Tables:
    """The SQLAlchemy tables a plan uses, reflected once, with its statements.

    Args:
        connection: reflects the tables, unless ``metadata`` already holds them.
        names: the tables.
        datastore: the datastore's name, for messages.
        metadata: tables reflected before (:attr:`SqlDatastore.metadata`).
    """

    def __init__(
        self,
        connection: Connection,
        names: Iterable[str],
        datastore: str,
        metadata: MetaData | None = None,
    ) -> None:
        wanted = list(dict.fromkeys(names))
        if metadata is None or any(name not in metadata.tables for name in wanted):
            metadata = MetaData()
            try:
                reflect_into(metadata, connection, wanted)
            except SQLAlchemyError as error:
                raise translate(error, datastore) from None
        self.datastore = datastore
        self._tables = {name: metadata.tables[name] for name in wanted}
        self.dialect = connection.dialect.name
        self.arrays = self.dialect == "postgresql"
        self._clauses: dict[tuple[Any, ...], ColumnElement[bool]] = {}
        self._statements: dict[tuple[Any, ...], Any] = {}
        self._compiled: dict[int, Compiled] = {}
        self._expanding: set[int] = set()
        self._pipeline_supported: bool | None = None

    def __getitem__(self, name: str) -> Table:
        return self._tables[name]

    def kind(self, table: str, column: str) -> str:
        """What ``table.column`` holds: text, integer, number or other."""
        return column_kind(self._tables[table].c[column].type)

    def clause(self, table: str, conditions: tuple[Condition, ...]) -> ColumnElement[bool]:
        """``c0 IN :p0 OR c1 IN :p1 …`` over ``conditions``, built once and reused."""
        key = (table, conditions)
        found = self._clauses.get(key)
        if found is None:
            found = or_(
                *(
                    self._match(table, condition, index)
                    for index, condition in enumerate(conditions)
                )
            )
            self._clauses[key] = found
        return found

    def select(
        self, table: str, wanted: tuple[str, ...], conditions: tuple[Condition, ...]
    ) -> Select[Any]:
        """``SELECT wanted FROM table WHERE`` :meth:`clause`."""
        source = self._tables[table]
        return self._cached(
            ("select", table, wanted, conditions),
            lambda: select(*(source.c[name] for name in wanted)).where(
                self.clause(table, conditions)
            ),
            conditions,
        )

    def count(self, table: str, conditions: tuple[Condition, ...]) -> Select[Any]:
        """How many rows of ``table`` :meth:`clause` finds, counted up to one more than
        :data:`COUNTED_UP_TO`."""
        source = self._tables[table]
        return self._cached(
            ("count", table, conditions),
            lambda: _counted(select(source).where(self.clause(table, conditions))),
            conditions,
        )

    def count_below(self, chain: Sequence[tuple[str, Condition, tuple[str, ...]]]) -> Select[Any]:
        """How many rows the last table of ``chain`` holds (up to one more than
        :data:`COUNTED_UP_TO`), each table's rows found by the values of the one before it in a
        subquery, the first by ``p0``: the rows a table holds under kept rows, counted without
        reading a key of them.

        Args:
            chain: from the top: a table, its condition (its columns, compared with the values
                of the previous table), and the columns the next table is found by.
        """
        key = ("count_below", tuple((table, condition) for table, condition, _ in chain))

        def build() -> Select[Any]:
            table, condition, wanted = chain[0]
            found: Any = select(*(self._tables[table].c[name] for name in wanted)).where(
                self.clause(table, (condition,))
            )
            for table, condition, wanted in chain[1:]:
                source = self._tables[table]
                columns = [source.c[name] for name in condition.columns]
                within = columns[0].in_(found) if len(columns) == 1 else tuple_(*columns).in_(found)
                if wanted:
                    found = select(*(source.c[name] for name in wanted)).where(within)
                else:
                    found = _counted(select(source).where(within))
            return cast(Select[Any], found)

        return self._cached(key, build, (chain[0][1],))

    def delete(self, table: str, conditions: tuple[Condition, ...]) -> Statement:
        """``DELETE FROM table WHERE`` :meth:`clause`."""
        return self._cached(
            ("delete", table, conditions),
            lambda: delete(self._tables[table]).where(self.clause(table, conditions)),
            conditions,
        )

    def update(
        self, table: str, conditions: tuple[Condition, ...], values: Mapping[str, Any]
    ) -> Statement:
        """``UPDATE table SET values WHERE`` :meth:`clause`, built once per set of columns;
        the new values are parameters ``set_<column>``."""
        return self._cached(
            ("update", table, conditions, tuple(values)),
            lambda: (
                update(self._tables[table])
                .where(self.clause(table, conditions))
                .values({name: bindparam(f"set_{name}") for name in values})
            ),
            conditions,
        )

    def rewrite_rows(self, table: str, key: Sequence[str], columns: tuple[str, ...]) -> Statement:
        """``UPDATE table SET c = :new_c … WHERE key = :key_k … AND c = :old_c …``: one row's
        masks and pseudonyms, guarded by its old values, so that a second run changes
        nothing."""
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
            (),
        )

    def fetch(
        self, connection: Connection, statement: Statement, parameters: Mapping[str, Any]
    ) -> list[Row]:
        """The rows of a cached ``SELECT``, as dicts."""
        return self.fetch_many(connection, [(statement, parameters)])[0]

    def write(
        self, connection: Connection, statement: Statement, parameters: Mapping[str, Any]
    ) -> int:
        """Run a cached ``DELETE`` or ``UPDATE``; how many rows it changed."""
        return self.write_many(connection, [(statement, parameters)])[0]

    def fetch_many(
        self, connection: Connection, batch: Sequence[tuple[Statement, Mapping[str, Any]]]
    ) -> list[list[Row]]:
        """The rows of several cached ``SELECT``\\ s whose parameters do not depend on one
        another: on PostgreSQL sent together in one pipeline (one round trip), in order."""
        try:
            if len(batch) < 2 or not self._pipelined(connection, batch):
                return [self._fetch(connection, statement, values) for statement, values in batch]
            raw = connection.connection.dbapi_connection
            with raw.pipeline() as pipeline:  # type: ignore[union-attr]
                cursors = [self._run(connection, statement, values) for statement, values in batch]
                pipeline.sync()  # every result is in: descriptions and rows can be read
                return [_rows(cursor) for cursor in cursors]
        except Exception as error:
            raise translate(error, self.datastore) from None

    def write_many(
        self, connection: Connection, batch: Sequence[tuple[Statement, Mapping[str, Any]]]
    ) -> list[int]:
        """Run several cached ``DELETE``\\ s or ``UPDATE``\\ s in order; the rows each changed.
        On PostgreSQL they are sent together in one pipeline (one round trip)."""
        try:
            if len(batch) < 2 or not self._pipelined(connection, batch):
                return [self._write(connection, statement, values) for statement, values in batch]
            with connection.connection.dbapi_connection.pipeline():  # type: ignore[union-attr]
                cursors = [self._run(connection, statement, values) for statement, values in batch]
            try:
                return [int(cursor.rowcount) for cursor in cursors]
            finally:
                for cursor in cursors:
                    cursor.close()
        except Exception as error:
            raise translate(error, self.datastore) from None

    def execute_many(
        self, connection: Connection, statement: Statement, rows: list[dict[str, Any]]
    ) -> None:
        """Run one cached statement for many rows of parameters (``executemany``)."""
        if not rows:
            return
        try:
            connection.execute(statement, rows)
        except SQLAlchemyError as error:
            raise translate(error, self.datastore) from None

    # --- internals --------------------------------------------------------------------------

    def _pipelined(
        self, connection: Connection, batch: Sequence[tuple[Statement, Mapping[str, Any]]]
    ) -> bool:
        if not self.arrays or any(id(statement) in self._expanding for statement, _ in batch):
            return False
        if self._pipeline_supported is None:
            import psycopg

            raw = connection.connection.dbapi_connection
            self._pipeline_supported = isinstance(raw, psycopg.Connection) and bool(
                psycopg.Pipeline.is_supported()
            )
        return self._pipeline_supported

    def _fetch(
        self, connection: Connection, statement: Statement, parameters: Mapping[str, Any]
    ) -> list[Row]:
        if not self.arrays or id(statement) in self._expanding:
            return [dict(row) for row in connection.execute(statement, parameters).mappings()]
        return _rows(self._run(connection, statement, parameters))

    def _write(
        self, connection: Connection, statement: Statement, parameters: Mapping[str, Any]
    ) -> int:
        if not self.arrays or id(statement) in self._expanding:
            return int(connection.execute(statement, parameters).rowcount)
        cursor = self._run(connection, statement, parameters)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _cached(
        self, key: tuple[Any, ...], build: Callable[[], _S], conditions: tuple[Condition, ...]
    ) -> _S:
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = build()
            if not self.arrays:
                self._expanding.add(id(found))
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
        values = {**compiled.params, **parameters}
        for name, rows in parameters.items():
            if f"{name}_0" in compiled.params:  # a composite key's rows, one array per column
                for index, column in enumerate(zip(*rows, strict=True) if rows else ()):
                    values[f"{name}_{index}"] = list(column)
                del values[name]
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.string, values)
        except BaseException:
            cursor.close()
            raise
        return cursor

    def _match(self, table: str, condition: Condition, index: int) -> ColumnElement[bool]:
        source = self._tables[table]
        name = f"p{index}"
        if len(condition.columns) > 1:
            columns = [source.c[column] for column in condition.columns]
            if self.arrays:
                # One array per column, zipped back into rows on the server: the statement's
                # text stays the same, so it too goes out in pipelines.
                arrays = [
                    func.unnest(bindparam(f"{name}_{index}", type_=ARRAY(_element(column))))
                    for index, column in enumerate(columns)
                ]
                return tuple_(*columns).in_(select(*arrays))
            return tuple_(*columns).in_(bindparam(name, expanding=True))
        column = source.c[condition.columns[0]]
        kind = column_kind(column.type)
        target = matching.expression(column, condition.match, kind)
        if self.arrays:
            # Text values go as plain text (a column's own collation would clash with the byte
            # comparison beside it); other values in the column's type.
            values = bindparam(name, type_=ARRAY(_element(column)))
            found = target == any_(values)
            if kind == TEXT:
                found = and_(found, matching.exactly(target, self.dialect) == any_(values))
            return found
        values = bindparam(name, expanding=True)
        if kind == TEXT:
            return and_(target.in_(values), matching.exactly(target, self.dialect).in_(values))
        return target.in_(values)


def _counted(rows: Select[Any]) -> Select[Any]:
    """``SELECT count(*)`` of ``rows``, which stops once it has passed :data:`COUNTED_UP_TO`."""
    first = rows.with_only_columns(literal_column("1")).limit(COUNTED_UP_TO + 1).subquery()
    return select(func.count().label("rows")).select_from(first)


def _element(column: Any) -> Any:
    """The type of an array of the column's values: text goes as plain text (a column's own
    collation would clash with the byte comparison beside it), the rest in the column's type."""
    return String() if column_kind(column.type) == TEXT else column.type


def _rows(cursor: Any) -> list[Row]:
    try:
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()
