"""The corpus's own view of a company database, independent of Pledge.

Fresh databases per engine, schemas and seeds loaded by plain SQL (a shape's ``shop`` fixture
is ``seeded(SCHEMA, SEED)``), and the checks an outsider makes after a request, as methods of
``Company``: a snapshot of every table to compare with, a residue search for the person's
e-mail address, phone number, name and street, and a search for broken links. Nothing here
imports Pledge: what the corpus expects is never what the planner under test says.

The corpus's connections to MariaDB run with ``ANSI_QUOTES``, so the hand-written SQL quotes
names with double quotes on every engine; its SQLite connections enforce foreign keys, so a
seed that breaks a link fails loudly.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
import warnings
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SAWarning
from tests.backends import POSTGRES_URL, unavailable
from tests.cloudwarm import MARIADB_URL

ENGINES = ("sqlite", "postgresql", "mariadb")

Key = tuple[Any, ...]
"""A row's primary key, its values in key order (dates as ISO text, as the report writes them)."""

Rows = dict[str, set[Key]]
"""Rows by table: the keys of the rows of each table."""

Snapshot = dict[str, dict[Key, dict[str, Any]]]
"""Every row of every table, by table and key, each as the driver returned it."""


def plain(value: Any) -> Any:
    """A key value as a report's JSON writes it: dates and times in ISO form, UUIDs as text,
    else as is."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class Company:
    """A company database on one engine, reached by the corpus's own connections."""

    def __init__(self, engine: str, url: str) -> None:
        self.engine = engine
        self.url = url
        self._database: Engine | None = None

    @property
    def database(self) -> Engine:
        """The corpus's engine (created on first use)."""
        if self._database is None:
            self._database = create_engine(self.url)
            if self.engine == "sqlite":
                event.listen(self._database, "connect", _sqlite_foreign_keys)
            elif self.engine == "mariadb":
                # First, so that SQLAlchemy's dialect sees ANSI_QUOTES when it initialises:
                # it then quotes and reads SHOW CREATE TABLE with double quotes too.
                event.listen(self._database, "connect", _ansi_quotes, insert=True)
        return self._database

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading."""
        with self.database.connect() as connection:
            yield connection

    def run(self, statements: Iterable[str]) -> None:
        """Execute ``statements`` (DDL or seed rows) in one transaction."""
        with self.database.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))

    def dispose(self) -> None:
        """Close the corpus's connections."""
        if self._database is not None:
            self._database.dispose()
            self._database = None

    # --- what an outsider checks after a request ---------------------------------------------

    def found(self, oracle: Oracle, person: Person) -> Rows:
        """What ``oracle`` finds of ``person`` here now."""
        with self.read() as connection:
            return oracle(connection, person)

    def snapshot(self) -> Snapshot:
        """Every row of every table, by table and primary key."""
        taken: Snapshot = {}
        with self.read() as connection:
            for table, key in _tables(connection):
                rows = connection.execute(text(f"SELECT * FROM {_quote(connection, table)}"))
                taken[table] = {
                    tuple(plain(row[column]) for column in key): dict(row)
                    for row in rows.mappings()
                }
        return taken

    def residue(
        self,
        person: Person,
        kept: Mapping[str, Collection[Key]] | None = None,
        regions: Mapping[tuple[str, str], str] | None = None,
    ) -> list[str]:
        """Where the person still shows, outside the rows ``kept`` (held or shared): table.column.

        Every text column of every table is searched, personal or not, annotated or not.

        Args:
            person: whom to look for.
            kept: rows by table that may still hold them (a legal hold, a shared address).
            regions: ``(table, column)`` → the country of national numbers there (default DE).
        """
        found: list[str] = []
        with self.read() as connection:
            for table, key in _tables(connection):
                rows = connection.execute(text(f"SELECT * FROM {_quote(connection, table)}"))
                for row in rows.mappings():
                    if tuple(plain(row[column]) for column in key) in (kept or {}).get(table, ()):
                        continue
                    found.extend(
                        f"{table}.{column}"
                        for column, value in row.items()
                        if person.shows_in(value, (regions or {}).get((table, column), "DE"))
                    )
        return sorted(set(found))

    def broken_links(self) -> list[str]:
        """Rows whose foreign key points at no row: by SQLite's own check and by a join per key."""
        broken: list[str] = []
        with self.read() as connection:
            if self.engine == "sqlite":
                broken.extend(
                    f"{row[0]} row {row[1]} → {row[2]}"
                    for row in connection.execute(text("PRAGMA foreign_key_check"))
                )
            inspector = inspect(connection)
            with _unknown_types_quiet():
                links = [
                    (table, link)
                    for table in inspector.get_table_names()
                    for link in inspector.get_foreign_keys(table)
                ]
            for table, link in links:
                orphans = connection.execute(text(_orphans(connection, table, link)))
                if count := orphans.scalar_one():
                    broken.append(f"{table} {link['constrained_columns']}: {count} orphans")
        return broken


@contextmanager
def _unknown_types_quiet() -> Iterator[None]:
    """Inspect tables with columns of types SQLAlchemy does not know (MariaDB's INET6)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Did not recognize type", category=SAWarning)
        yield


def _sqlite_foreign_keys(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _ansi_quotes(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES')")
    cursor.close()


def seeded(*parts: Sequence[str] | Callable[[str], Sequence[str]]) -> Any:
    """A shape's ``shop`` fixture: the ``company`` database with ``parts`` run in order.

    Args:
        parts: schema and seed statements, or a function of the engine (``sqlite``,
            ``postgresql``, ``mariadb``) that returns them, for a shape written per engine.

    Returns:
        The fixture, to be bound to the name ``shop`` in the shape's module.
    """

    def shop(company: Company) -> Company:
        """The shape, created and seeded."""
        company.run(
            statement
            for part in parts
            for statement in (part(company.engine) if callable(part) else part)
        )
        return company

    return pytest.fixture(shop)


# --- fresh databases ---------------------------------------------------------------------------


SERVERS = {
    "postgresql": (
        POSTGRES_URL,
        'CREATE DATABASE "{name}"',
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        "PostgreSQL",
    ),
    "mariadb": (
        MARIADB_URL,
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
        "DROP DATABASE IF EXISTS `{name}`",
        "MariaDB",
    ),
}
"""Where each server is, how a database is created there and dropped, and its name."""


def server_database(engine: str) -> Generator[str, None, None]:
    """The URL of a new, empty database on the ``engine`` server; dropped afterwards.

    An unreachable server skips, or fails under ``CI=true`` (``tests.backends.unavailable``).
    """
    admin_url, create, drop, label = SERVERS[engine]
    admin = create_engine(
        make_url(admin_url), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"pledge_corpus_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(create.format(name=name)))
    except OperationalError as error:
        admin.dispose()
        unavailable(f"{label} is not reachable at {make_url(admin_url)!r}: {error.orig}")
        return
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(drop.format(name=name)))
        admin.dispose()


def emptied_postgres(url: str) -> Company:
    """The PostgreSQL database at ``url``, emptied as if new.

    Every other session to it is ended, and schema ``public`` dropped (tables, partitions,
    collations) and created again.

    Creating a database costs PostgreSQL half a second on a busy machine, emptying one a
    fiftieth: the corpus keeps one for the session and empties it before every test.
    """
    reset = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with reset.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        reset.dispose()
    return Company("postgresql", url)


# --- the oracles' tools ------------------------------------------------------------------------


def keys(connection: Connection, sql: str, **values: Any) -> set[Key]:
    """The rows ``sql`` selects, each as the tuple of its columns (its key, by convention).

    A value that is a collection is bound as a list for ``IN :name``; a collection of
    one-column keys is bound as their values.
    """
    statement = text(sql)
    bound: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, set | frozenset | list | tuple):
            bound[name] = sorted(item[0] if isinstance(item, tuple) else item for item in value)
            statement = statement.bindparams(bindparam(name, expanding=True))
        else:
            bound[name] = value
    return {tuple(plain(item) for item in row) for row in connection.execute(statement, bound)}


def matching(connection: Connection, sql: str, wanted: Callable[[Any], bool]) -> set[Key]:
    """The keys of the rows ``sql`` selects (key columns, then one value) whose value is wanted.

    Identity values are compared here, in Python, not by the database: a case-insensitive
    collation must not decide what the corpus expects.
    """
    return {
        tuple(plain(item) for item in row[:-1])
        for row in connection.execute(text(sql))
        if wanted(row[-1])
    }


def phone_digits(value: Any, region: str = "DE") -> str | None:
    """A phone number as its international digits (``49301234567``), written by hand here.

    ``+49 (0)30 …`` drops the trunk zero, ``0049 …`` the international prefix, and a national
    ``030 …`` takes the country code of ``region`` (DE or US). None for what is not a number.
    """
    if not isinstance(value, str) or not re.fullmatch(r"[\d\s()+./-]{5,}", value.strip()):
        return None
    written = value.strip()
    if written.startswith("+"):
        written = re.sub(r"^\+(\d+)\s*\(0\)", r"+\1", written)
        return re.sub(r"\D", "", written)
    digits = re.sub(r"\D", "", written)
    if digits.startswith("00"):
        return digits[2:]
    if region == "US":
        return "1" + digits if len(digits) == 10 else digits
    if digits.startswith("0"):
        return "49" + digits[1:]
    return None


@dataclass(frozen=True)
class Person:
    """Someone in a company's database, and how to recognise what is left of them.

    Args:
        name: their name as stored (matched as whole words, any case).
        email: their e-mail address, lowercase (matched whole, any case, surrounding spaces
            ignored); empty when they have none.
        phones: their numbers as international digits, e.g. ``49301234567``.
        texts: other values of theirs, found as text in any case: streets, a city only they
            live in, a second e-mail address.
    """

    name: str
    email: str = ""
    phones: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()

    def owns_email(self, value: Any) -> bool:
        """Whether ``value`` is their e-mail address, in any case, spaces around ignored."""
        return bool(self.email) and isinstance(value, str) and value.strip().lower() == self.email

    def owns_phone(self, value: Any, region: str = "DE") -> bool:
        """Whether ``value`` is one of their numbers, however it is spelled."""
        return phone_digits(value, region) in self.phones

    def shows_in(self, value: Any, region: str = "DE") -> bool:
        """Whether a stored value still holds something of theirs."""
        if not isinstance(value, str):
            return False
        lowered = value.lower()
        if self.email and re.search(rf"(?<![\w.+-]){re.escape(self.email)}(?![\w.-])", lowered):
            return True
        if re.search(rf"\b{re.escape(self.name.lower())}\b", lowered):
            return True
        if any(text.lower() in lowered for text in self.texts):
            return True
        return self.owns_phone(value, region)


Oracle = Callable[[Connection, Person], Rows]
"""A shape's hand-written search for a person's rows, on a connection of the corpus's own."""


# --- what the outsider's checks read and compare ----------------------------------------------


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _tables(connection: Connection) -> list[tuple[str, list[str]]]:
    """Every table with its primary-key columns (all columns when it has no key)."""
    inspector = inspect(connection)
    found = []
    with _unknown_types_quiet():
        for table in sorted(inspector.get_table_names()):
            key = inspector.get_pk_constraint(table)["constrained_columns"]
            columns = key or [column["name"] for column in inspector.get_columns(table)]
            found.append((table, columns))
    return found


def changes_to_others(
    before: Snapshot,
    after: Snapshot,
    theirs: Mapping[str, Collection[Key]],
    nulled: Collection[tuple[str, str]] = (),
) -> list[str]:
    """How the rows that are not the person's changed: gone, changed or new (by key, no values).

    Args:
        before: the snapshot before the request.
        after: the snapshot after.
        theirs: the person's rows by table, which may have changed.
        nulled: ``(table, column)`` links the database itself may have set to null (ON DELETE
            SET NULL from a row of the person's that was deleted).
    """
    changes = []
    for table, rows in before.items():
        later = after.get(table, {})
        for key, row in rows.items():
            if key in theirs.get(table, ()):
                continue
            if key not in later:
                changes.append(f"{table} {key}: deleted")
                continue
            for column, value in row.items():
                now = later[key][column]
                if now != value and not ((table, column) in nulled and now is None):
                    changes.append(f"{table} {key}: {column} changed")
        changes.extend(f"{table} {key}: inserted" for key in later.keys() - rows.keys())
    return changes


def _orphans(connection: Connection, table: str, link: Mapping[str, Any]) -> str:
    """SQL that counts the rows of ``table`` whose ``link`` is set and points at no row."""
    child, parent = _quote(connection, table), _quote(connection, link["referred_table"])
    pairs = list(zip(link["constrained_columns"], link["referred_columns"], strict=True))
    present = " AND ".join(f"c.{_quote(connection, mine)} IS NOT NULL" for mine, _ in pairs)
    joined = " AND ".join(
        f"p.{_quote(connection, theirs)} = c.{_quote(connection, mine)}" for mine, theirs in pairs
    )
    return (
        f"SELECT COUNT(*) FROM {child} c WHERE {present}"
        f" AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {joined})"
    )


def nonempty(rows: Mapping[str, Collection[Key]]) -> Rows:
    """``rows`` without the tables where nothing was found."""
    return {table: set(found) for table, found in rows.items() if found}
