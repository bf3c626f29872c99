"""The SQL connector: SQLite, PostgreSQL and MySQL/MariaDB through SQLAlchemy.

Statements never carry their parameters into errors or logs (``hide_parameters``), SQLite
enforces foreign keys on Pledge's connections as the schema declares them, and reflection
reads every foreign key that points into the tables a request uses, with its ON DELETE
action; on PostgreSQL, the foreign keys of a partitioned table's partitions count as the
table's own.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    bindparam,
    create_engine,
    event,
    inspect,
    text,
    types,
)
from sqlalchemy import Table as SqlTable
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SAWarning, SQLAlchemyError

from pledge.datastores.errors import translate
from pledge.datastores.model import INTEGER, NUMBER, OTHER, TEXT, Column, ForeignKey, Schema, Table
from pledge.errors import DatastoreError

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONNECT_TIMEOUT = 5  # seconds: an unreachable datastore is an error, not a hang


def expand_url(name: str, template: str, environ: Mapping[str, str] | None = None) -> URL:
    """The URL of datastore ``name`` with its ``${VAR}`` references replaced from the environment.

    Values in the user name and password are taken verbatim (a password may hold ``@`` or
    ``/``); elsewhere they are inserted as written.

    Args:
        name: the datastore's key in the declaration, for messages.
        template: the URL as declared.
        environ: where variables are looked up; default ``os.environ``.

    Raises:
        DatastoreError: a variable is not set, or the URL cannot be parsed.
    """
    environ = os.environ if environ is None else environ
    missing = [var for var in _REFERENCE.findall(template) if var not in environ]
    if missing:
        raise DatastoreError(
            f"datastore '{name}': environment variable {', '.join(dict.fromkeys(missing))}"
            " is not set (the URL refers to it)"
        )

    def substitute(text: str, *, verbatim: bool) -> str:
        def value(match: re.Match[str]) -> str:
            found = environ[match[1]]
            return quote(found, safe="") if verbatim else found

        return _REFERENCE.sub(value, text)

    scheme, separator, rest = template.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        userinfo = substitute(user, verbatim=True) + colon + substitute(password, verbatim=True)
    expanded = f"{scheme}{separator}{userinfo}{at}{substitute(host, verbatim=False)}"
    expanded += slash + substitute(path, verbatim=False)
    try:
        return make_url(expanded)
    except ArgumentError:
        raise DatastoreError(f"datastore '{name}': the URL is not a database URL") from None


def shown(url: URL) -> str:
    """A URL as it may be printed: the password hidden."""
    return url.render_as_string(hide_password=True)


class SqlDatastore:
    """A company database reached through SQLAlchemy.

    Args:
        name: the datastore's key in the declaration.
        url: its URL as declared; ``${VAR}`` references are expanded on first connect.
        environ: where references are looked up; default ``os.environ``.
        pre_ping: check a pooled connection before each use (for a connector kept open long).
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        environ: Mapping[str, str] | None = None,
        pre_ping: bool = False,
    ) -> None:
        self.name = name
        self._pre_ping = pre_ping
        self._template = url
        self._environ = environ
        self._engine: Engine | None = None
        self.metadata: MetaData | None = None
        """The tables as :meth:`reflect` last found them."""

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, created on first use.

        Raises:
            DatastoreError: a referenced variable is unset, or the driver is not installed.
        """
        if self._engine is None:
            url = expand_url(self.name, self._template, self._environ)
            arguments: dict[str, object] = {}
            if url.get_backend_name() in ("postgresql", "mysql", "mariadb"):
                arguments["connect_timeout"] = _CONNECT_TIMEOUT
            try:
                engine = create_engine(
                    url,
                    connect_args=arguments,
                    pool_pre_ping=self._pre_ping,
                    hide_parameters=True,
                )
            except (ArgumentError, NoSuchModuleError) as error:
                raise DatastoreError(f"datastore '{self.name}': {error}") from None
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _enforce_foreign_keys)
            self._engine = engine
        return self._engine

    def reflect(self, only: Iterable[str] | None = None) -> Schema:
        """The tables, columns and foreign keys of the database as it is now.

        Args:
            only: these tables, every table whose foreign keys point into them, and the
                tables they point to (what a job needs); names the database lacks are left
                out, for the plan to report. Every table when not given.

        Raises:
            DatastoreError: the database cannot be reached or read.
        """
        engine = self.engine
        metadata = MetaData()
        try:
            if engine.dialect.name == "sqlite":
                self._refuse_missing_sqlite_file(engine.url)
            with engine.connect() as connection, quiet_reflection():
                inspector = inspect(connection)
                present = set(inspector.get_table_names())
                parents = _partitions(connection)
                if only is None:
                    wanted = sorted(present)
                else:
                    named = {name for name in dict.fromkeys(only) if name in present}
                    named |= _referencing(inspector, named, parents)
                    # a partitioned table's foreign keys are its partitions'
                    named |= {child for child, parent in parents.items() if parent in named}
                    wanted = sorted(named)
                reflect_into(metadata, connection, wanted)
                keys = {
                    table.name: _foreign_keys(connection, table, parents)
                    for table in metadata.tables.values()
                }
            self.metadata = metadata
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            if isinstance(error, ArgumentError | NoSuchModuleError):
                reason = type(error).__name__
            raise DatastoreError(
                f"datastore '{self.name}' is unreachable at {shown(engine.url)}: {reason}",
                transient=True,
            ) from None
        for partition, parent in parents.items():
            if parent in keys and partition in keys:
                keys[parent] = tuple(dict.fromkeys((*keys[parent], *keys.pop(partition))))
        return Schema.of(
            Table(
                name=table.name,
                columns={
                    column.name: Column(
                        column.name,
                        _type_name(column.type),
                        bool(column.nullable),
                        column.primary_key,
                        column_kind(column.type),
                        getattr(column.type, "length", None),
                    )
                    for column in table.columns
                },
                foreign_keys=keys.get(table.name, ()),
            )
            for table in sorted(metadata.tables.values(), key=lambda table: table.name)
            if table.name not in parents
        )

    def fingerprint(self, names: Iterable[str]) -> str:
        """A digest of what a plan of the tables ``names`` depends on: their columns (name,
        type, nullability) and every key and foreign key on or into them. Equal digests mean
        an earlier plan still holds; one catalogue query, far cheaper than reflecting.

        Raises:
            DatastoreError: the database cannot be reached or read.
        """
        engine = self.engine
        wanted = sorted(set(names))
        if engine.dialect.name == "sqlite":
            self._refuse_missing_sqlite_file(engine.url)
        try:
            with engine.connect() as connection:
                dialect = connection.dialect.name
                if dialect == "sqlite":
                    # SQLite counts every change of its schema.
                    found = connection.exec_driver_sql("PRAGMA schema_version").scalar()
                    return f"sqlite:{found}"
                if dialect == "postgresql":
                    query = text(_FINGERPRINT["postgresql"])
                else:
                    query = text(_FINGERPRINT["mysql"]).bindparams(
                        bindparam("names", expanding=True)
                    )
                found = connection.execute(query, {"names": wanted}).scalar()
                return f"{dialect}:{found}"
        except SQLAlchemyError as error:
            raise translate(error, self.name) from None

    def close(self) -> None:
        """Release the engine's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _refuse_missing_sqlite_file(self, url: URL) -> None:
        # SQLite creates a missing file on connect: a typo would "reach" an empty database.
        path = url.database
        memory = not path or path == ":memory:" or path.startswith("file:")
        if not memory and not Path(str(path)).exists():
            raise DatastoreError(
                f"datastore '{self.name}' is unreachable at {shown(url)}: no such file",
                transient=True,
            )


_FINGERPRINT = {
    "postgresql": """
        WITH named AS (
            SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname = ANY(:names)
        )
        SELECT md5(coalesce(string_agg(part, ',' ORDER BY part), '')) FROM (
            SELECT a.attrelid::regclass::text || '.' || a.attname || ':' || a.atttypid::text
                   || ':' || a.atttypmod::text || ':' || a.attnotnull::text AS part
            FROM pg_attribute a
            WHERE a.attrelid IN (SELECT oid FROM named) AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT con.conname || ':' || con.contype::text || ':' || con.conrelid::regclass::text
                   || ':' || con.confrelid::regclass::text || ':' || con.confdeltype::text
                   || ':' || coalesce(con.conkey::text, '')
                   || ':' || coalesce(con.confkey::text, '')
            FROM pg_constraint con
            WHERE con.contype IN ('p', 'u', 'f') AND (
                con.conrelid IN (SELECT oid FROM named) OR con.confrelid IN (SELECT oid FROM named)
                OR con.confrelid IN (
                    SELECT inhparent FROM pg_inherits WHERE inhrelid IN (SELECT oid FROM named)
                )
            )
        ) parts
    """,
    "mysql": """
        SELECT MD5(CONCAT(
            (SELECT COALESCE(GROUP_CONCAT(CONCAT_WS(':', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE,
                IS_NULLABLE, COLUMN_KEY) ORDER BY TABLE_NAME, COLUMN_NAME), '')
             FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN :names),
            '|',
            (SELECT COALESCE(GROUP_CONCAT(CONCAT_WS(':', r.CONSTRAINT_NAME, r.TABLE_NAME,
                r.REFERENCED_TABLE_NAME, r.DELETE_RULE) ORDER BY r.CONSTRAINT_NAME), '')
             FROM information_schema.REFERENTIAL_CONSTRAINTS r
             WHERE r.CONSTRAINT_SCHEMA = DATABASE()
               AND (r.TABLE_NAME IN :names OR r.REFERENCED_TABLE_NAME IN :names))
        ))
    """,
}


def column_kind(kind: types.TypeEngine[Any]) -> str:
    """What a column of SQL type ``kind`` holds: text, integer, number or other."""
    if isinstance(kind, types.String | types.Enum):
        return TEXT
    if isinstance(kind, types.Integer):
        return INTEGER
    if isinstance(kind, types.Numeric):
        return NUMBER
    return OTHER


def _enforce_foreign_keys(connection: Any, _record: Any) -> None:
    # SQLite checks foreign keys only when each connection asks: the schema's own rules
    # (and its ON DELETE actions) then hold for what Pledge changes.
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _partitions(connection: Connection) -> dict[str, str]:
    """On PostgreSQL, each partition's top partitioned table (empty elsewhere)."""
    if connection.dialect.name != "postgresql":
        return {}
    rows = connection.execute(
        text(
            "SELECT child.relname, parent.relname FROM pg_inherits"
            " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
            " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
            " JOIN pg_namespace ON pg_namespace.oid = parent.relnamespace"
            " WHERE parent.relkind = 'p' AND pg_namespace.nspname = current_schema()"
        )
    ).all()
    parent_of = {str(child): str(parent) for child, parent in rows}
    top: dict[str, str] = {}
    for child in parent_of:
        found = parent_of[child]
        while found in parent_of:
            found = parent_of[found]
        top[child] = found
    return top


def _referencing(inspector: Any, named: set[str], parents: Mapping[str, str]) -> set[str]:
    """The tables whose foreign keys point into ``named`` (a partition's counts for its
    partitioned table)."""
    found: set[str] = set()
    for (_, table), keys in inspector.get_multi_foreign_keys().items():
        if any(key["referred_table"] in named for key in keys):
            found.add(table)
            if table in parents:
                found.add(parents[table])
    return found


def _foreign_keys(
    connection: Connection, table: SqlTable, parents: Mapping[str, str]
) -> tuple[ForeignKey, ...]:
    if connection.dialect.name == "sqlite":
        return _sqlite_foreign_keys(connection, table.name)
    return tuple(
        ForeignKey(
            tuple(element.parent.name for element in constraint.elements),
            parents.get(constraint.referred_table.name, constraint.referred_table.name),
            tuple(element.column.name for element in constraint.elements),
            _action(constraint.ondelete),
            constraint.name if isinstance(constraint.name, str) else None,
        )
        for constraint in table.foreign_key_constraints
    )


def _sqlite_foreign_keys(connection: Connection, table: str) -> tuple[ForeignKey, ...]:
    # SQLAlchemy's SQLite reflection misses the ON DELETE of a column's inline REFERENCES;
    # the pragma is what SQLite itself enforces.
    quoted = table.replace('"', '""')
    rows = connection.exec_driver_sql(f'PRAGMA foreign_key_list("{quoted}")').all()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(int(row[0]), []).append(row)
    found = []
    for parts in grouped.values():
        parts.sort(key=lambda row: int(row[1]))
        referred = str(parts[0][2])
        columns = tuple(str(row[3]) for row in parts)
        targets = tuple(str(row[4]) if row[4] is not None else "" for row in parts)
        if not all(targets):
            targets = _primary_key(connection, referred) or targets
        found.append(ForeignKey(columns, referred, targets, _action(str(parts[0][6]))))
    return tuple(found)


def _primary_key(connection: Connection, table: str) -> tuple[str, ...]:
    quoted = table.replace('"', '""')
    rows = connection.exec_driver_sql(f'PRAGMA table_info("{quoted}")').all()
    return tuple(str(row[1]) for row in sorted(rows, key=lambda row: int(row[5])) if row[5])


def _action(action: str | None) -> str | None:
    """An ON DELETE action as declared; None for the default (no action)."""
    if action is None:
        return None
    upper = action.upper()
    return None if upper in ("NO ACTION", "") else upper


def reflect_into(
    metadata: MetaData, bind: Connection | Engine, only: Iterable[str] | None = None
) -> None:
    """Reflect the tables ``only`` (every table when None) into ``metadata``, quietly
    (:func:`quiet_reflection`)."""
    with quiet_reflection():
        metadata.reflect(bind=bind, only=None if only is None else list(only))


@contextmanager
def quiet_reflection() -> Iterator[None]:
    """Within: what SQLAlchemy cannot reflect and Pledge does not need passes without a warning
    (an error where warnings are): a column of a type it does not know (MariaDB's ``INET6``, a
    PostgreSQL extension's type), read untyped as its driver returns it, and an index on an
    expression (the ones docs/declaration.md tells users to create), which a plan never uses."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Did not recognize type", category=SAWarning)
        warnings.filterwarnings(
            "ignore", message="Skipped unsupported reflection of expression", category=SAWarning
        )
        yield


def _type_name(kind: object) -> str:
    try:
        return str(kind)
    except SQLAlchemyError:  # a type that cannot compile without its dialect
        return type(kind).__name__
