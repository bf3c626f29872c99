"""`pledge datastores check` warns (D812) when no index serves an identity column of a large
table as it is compared, and gives the statement that creates one; once it is created, the
warning goes. Asked of the planner itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import pledge
from pledge.datastores.indexes import LARGE
from pledge.datastores.service import UNINDEXED, check

DECLARATION = """\
pledge: 1
controller: {name: Shop, country: DE}
policy: {version: "1", effective_date: 2026-01-01}
purposes:
  provide_service:
    legal_basis: contract
    categories: [contact.email, contact.phone, account.id]
    retention: P30D after account_closed
datastores:
  shop:
    url: URL
    tables:
      members:
        columns:
          email: {category: contact.email, identity: email}
          phone: {category: contact.phone, identity: phone}
          login: {category: account.id, identity: account}
        erasure: {strategy: delete}
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with a members table of more than :data:`LARGE` rows and no index."""
    if request.param == "sqlite":
        found = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        found = request.getfixturevalue("postgres_url")
    engine = create_engine(found)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS members"))
        connection.execute(
            text(
                "CREATE TABLE members (id INTEGER PRIMARY KEY, email VARCHAR(200),"
                " phone VARCHAR(50), login VARCHAR(50))"
            )
        )
        connection.execute(
            text("INSERT INTO members VALUES (:id, :email, :phone, :login)"),
            [
                {"id": n, "email": f"m{n}@example.org", "phone": f"030 {n}", "login": f"m{n}"}
                for n in range(LARGE + 500)
            ],
        )
        if request.param == "postgresql":
            connection.execute(text("ANALYZE members"))
    engine.dispose()
    yield found
    engine = create_engine(found)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE members"))
    engine.dispose()


def _warnings(url: str) -> dict[str, str]:
    (report,) = check(pledge.loads(DECLARATION.replace("URL", url)))
    return {
        finding.path[-1]: finding.message
        for finding in report.findings
        if finding.code == UNINDEXED
    }


def test_each_unserved_identity_column_is_named_with_the_index_to_create(url: str) -> None:
    found = _warnings(url)
    assert set(found) == {"email", "phone", "login"}
    assert "lower(trim(" in found["email"] and "CREATE INDEX" in found["email"]
    assert "replace(" in found["phone"]
    assert "CREATE INDEX" in found["login"] and '("login")' in found["login"]


def test_the_indexes_it_gives_silence_it(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for message in _warnings(url).values():
            connection.execute(text(message.rpartition("create one: ")[2]))
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE members"))
    engine.dispose()
    assert _warnings(url) == {}
