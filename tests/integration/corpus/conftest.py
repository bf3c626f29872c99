"""The corpus's databases: an empty company database per test, on SQLite, PostgreSQL, MariaDB.

SQLite gets a new file and MariaDB a new database per test; PostgreSQL, where creating a
database is slow, one database per session, emptied before each test. A server that is not
reachable skips its variants, or fails them under ``CI=true`` (``tests.backends.unavailable``).
A shape that exists on one engine only parametrises ``company`` itself (``indirect=True``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.corpus.harness import ENGINES, Company, emptied_postgres, server_database


@pytest.fixture(scope="session")
def postgres_company_url() -> Iterator[str]:
    """This session's PostgreSQL database for company schemas; dropped at the end."""
    yield from server_database("postgresql")


@pytest.fixture(params=ENGINES)
def company(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Company]:
    """An empty company database, once per engine."""
    if request.param == "sqlite":
        company = Company("sqlite", f"sqlite:///{tmp_path / 'company.db'}")
        try:
            yield company
        finally:
            company.dispose()
    elif request.param == "postgresql":
        company = emptied_postgres(request.getfixturevalue("postgres_company_url"))
        try:
            yield company
        finally:
            company.dispose()
    else:
        database = server_database("mariadb")
        company = Company("mariadb", next(database))
        try:
            yield company
        finally:
            company.dispose()
            database.close()  # drops it
