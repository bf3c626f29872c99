"""Shape 5: composite keys in a multi-tenant schema.

Customers are numbered per tenant: Ann is customer 7 of tenant 1, Bob customer 7 of tenant 2.
Orders point to their customer by ``(tenant_id, customer_no)``, order lines to their order by
``(tenant_id, order_no)``, and loyalty cards, which have no foreign key, by a composite
relation declared in the file. A planner that followed ``customer_no`` alone would hand Ann
Bob's orders and erase them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE customers (tenant_id INTEGER NOT NULL, customer_no INTEGER NOT NULL,"
    " email VARCHAR(200) NOT NULL, name VARCHAR(200) NOT NULL,"
    " PRIMARY KEY (tenant_id, customer_no))",
    "CREATE TABLE orders (tenant_id INTEGER NOT NULL, order_no INTEGER NOT NULL,"
    " customer_no INTEGER NOT NULL, total NUMERIC(10, 2) NOT NULL,"
    " PRIMARY KEY (tenant_id, order_no),"
    " FOREIGN KEY (tenant_id, customer_no) REFERENCES customers (tenant_id, customer_no))",
    "CREATE TABLE order_lines (tenant_id INTEGER NOT NULL, order_no INTEGER NOT NULL,"
    " line_no INTEGER NOT NULL, product VARCHAR(200) NOT NULL, gift_message VARCHAR(500),"
    " PRIMARY KEY (tenant_id, order_no, line_no),"
    " FOREIGN KEY (tenant_id, order_no) REFERENCES orders (tenant_id, order_no))",
    "CREATE TABLE loyalty_cards (tenant_id INTEGER NOT NULL, card_no VARCHAR(20) NOT NULL,"
    " customer_no INTEGER NOT NULL, points INTEGER NOT NULL, PRIMARY KEY (tenant_id, card_no))",
]

SEED = [
    "INSERT INTO customers (tenant_id, customer_no, email, name) VALUES"
    " (1, 7, 'ann@example.org', 'Ann Smith'), (2, 7, 'bob@example.org', 'Bob Jones'),"
    " (1, 8, 'cem@example.org', 'Cem Yilmaz'), (2, 8, 'dora@example.org', 'Dora Klein')",
    "INSERT INTO orders (tenant_id, order_no, customer_no, total) VALUES"
    " (1, 100, 7, 20.00), (1, 101, 7, 35.50), (2, 100, 7, 99.00), (2, 101, 8, 12.00),"
    " (1, 102, 8, 10.00)",
    "INSERT INTO order_lines (tenant_id, order_no, line_no, product, gift_message) VALUES"
    " (1, 100, 1, 'Kettle', 'Happy birthday, Mum! Love, Ann Smith'), (1, 100, 2, 'Mug', NULL),"
    " (1, 101, 1, 'Tea', NULL), (2, 100, 1, 'Kettle', 'For Bob'), (1, 102, 1, 'Lamp', NULL)",
    "INSERT INTO loyalty_cards (tenant_id, card_no, customer_no, points) VALUES"
    " (1, 'L-7', 7, 120), (2, 'L-7', 7, 40), (1, 'L-8', 8, 5)",
]

KEYS = {
    "customers": ("tenant_id", "customer_no"),
    "orders": ("tenant_id", "order_no"),
    "order_lines": ("tenant_id", "order_no", "line_no"),
    "loyalty_cards": ("tenant_id", "card_no"),
}

TABLES = """\
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
orders:
  columns:
    total: {category: financial.purchase_history}
  erasure: {strategy: delete}
order_lines:
  columns:
    product: {category: financial.purchase_history}
    gift_message: {category: user_content.inputs}
  erasure: {strategy: delete}
loyalty_cards:
  columns:
    points: {category: account.membership}
  erasure: {strategy: delete}
  relations:
    - column: [tenant_id, customer_no]
      references: {table: customers, column: [tenant_id, customer_no]}
"""

ANN = Person("Ann Smith", "ann@example.org")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL joining on whole composite keys."""
    customers = matching(
        connection, "SELECT tenant_id, customer_no, email FROM customers", person.owns_email
    )
    orders = {
        order
        for tenant, number in customers
        for order in keys(
            connection,
            "SELECT tenant_id, order_no FROM orders WHERE tenant_id = :t AND customer_no = :c",
            t=tenant,
            c=number,
        )
    }
    cards = {
        card
        for tenant, number in customers
        for card in keys(
            connection,
            "SELECT tenant_id, card_no FROM loyalty_cards"
            " WHERE tenant_id = :t AND customer_no = :c",
            t=tenant,
            c=number,
        )
    }
    lines = {
        line
        for tenant, number in orders
        for line in keys(
            connection,
            "SELECT tenant_id, order_no, line_no FROM order_lines"
            " WHERE tenant_id = :t AND order_no = :o",
            t=tenant,
            o=number,
        )
    }
    return nonempty(
        {"customers": customers, "orders": orders, "order_lines": lines, "loyalty_cards": cards}
    )


shop = seeded(SCHEMA, SEED)


def test_the_oracle_keeps_the_tenants_apart(shop: Company) -> None:
    """The hand-written SQL finds Ann's rows of tenant 1 and nothing of Bob's in tenant 2."""
    assert shop.found(theirs, ANN) == {
        "customers": {(1, 7)},
        "orders": {(1, 100), (1, 101)},
        "order_lines": {(1, 100, 1), (1, 100, 2), (1, 101, 1)},
        "loyalty_cards": {(1, "L-7")},
    }
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == ["customers.email", "customers.name", "order_lines.gift_message"]
    assert shop.broken_links() == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """Composite foreign keys and a composite relation are understood by check."""
    assert errors(shop, TABLES) == []


def test_access_follows_whole_composite_keys(shop: Company, tmp_path: Path) -> None:
    """Ann's report holds her tenant's rows only; each row carries its whole key and link."""
    (report,) = access(shop, tmp_path, TABLES, KEYS, theirs, ANN)
    assert {(row["tenant_id"], row["customer_no"]) for row in report.rows["orders"]} == {(1, 7)}


def test_erasure_follows_whole_composite_keys(shop: Company, tmp_path: Path) -> None:
    """Ann's rows go; Bob, customer 7 of tenant 2, keeps every row, byte for byte."""
    erasure = erase(shop, tmp_path, TABLES, theirs, ANN)
    assert (1, "L-7") not in erasure.after["loyalty_cards"]
