"""Shape 7: a schema with no foreign keys at all, linked by relations declared in the file.

Orders name their customer by id, order lines their order by id, and newsletter subscriptions
hold an e-mail address as text (``newsletter.address`` matches ``customers.email``). Nothing
in the database says so; the declaration does. One order line points to an order that does
not exist, as happens without constraints: it is nobody's. Another customer's address,
``ann@example.org.uk``, merely begins like Ann's.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
    " total NUMERIC(10, 2) NOT NULL, shipping_name VARCHAR(200))",
    "CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL,"
    " product VARCHAR(200) NOT NULL, gift_message VARCHAR(500))",
    "CREATE TABLE newsletter (id INTEGER PRIMARY KEY, address VARCHAR(200) NOT NULL,"
    " subscribed_on DATE NOT NULL)",
]

SEED = [
    "INSERT INTO customers (id, email, name) VALUES"
    " (1, 'ann@example.org', 'Ann Smith'), (2, 'bob@example.org', 'Bob Jones'),"
    " (3, 'ann@example.org.uk', 'Ann Smythe')",
    "INSERT INTO orders (id, customer_id, total, shipping_name) VALUES"
    " (10, 1, 20.00, 'Ann Smith'), (11, 2, 15.00, 'Bob Jones'), (12, 1, 8.50, 'Ann Smith'),"
    " (13, 3, 30.00, 'Ann Smythe')",
    "INSERT INTO order_lines (id, order_id, product, gift_message) VALUES"
    " (100, 10, 'Kettle', 'For Mum'), (101, 11, 'Lamp', NULL), (102, 12, 'Tea', NULL),"
    " (103, 13, 'Mug', NULL), (104, 99, 'Vase', 'An order that was lost')",
    "INSERT INTO newsletter (id, address, subscribed_on) VALUES"
    " (1000, 'ann@example.org', '2025-01-10'), (1001, 'bob@example.org', '2025-02-01'),"
    " (1002, 'ann@example.org.uk', '2025-03-01'), (1003, 'ann@example.org', '2026-01-05'),"
    " (1004, 'nobody@example.org', '2025-04-01')",
]

KEYS = {"customers": ("id",), "orders": ("id",), "order_lines": ("id",), "newsletter": ("id",)}

TABLES = """\
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
orders:
  columns:
    total: {category: financial.purchase_history}
    shipping_name: {category: identity.name}
  erasure: {strategy: delete}
  relations:
    - {column: customer_id, references: customers.id}
order_lines:
  columns:
    product: {category: financial.purchase_history}
    gift_message: {category: user_content.inputs}
  erasure: {strategy: delete}
  relations:
    - {column: order_id, references: orders.id}
newsletter:
  columns:
    address: {category: contact.email}
    subscribed_on: {category: consent.record}
  erasure: {strategy: delete}
  relations:
    - {column: address, references: customers.email}
"""

ANN = Person("Ann Smith", "ann@example.org")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL along the declared relations."""
    customers = matching(connection, "SELECT id, email FROM customers", person.owns_email)
    orders = keys(connection, "SELECT id FROM orders WHERE customer_id IN :ids", ids=customers)
    emails = keys(connection, "SELECT email FROM customers WHERE id IN :ids", ids=customers)
    # PostgreSQL will not compare text with the integer NULL an empty IN list becomes.
    newsletter = (
        keys(connection, "SELECT id FROM newsletter WHERE address IN :emails", emails=emails)
        if emails
        else set()
    )
    return nonempty(
        {
            "customers": customers,
            "orders": orders,
            "order_lines": keys(
                connection, "SELECT id FROM order_lines WHERE order_id IN :ids", ids=orders
            ),
            "newsletter": newsletter,
        }
    )


shop = seeded(SCHEMA, SEED)


def test_the_oracle_follows_the_relations_the_database_does_not_know(shop: Company) -> None:
    """The hand-written SQL finds Ann's rows; the lost order line and the .uk address are not."""
    assert shop.found(theirs, ANN) == {
        "customers": {(1,)},
        "orders": {(10,), (12,)},
        "order_lines": {(100,), (102,)},
        "newsletter": {(1000,), (1003,)},
    }
    # The residue search sees her where the seed put her.
    assert shop.residue(ANN) == [
        "customers.email",
        "customers.name",
        "newsletter.address",
        "orders.shipping_name",
    ]


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """Declared relations make every table reachable."""
    assert errors(shop, TABLES) == []


def test_access_follows_declared_relations_including_an_email_string(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's report holds her orders, their lines and both her newsletter subscriptions."""
    access(shop, tmp_path, TABLES, KEYS, theirs, ANN)


def test_erasure_follows_declared_relations_and_nothing_else(shop: Company, tmp_path: Path) -> None:
    """Ann's rows go; the .uk customer, the lost order line and everyone else's rows stay."""
    newsletter = erase(shop, tmp_path, TABLES, theirs, ANN).after["newsletter"]
    assert (1000,) not in newsletter and (1003,) not in newsletter
