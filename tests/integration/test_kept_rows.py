"""An erasure's cost does not grow with the rows it keeps: rows under a legal hold are counted,
never read, up to 1,000 and no further however many the person has, and the kept rows of one
table lead to the kept rows of another through a subquery in the database, not through their
keys in Python."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event, text

import pledge
from pledge.datastores.collect import collect
from pledge.datastores.execute import erase
from pledge.datastores.plan import build_plan
from pledge.datastores.sql import SqlDatastore
from pledge.datastores.statements import COUNTED_UP_TO, Tables
from pledge.declaration.model import IdentityKind

DECLARATION = """\
pledge: 1
controller: {name: Shop, country: DE}
policy: {version: "1", effective_date: 2026-01-01}
purposes:
  provide_service:
    legal_basis: contract
    categories: [contact.email, financial.purchase_history]
    retention: P30D after account_closed
datastores:
  shop:
    url: URL
    tables:
      customers:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: rewrite, rewrite: {email: {pseudonym: hmac}}}
      orders:
        columns:
          total: {category: financial.purchase_history}
        erasure: {strategy: delete}
        legal_hold: {retain: P10Y, reason: Accounting law.}
      order_items:
        columns:
          sku: {category: financial.purchase_history}
        erasure: {strategy: delete}
        legal_hold: {retain: P10Y, reason: Accounting law.}
"""


def test_an_erasure_counts_the_kept_rows_without_reading_one(tmp_path: Path) -> None:
    """Ann has 3,000 orders and 9,000 order lines under a hold, Bob 100 and 300: the erasure's
    read counts Bob's exactly, Ann's up to one more than 1,000 (there are more), returns no
    row of them, and sends no order id back; what it says it kept says "more"."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)"))
        connection.execute(
            text(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC,"
                " customer_id INTEGER NOT NULL REFERENCES customers (id))"
            )
        )
        connection.execute(
            text(
                "CREATE TABLE order_items (id INTEGER PRIMARY KEY, sku TEXT,"
                " order_id INTEGER NOT NULL REFERENCES orders (id))"
            )
        )
        connection.execute(text("INSERT INTO customers VALUES (1, 'ann@example.org')"))
        connection.execute(text("INSERT INTO customers VALUES (2, 'bob@example.org')"))
        connection.execute(
            text("INSERT INTO orders VALUES (:id, 10, :customer)"),
            [{"id": n, "customer": 1 if n <= 3000 else 2} for n in range(1, 3101)],
        )
        connection.execute(
            text("INSERT INTO order_items VALUES (:id, 'tea', :order)"),
            [{"id": n, "order": (n - 1) // 3 + 1} for n in range(1, 9301)],
        )
    engine.dispose()
    declaration = pledge.loads(DECLARATION.replace("URL", url))
    store = SqlDatastore("shop", url)
    try:
        plan = build_plan("shop", store.reflect(), declaration.datastores["shop"])
        sent: list[int] = []
        event.listen(
            store.engine,
            "before_cursor_execute",
            lambda _c, _x, statement, parameters, *_: sent.append(len(str(parameters))),
        )
        with store.engine.connect() as connection:
            tables = Tables(connection, plan.tables_used(), "shop", store.metadata)
            found, bobs = (
                collect(connection, tables, plan, {IdentityKind.EMAIL: [email]}, columns="erasure")
                for email in ("ann@example.org", "bob@example.org")
            )
            outcomes = erase(connection, tables, plan, found, pseudonym_key=lambda *_: b"k" * 32)
            connection.rollback()
    finally:
        store.close()
    more = COUNTED_UP_TO + 1
    assert found.counts() == {"customers": 1, "orders": more, "order_items": more}
    assert bobs.counts() == {"customers": 1, "orders": 100, "order_items": 300}
    assert found.rows["orders"] == [] and found.rows["order_items"] == []
    assert max(sent) < 1000  # no statement carried thousands of order ids
    assert outcomes["orders"].to_dict() == {
        "action": "retained",
        "rows": COUNTED_UP_TO,
        "more": True,
        "reason": "Accounting law.",
    }
