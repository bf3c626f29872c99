"""Datastore annotations: loading them, and checking them against a schema (in-memory fake)."""

from __future__ import annotations

import pytest

import pledge
from pledge.datastores import Column, ForeignKey, Schema, Table, check, validate
from pledge.errors import DatastoreError, DeclarationError
from pledge.testing import InMemoryDatastores

HEAD = """\
pledge: 1
controller: {name: Heatwise, country: DE}
policy: {version: "1.0", effective_date: 2025-07-01}
purposes:
  provide_service:
    legal_basis: contract
    categories: [contact.email, identity.name]
    retention: P30D after account_closed
datastores:
  app:
    url: URL
    tables:
      users:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: delete}
"""


def declaration(extra: str = "", url: str = "sqlite:///app.db") -> pledge.Declaration:
    """The small declaration above, with ``extra`` lines appended under ``tables``."""
    return pledge.loads(HEAD.replace("URL", url) + extra)


def table(name: str, *columns: str, keys: tuple[ForeignKey, ...] = ()) -> Table:
    """A reflected table with text columns."""
    return Table(name, {column: Column(column) for column in columns}, keys)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://app:secret@db/app",
        "mysql+pymysql://root:${X}suffix@db/app",
        "postgresql://app@db/app?sslmode=require&password=secret",
    ],
)
def test_a_literal_password_is_refused_at_its_line(url: str) -> None:
    """E113 points at the URL; the message says how to refer to a variable instead."""
    with pytest.raises(DeclarationError) as raised:
        declaration(url=url)
    (finding,) = raised.value.findings
    assert (finding.code, finding.line, finding.column) == ("E113", 11, 10)
    assert "${DB_PASSWORD}" in finding.message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://app:${DB_PASSWORD}@db/app",
        "mariadb+pymysql://root@127.0.0.1/test",
        "sqlite:///relative.db",
        "postgresql://app@db/app?password=${DB_PASSWORD}",
    ],
)
def test_urls_without_literal_secrets_load(url: str) -> None:
    """References, password-less URLs and SQLite files are accepted."""
    assert declaration(url=url).datastores["app"].url == url


def test_an_unknown_database_is_refused() -> None:
    """Only SQLite, PostgreSQL and MySQL/MariaDB URLs are datastores."""
    with pytest.raises(DeclarationError, match="is not a database URL"):
        declaration(url="oracle://db/app")


def test_an_undeclared_category_in_a_column_is_e109() -> None:
    """Column categories are references to the taxonomy like any other."""
    text = HEAD.replace("URL", "sqlite:///app.db").replace(
        "{category: contact.email, identity", "{category: contact.mail, identity"
    )
    with pytest.raises(DeclarationError) as raised:
        pledge.loads(text)
    assert [(f.code, f.line) for f in raised.value.findings] == [("E109", 15)]
    assert "did you mean 'contact.email'?" in raised.value.findings[0].message


def test_declared_many_to_many_and_self_references_reach_tables() -> None:
    """Declared relations link tables without foreign keys, in both directions."""
    extra = """\
      memberships:
        columns:
          role: {category: identity.name}
        erasure: {strategy: delete}
        relations:
          - {column: user_email, references: users.email}
          - {column: team_id, references: teams.id}
      teams:
        columns:
          title: {category: identity.name}
        erasure: {strategy: delete}
        relations:
          - {column: parent_id, references: teams.id}
"""
    schema = Schema.of(
        [
            table("users", "email"),
            table("memberships", "user_email", "team_id", "role"),
            table("teams", "id", "parent_id", "title"),
        ]
    )
    assert validate(declaration(extra), "app", schema) == []


def test_reflected_foreign_keys_are_followed_upwards_too() -> None:
    """A parent reached only through its child's foreign key is still reached."""
    extra = """\
      homes:
        columns:
          street: {category: identity.name}
        erasure: {strategy: delete}
"""
    users = table("users", "email", "home_id", keys=(ForeignKey(("home_id",), "homes", ("id",)),))
    schema = Schema.of([users, table("homes", "id", "street")])
    assert validate(declaration(extra), "app", schema) == []


def test_nulling_a_not_null_column_is_reported() -> None:
    """Erasure must not write null where the database refuses it."""
    extra = """\
      profiles:
        columns:
          name: {category: identity.name, identity: account}
        erasure: {strategy: rewrite, rewrite: {name: null}}
"""
    schema = Schema.of(
        [table("users", "email"), Table("profiles", {"name": Column("name", nullable=False)})]
    )
    findings = validate(declaration(extra), "app", schema)
    assert [(f.code, f.line) for f in findings] == [("D804", 20)]


def test_check_uses_any_connector_and_closes_it() -> None:
    """The in-memory fake stands in for a real database; unreachable ones raise."""
    fakes = InMemoryDatastores({"app": Schema.of([table("users", "email")])})
    reports = check(declaration(), connect=fakes.connect)
    assert [(r.name, r.tables, r.findings) for r in reports] == [("app", 1, ())]
    assert fakes.opened["app"].closed

    with pytest.raises(DatastoreError, match="unreachable"):
        check(declaration(), connect=InMemoryDatastores({}).connect)
