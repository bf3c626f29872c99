"""Rows of the proof tables read as stored, without trusting them.

Verification must name a malformed row, not stop at it. A typed query lets the driver parse
every value, and the first one that does not parse ends the query: a ``seq`` of ``'abc'`` or
an ``occurred_at`` of ``'garbage'`` on SQLite (whose columns hold any value), a timestamp of
``infinity`` on PostgreSQL (which Python's datetime cannot hold), text that is not UTF-8. So
the checks select each column raw (timestamps as text on PostgreSQL) and parse it here,
saying which column of the row is wrong and why.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Integer, LargeBinary, Table, Text, cast, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from pledge.store.tables import UtcDateTime

HASH_COLUMNS = frozenset({"prev_hash", "hash", "consent_root", "audit_hash"})
"""Columns that hold a SHA-256 of the proof: 64 lowercase hex digits."""

_HEX64 = re.compile("[0-9a-f]{64}").fullmatch
_SHOWN = 40  # characters of a malformed value quoted in a finding


class Malformed(ValueError):
    """A stored value that is not what its column holds.

    Caught where it is raised and turned into a finding; ``checks.snapshot`` also raises it
    for SQLite text that is not UTF-8, so that ``verify`` reads the store again, tolerantly.
    """


def shown(value: Any) -> str:
    """A stored value as a finding quotes it: ``repr``, cut short.

    Args:
        value: the value as read.

    Returns:
        At most about 40 characters.
    """
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 1]}…"


def label(value: Any) -> str:
    """A value naming a record (an id, a purpose): as it is when text, else :func:`shown`."""
    return value if type(value) is str else shown(value)


def raw(connection: Connection, column: Column[Any]) -> ColumnElement[Any]:
    """``column`` selected as stored, so that no value can fail while rows are fetched.

    Args:
        connection: the connection the query runs on.
        column: a column of a proof table.

    Returns:
        The column for a ``select``, labelled with its name.
    """
    if isinstance(column.type, UtcDateTime) and connection.dialect.name == "postgresql":
        return cast(column, Text).label(column.name)
    return type_coerce(column, NullType()).label(column.name)


def raw_columns(connection: Connection, table: Table, names: Sequence[str]) -> list[Any]:
    """:func:`raw` for several columns of ``table``, in the order given."""
    return [raw(connection, table.c[name]) for name in names]


Parse = Callable[[Any], Any]


class RowParser:
    """Parses rows selected with :func:`raw_columns` and says what does not parse.

    A row whose values are all of the types a well-formed row has takes a fast path (its
    times converted, its hashes matched); any other is parsed column by column.

    Args:
        connection: the connection the rows come from (its dialect parses timestamps).
        table: the table.
        names: the columns selected, in order.
    """

    def __init__(self, connection: Connection, table: Table, names: Sequence[str]) -> None:
        columns = [table.c[name] for name in names]
        self._columns = [
            (index, column.name, _parser(connection, column), bool(column.nullable))
            for index, column in enumerate(columns)
        ]
        self._well_typed = set(itertools.product(*(_stored_types(column) for column in columns)))
        self._times = [
            (index, parse)
            for index, _, parse, _ in self._columns
            if isinstance(columns[index].type, UtcDateTime)
        ]
        self._hashes = [index for index, name, _, _ in self._columns if name in HASH_COLUMNS]

    def __call__(self, row: Sequence[Any]) -> tuple[list[Any], dict[str, str]]:
        """Parse one row.

        Args:
            row: the row as selected.

        Returns:
            The values (parsed where they parse, as stored where not) and, for each column
            that does not parse, why: ``{"seq": "'abc' is not a whole number"}``.
        """
        if tuple(map(type, row)) in self._well_typed:
            values = list(row)
            try:
                for index, parse in self._times:
                    if values[index] is not None:
                        values[index] = parse(values[index])
                for index in self._hashes:
                    if _HEX64(values[index]) is None:
                        raise Malformed("is not a SHA-256")
                return values, {}
            except Malformed:
                pass
        return self._one_by_one(row)

    def _one_by_one(self, row: Sequence[Any]) -> tuple[list[Any], dict[str, str]]:
        values = list(row)
        complaints: dict[str, str] = {}
        for index, name, parse, nullable in self._columns:
            value = values[index]
            if value is None:
                if not nullable:
                    complaints[name] = "is missing"
                continue
            try:
                values[index] = parse(value)
            except Malformed as error:
                complaints[name] = f"{shown(value)} {error}"
        return values, complaints


def _stored_types(column: Column[Any]) -> tuple[type, ...]:
    """The Python types a well-formed value of ``column`` is read as (raw, see :func:`raw`)."""
    kind = column.type
    found: type = str  # text, hashes, and times (SQLite's text, PostgreSQL's cast)
    if isinstance(kind, Integer):
        found = int
    elif isinstance(kind, LargeBinary):
        found = bytes
    return (found, type(None)) if column.nullable else (found,)


def malformed(complaints: dict[str, str]) -> str:
    """Complaints as one finding: ``malformed: seq 'abc' is not a whole number; …``."""
    return "malformed: " + "; ".join(f"{name} {why}" for name, why in complaints.items())


def _parser(connection: Connection, column: Column[Any]) -> Parse:
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return _moment(connection)
    if isinstance(kind, Integer):
        return whole_number
    if isinstance(kind, LargeBinary):
        return _bytes
    if column.name in HASH_COLUMNS:
        return sha256_hex
    return _text


def whole_number(value: Any) -> int:
    """``value`` if it is a whole number (not a boolean).

    Raises:
        Malformed: anything else.
    """
    if type(value) is int:
        return value
    raise Malformed("is not a whole number")


def _text(value: Any) -> str:
    """``value`` if it is text.

    Raises:
        Malformed: anything else (bytes that are not UTF-8 included).
    """
    if type(value) is str:
        return value
    raise Malformed("is not text")


def sha256_hex(value: Any) -> str:
    """``value`` if it is a SHA-256 as the proof writes it: 64 lowercase hex digits.

    Raises:
        Malformed: anything else, such as a hash of the wrong length.
    """
    if type(value) is str and _HEX64(value):
        return value
    raise Malformed("is not a SHA-256 (64 lowercase hex digits)")


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise Malformed("is not binary data")


def json_object(value: Any) -> dict[str, Any]:
    """The JSON object that ``value``, text, holds.

    Raises:
        Malformed: not text, not JSON, or JSON that is not an object.
    """
    if type(value) is not str:
        raise Malformed("is not text")
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise Malformed(f"is not JSON ({error.args[0] if error.args else error})") from None
    if not isinstance(parsed, dict):
        raise Malformed("is JSON but not an object")
    return parsed


def _moment(connection: Connection) -> Parse:
    if connection.dialect.name == "postgresql":
        return _moment_from_text
    impl = UtcDateTime().dialect_impl(connection.dialect)
    process = impl.result_processor(connection.dialect, None)
    assert process is not None, "UtcDateTime always processes what it reads"

    def moment(value: Any) -> dt.datetime:
        try:
            parsed = process(value)
        except (ValueError, TypeError, OverflowError):
            raise Malformed("is not a time") from None
        if not isinstance(parsed, dt.datetime):
            raise Malformed("is not a time")
        return parsed

    return moment


def _moment_from_text(value: Any) -> dt.datetime:
    """A ``timestamptz`` as PostgreSQL writes it in text (ISO, UTC: see ``checks.snapshot``).

    ``infinity`` and years past 9999 are valid there and not in Python: malformed here.
    """
    if type(value) is not str:
        raise Malformed("is not a time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Malformed("is not a time Pledge can have written") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
