"""Real databases for the integration tests: the embedded SQLite and PostgreSQL.

The same tests run on both (the ``store`` fixture is parametrised). PostgreSQL is found at
``PLEDGE_TEST_POSTGRES_URL`` (default: the loopback server, user postgres, database test);
each test session creates its own database there and drops it at the end. When PostgreSQL is
unreachable the PostgreSQL variants skip with the reason, except under CI (``CI=true``), where
they fail: CI must prove both backends.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from pledge.proof import GENESIS
from pledge.store.database import Database
from pledge.store.tables import audit_head, metadata

POSTGRES_URL = os.environ.get(
    "PLEDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")


def unavailable(reason: str) -> None:
    """Skip, or fail under CI, because a backend the tests need is not there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: both backends must run)", pytrace=False)
    pytest.skip(reason)


def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated; dropped afterwards."""
    admin_url = make_url(POSTGRES_URL)
    name = f"pledge_test_{secrets.token_hex(4)}"
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable at {admin_url.render_as_string()}: {error.orig}")
        return
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    database.upgrade()
    database.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_postgres(url: str) -> Database:
    """The session's PostgreSQL database with every table emptied, as after a fresh upgrade."""
    database = Database(url)
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with database.transaction() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        connection.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS))
    return database


def sqlite_database(folder: Path) -> Database:
    """A new SQLite file in ``folder``, migrated."""
    database = Database(f"sqlite:///{folder / 'pledge.db'}")
    database.upgrade()
    return database
