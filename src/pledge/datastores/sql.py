"""The SQL connector: SQLite, PostgreSQL and MySQL/MariaDB through SQLAlchemy."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, MetaData, create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from pledge.datastores.model import Column, ForeignKey, Schema, Table
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
                self._engine = create_engine(
                    url, connect_args=arguments, pool_pre_ping=self._pre_ping
                )
            except (ArgumentError, NoSuchModuleError) as error:
                raise DatastoreError(f"datastore '{self.name}': {error}") from None
        return self._engine

    def reflect(self, only: Iterable[str] | None = None) -> Schema:
        """The tables, columns and foreign keys of the database as it is now.

        Args:
            only: just these tables (and those their foreign keys refer to), as a job needs;
                names the database lacks are left out, for the plan to report. Every table
                when not given.

        Raises:
            DatastoreError: the database cannot be reached or read.
        """
        engine = self.engine
        metadata = MetaData()
        try:
            if engine.dialect.name == "sqlite":
                self._refuse_missing_sqlite_file(engine.url)
            if only is None:
                metadata.reflect(bind=engine)
            else:
                with engine.connect() as connection:
                    present = set(inspect(connection).get_table_names())
                    wanted = [name for name in dict.fromkeys(only) if name in present]
                    metadata.reflect(bind=connection, only=wanted)
            self.metadata = metadata
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise DatastoreError(
                f"datastore '{self.name}' is unreachable at {shown(engine.url)}: {reason}"
            ) from None
        return Schema.of(
            Table(
                name=table.name,
                columns={
                    column.name: Column(
                        column.name,
                        _type_name(column.type),
                        bool(column.nullable),
                        column.primary_key,
                    )
                    for column in table.columns
                },
                foreign_keys=tuple(
                    ForeignKey(
                        tuple(element.parent.name for element in constraint.elements),
                        constraint.referred_table.name,
                        tuple(element.column.name for element in constraint.elements),
                    )
                    for constraint in table.foreign_key_constraints
                ),
            )
            for table in metadata.sorted_tables
        )

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
                f"datastore '{self.name}' is unreachable at {shown(url)}: no such file"
            )


def _type_name(kind: object) -> str:
    try:
        return str(kind)
    except SQLAlchemyError:  # a type that cannot compile without its dialect
        return type(kind).__name__
