"""Shape 12: names with spaces, capitals and reserved words, declared as the database spells them.

``"User"`` (a reserved word on PostgreSQL when unquoted, and distinct from ``user`` there),
``"order"`` (reserved everywhere) and ``"Order Details"`` (a space, as in the Northwind sample
database); columns ``"Customer ID"``, ``"Email Address"``, ``"Select"``, ``"Placed On"``. Every
name must be quoted, on every engine, in every statement Pledge writes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    'CREATE TABLE "User" ("Customer ID" INTEGER PRIMARY KEY,'
    ' "Email Address" VARCHAR(200) NOT NULL, "Full Name" VARCHAR(200) NOT NULL,'
    ' "Select" VARCHAR(50))',
    'CREATE TABLE "order" ("id" INTEGER PRIMARY KEY, "Customer ID" INTEGER NOT NULL,'
    ' "Placed On" DATE NOT NULL,'
    ' FOREIGN KEY ("Customer ID") REFERENCES "User" ("Customer ID"))',
    'CREATE TABLE "Order Details" ("Order ID" INTEGER NOT NULL, "Line" INTEGER NOT NULL,'
    ' "Product" VARCHAR(200) NOT NULL, "Gift Message" VARCHAR(500), "Select" VARCHAR(50),'
    ' PRIMARY KEY ("Order ID", "Line"),'
    ' FOREIGN KEY ("Order ID") REFERENCES "order" ("id"))',
]

SEED = [
    'INSERT INTO "User" ("Customer ID", "Email Address", "Full Name", "Select") VALUES'
    " (1, 'ann@example.org', 'Ann Smith', 'premium'),"
    " (2, 'bob@example.org', 'Bob Jones', 'basic')",
    'INSERT INTO "order" ("id", "Customer ID", "Placed On") VALUES'
    " (10, 1, '2026-01-05'), (11, 2, '2026-01-06'), (12, 1, '2026-02-01')",
    'INSERT INTO "Order Details" ("Order ID", "Line", "Product", "Gift Message", "Select")'
    " VALUES (10, 1, 'Kettle', 'Happy birthday, Mum', 'gift wrap'), (10, 2, 'Mug', NULL, NULL),"
    " (11, 1, 'Tea', NULL, NULL), (12, 1, 'Lamp', 'For Ann Smith''s desk', 'express')",
]

KEYS = {
    "User": ("Customer ID",),
    "order": ("id",),
    "Order Details": ("Order ID", "Line"),
}

TABLES = """\
User:
  columns:
    Email Address: {category: contact.email, identity: email}
    Full Name: {category: identity.name}
    Select: {category: account.membership}
  erasure: {strategy: delete}
order:
  columns:
    Placed On: {category: financial.purchase_history}
  erasure: {strategy: delete}
"Order Details":
  columns:
    Product: {category: financial.purchase_history}
    Gift Message: {category: user_content.inputs}
    Select: {category: account.settings}
  erasure: {strategy: delete}
"""

ANN = Person("Ann Smith", "ann@example.org")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL with every name quoted."""
    users = matching(
        connection, 'SELECT "Customer ID", "Email Address" FROM "User"', person.owns_email
    )
    orders = keys(connection, 'SELECT "id" FROM "order" WHERE "Customer ID" IN :ids', ids=users)
    details = keys(
        connection,
        'SELECT "Order ID", "Line" FROM "Order Details" WHERE "Order ID" IN :ids',
        ids=orders,
    )
    return nonempty({"User": users, "order": orders, "Order Details": details})


shop = seeded(SCHEMA, SEED)


def test_the_oracle_finds_anns_rows_under_awkward_names(shop: Company) -> None:
    """The hand-written SQL finds Ann's user row, orders and order details."""
    assert shop.found(theirs, ANN) == {
        "User": {(1,)},
        "order": {(10,), (12,)},
        "Order Details": {(10, 1), (10, 2), (12, 1)},
    }
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == [
        "Order Details.Gift Message",
        "User.Email Address",
        "User.Full Name",
    ]
    assert shop.broken_links() == []


def test_the_declaration_with_names_as_the_database_spells_them_checks_without_errors(
    shop: Company,
) -> None:
    """Spaces, capitals and reserved words are names like any other."""
    assert errors(shop, TABLES) == []


def test_access_reports_tables_and_columns_under_their_own_names(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's report names "User", "order" and "Order Details", with her rows in each."""
    (report,) = access(shop, tmp_path, TABLES, KEYS, theirs, ANN)
    assert {row["Select"] for row in report.rows["User"]} == {"premium"}


def test_erasure_quotes_every_name(shop: Company, tmp_path: Path) -> None:
    """Ann's rows go from all three tables; Bob's stay, byte for byte."""
    erase(shop, tmp_path, TABLES, theirs, ANN)
