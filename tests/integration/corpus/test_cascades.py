"""Shape 10: ON DELETE CASCADE and ON DELETE SET NULL in the company's schema.

Orders cascade from their customer and order items from their order: erasing Ann may lean on
the cascade, which takes her rows only. Customers name their account manager with ON DELETE
SET NULL: erasing Sam, who manages Ann and Bob, deletes his staff row and lets the database
null their ``account_manager_id``, the only change to their rows.

Two variants a plan must refuse, by check from the schema alone and at run time, changing
nothing: staff notes about customers that cascade from their author (erasing Sam would delete
notes about Bob), and invoices under a legal hold that cascade from their customer (erasing
Ann would delete what the law makes the shop keep).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import assert_refused, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE staff (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL)",
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL, account_manager_id INTEGER,"
    " FOREIGN KEY (account_manager_id) REFERENCES staff (id) ON DELETE SET NULL)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
    " placed_on DATE NOT NULL, total NUMERIC(10, 2) NOT NULL,"
    " FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE)",
    "CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL,"
    " product VARCHAR(200) NOT NULL, gift_message VARCHAR(500),"
    " FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE)",
]

SEED = [
    "INSERT INTO staff (id, email, name) VALUES"
    " (1, 'sam@shop.example', 'Sam Staff'), (2, 'kim@shop.example', 'Kim Keller')",
    "INSERT INTO customers (id, email, name, account_manager_id) VALUES"
    " (10, 'ann@example.org', 'Ann Smith', 1), (11, 'bob@example.org', 'Bob Jones', 1),"
    " (12, 'cem@example.org', 'Cem Yilmaz', 2)",
    "INSERT INTO orders (id, customer_id, placed_on, total) VALUES"
    " (100, 10, '2026-01-02', 20.00), (101, 10, '2026-02-03', 35.50),"
    " (102, 11, '2026-01-20', 12.00), (103, 12, '2026-03-01', 8.00)",
    "INSERT INTO order_items (id, order_id, product, gift_message) VALUES"
    " (1000, 100, 'Kettle', 'For Mum, from Ann Smith'), (1001, 100, 'Mug', NULL),"
    " (1002, 101, 'Tea', NULL), (1003, 102, 'Lamp', NULL), (1004, 103, 'Vase', NULL)",
]

NOTES = [
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
    " author_id INTEGER NOT NULL, body TEXT NOT NULL,"
    " FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,"
    " FOREIGN KEY (author_id) REFERENCES staff (id) ON DELETE CASCADE)",
    "INSERT INTO notes (id, customer_id, author_id, body) VALUES"
    " (50, 10, 1, 'Prefers e-mail'), (51, 11, 1, 'Called about a late delivery'),"
    " (52, 12, 2, 'Asked for a catalogue')",
]
"""Notes about customers by their author: erasing the author would cascade into them."""

INVOICES = [
    "CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
    " number VARCHAR(20) NOT NULL, amount NUMERIC(10, 2) NOT NULL,"
    " FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE)",
    "INSERT INTO invoices (id, customer_id, number, amount) VALUES"
    " (70, 10, 'INV-2026-001', 55.50), (71, 11, 'INV-2026-002', 12.00)",
]
"""Invoices under a legal hold that cascade from their customer."""

TABLES = """\
staff:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
orders:
  columns:
    placed_on: {category: financial.purchase_history}
    total: {category: financial.purchase_history}
  erasure: {strategy: delete}
order_items:
  columns:
    product: {category: financial.purchase_history}
    gift_message: {category: user_content.inputs}
  erasure: {strategy: delete}
"""

WITH_NOTES = (
    TABLES
    + """\
notes:
  columns:
    body: {category: user_content.inputs}
  erasure: {strategy: delete}
  relations:
    - {column: author_id, references: staff.id, follow: false}
"""
)

WITH_INVOICES = (
    TABLES
    + """\
invoices:
  columns:
    number: {category: financial.invoices}
    amount: {category: financial.invoices}
  erasure: {strategy: delete}
  legal_hold: {retain: P10Y, after: transaction, reason: Accounting law keeps invoices ten years.}
"""
)

ANN = Person("Ann Smith", "ann@example.org")
SAM = Person("Sam Staff", "sam@shop.example")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL (not counting the variants' tables)."""
    customers = matching(connection, "SELECT id, email FROM customers", person.owns_email)
    orders = keys(connection, "SELECT id FROM orders WHERE customer_id IN :ids", ids=customers)
    return nonempty(
        {
            "staff": matching(connection, "SELECT id, email FROM staff", person.owns_email),
            "customers": customers,
            "orders": orders,
            "order_items": keys(
                connection, "SELECT id FROM order_items WHERE order_id IN :ids", ids=orders
            ),
        }
    )


shop = seeded(SCHEMA, SEED)  # without the variants' tables


def test_the_oracle_finds_the_rows_a_cascade_would_take(shop: Company) -> None:
    """The hand-written SQL finds Ann's customer row, orders and items, and Sam's staff row."""
    assert shop.found(theirs, ANN) == {
        "customers": {(10,)},
        "orders": {(100,), (101,)},
        "order_items": {(1000,), (1001,), (1002,)},
    }
    assert shop.found(theirs, SAM) == {"staff": {(1,)}}
    # The residue search sees the people where the seed put them.
    assert shop.residue(ANN) == ["customers.email", "customers.name", "order_items.gift_message"]
    assert shop.residue(SAM) == ["staff.email", "staff.name"]
    shop.run([*NOTES, *INVOICES])  # the variants load too
    assert shop.broken_links() == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """Cascades that only take the person's rows, and SET NULL from others, are no error."""
    assert errors(shop, TABLES) == []


def test_a_customers_erasure_may_cascade_into_their_own_rows(shop: Company, tmp_path: Path) -> None:
    """Ann's customer row, orders and items go; nobody else's row changes."""
    erase(shop, tmp_path, TABLES, theirs, ANN)


def test_a_staff_erasure_lets_the_database_null_the_customers_link_to_them(
    shop: Company, tmp_path: Path
) -> None:
    """Sam's row goes; Ann's and Bob's account_manager_id become null, nothing else changes."""
    after = erase(
        shop, tmp_path, TABLES, theirs, SAM, nulled={("customers", "account_manager_id")}
    ).after
    assert (1,) not in after["staff"]
    assert [after["customers"][(id,)]["account_manager_id"] for id in (10, 11, 12)] == [
        None,
        None,
        2,
    ]


def test_a_cascade_into_other_peoples_rows_is_refused(shop: Company, tmp_path: Path) -> None:
    """Deleting Sam would cascade into notes about Bob: a D error, and the request fails."""
    shop.run(NOTES)
    found = errors(shop, WITH_NOTES)
    assert any(problem.has_d_code and problem.table in ("staff", "notes") for problem in found), (
        found
    )
    assert_refused(shop, tmp_path, WITH_NOTES, ("erasure", SAM), naming=("notes",))


def test_a_cascade_into_rows_under_a_legal_hold_is_refused(shop: Company, tmp_path: Path) -> None:
    """Deleting Ann would cascade into her held invoices: a D error, and the request fails."""
    shop.run(INVOICES)
    found = errors(shop, WITH_INVOICES)
    assert any(
        problem.has_d_code and problem.table in ("customers", "invoices") for problem in found
    ), found
    assert_refused(shop, tmp_path, WITH_INVOICES, ("erasure", ANN), naming=("invoices",))
