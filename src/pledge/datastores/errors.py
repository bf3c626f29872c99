"""The boundary of the company's databases: every driver error becomes a DatastoreError.

A driver's own message may carry the values of the statement (MySQL's ``Duplicate entry
'ann@example.com'``, PostgreSQL's ``DETAIL: Key (email)=(…)``), and a failure reason ends up
in a job row, the audit trail and a staff member's screen. So the reason is rebuilt here from
what the error is (its SQLSTATE or error code) and the names it concerns (constraint, table,
column), never from its text, except the few messages known to hold only names. Whether a
retry may help is decided here too: a lost connection, a lock timeout or a deadlock are
transient; a constraint, a missing table or a bad statement are not.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from pledge.errors import DatastoreError

_DRIVERS = ("psycopg", "psycopg2", "pymysql", "MySQLdb", "sqlite3")
_PG_TRANSIENT = ("08", "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53")
_MYSQL_TRANSIENT = {1040, 1205, 1213, 2002, 2003, 2006, 2013, 2055}
_MYSQL_NAMES_ONLY = {1044, 1045, 1049, 1054, 1142, 1143, 1146, 2002, 2003, 2005}
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "disk i/o error")
_SQLITE_NAMES = re.compile(
    r"^(no such table: \S+|no such column: \S+|(UNIQUE|NOT NULL|CHECK) constraint failed: [\w.,\s]+"
    r"|FOREIGN KEY constraint failed|unable to open database file|database is locked"
    r"|attempt to write a readonly database)$"
)
_MYSQL_CONSTRAINT = re.compile(r"CONSTRAINT `([^`]+)`")
_MYSQL_TABLE = re.compile(r"\(`[^`]+`\.`([^`]+)`")


def translate(error: BaseException, datastore: str) -> BaseException:
    """The error to raise in place of ``error``: a :class:`DatastoreError` with a reason that
    names no value, for any database error; anything else unchanged."""
    if isinstance(error, DatastoreError):
        return error
    original: Any = getattr(error, "orig", None) or error
    if isinstance(error, DisconnectionError | PoolTimeout):
        return DatastoreError(
            f"datastore '{datastore}': the connection was lost or none was free", transient=True
        )
    if not isinstance(error, SQLAlchemyError) and not _from_driver(original):
        return error
    reason, transient = _describe(original)
    return DatastoreError(f"datastore '{datastore}': {reason}", transient=transient)


def _from_driver(error: Any) -> bool:
    return type(error).__module__.split(".")[0] in _DRIVERS


def _describe(error: Any) -> tuple[str, bool]:
    module = type(error).__module__.split(".")[0]
    if module.startswith("psycopg"):
        return _postgres(error)
    if module in ("pymysql", "MySQLdb"):
        return _mysql(error)
    if module == "sqlite3":
        return _sqlite(error)
    return f"the database refused the statement ({type(error).__name__})", False


def _postgres(error: Any) -> tuple[str, bool]:
    state = str(getattr(error, "sqlstate", "") or "")
    diag = getattr(error, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    table = getattr(diag, "table_name", None)
    column = getattr(diag, "column_name", None)
    transient = state.startswith(_PG_TRANSIENT)
    if state == "23503":
        return _foreign_key(constraint, table), False
    if state == "23505":
        return f"a unique constraint refused the change ({constraint or 'unnamed'})", False
    if state == "23502":
        return f"column {table}.{column} does not accept null", False
    if state == "23514":
        return f"a check constraint refused the change ({constraint or 'unnamed'})", False
    if state.startswith(("08", "42", "3D", "28")):
        primary = getattr(diag, "message_primary", None) or type(error).__name__
        return f"{primary} (SQLSTATE {state})", transient
    label = (
        "the database could not carry the statement out now"
        if transient
        else ("the database refused the statement")
    )
    return f"{label} (SQLSTATE {state or 'unknown'}, {type(error).__name__})", transient


def _mysql(error: Any) -> tuple[str, bool]:
    arguments: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    code = arguments[0] if arguments and isinstance(arguments[0], int) else None
    text = str(arguments[1]) if len(arguments) > 1 else ""
    transient = code in _MYSQL_TRANSIENT
    if code in (1216, 1217, 1451, 1452):
        found = _MYSQL_CONSTRAINT.search(text)
        table = _MYSQL_TABLE.search(text)
        return _foreign_key(found[1] if found else None, table[1] if table else None), False
    if code == 1062:
        return "a unique constraint refused the change", False
    if code == 1048:
        column = re.search(r"Column '([^']+)'", text)
        return f"column {column[1] if column else '?'} does not accept null", False
    if code in _MYSQL_NAMES_ONLY:
        return f"{text.splitlines()[0] if text else type(error).__name__} (error {code})", transient
    label = (
        "the database could not carry the statement out now"
        if transient
        else ("the database refused the statement")
    )
    return f"{label} (error {code}, {type(error).__name__})", transient


def _sqlite(error: Any) -> tuple[str, bool]:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    transient = text.lower().startswith(_SQLITE_TRANSIENT)
    if text == "FOREIGN KEY constraint failed":
        return _foreign_key(None, None), False
    kind, _, names = text.partition(" constraint failed: ")
    if names and _SQLITE_NAMES.match(text):
        if kind == "UNIQUE":
            return f"a unique constraint refused the change ({names})", False
        if kind == "NOT NULL":
            return f"column {names} does not accept null", False
        return f"a check constraint refused the change ({names})", False
    if _SQLITE_NAMES.match(text):
        return text, transient
    return f"the database refused the statement ({type(error).__name__})", transient


def _foreign_key(constraint: str | None, table: str | None) -> str:
    named = ", ".join(
        part for part in (f"constraint {constraint}" if constraint else "", table or "") if part
    )
    return (
        "a foreign key refused the change: rows that are not being erased point to the rows"
        " being deleted, or a row points to one that is missing" + (f" ({named})" if named else "")
    )
