"""The minimal hand-written SQL for one person's access and erasure in the shop data set.

What a careful engineer would write by hand for the ``shop`` datastore of
``bench/shop_pledge.yaml``, on PostgreSQL through psycopg: the yardstick Pledge is measured
against on the shop (``bench/subject_requests.py``), as ``subject_baseline.py`` is on
Cloudwarm's schema.

It follows the declaration's graph from the e-mail address: the customer (``customers.email``),
their addresses and orders (``customer_id``), the orders' lines, the support tickets naming the
address (a declared relation, no foreign key) and the newsletter subscription of the address.
Access returns exactly the rows erasure touches.

Erasure deletes them all, children first, in one transaction. Under the legal hold (the
benchmark's case of a customer with many orders) the orders and their lines are kept, not even
read, and the customer row is rewritten (e-mail to its keyed pseudonym, name and phone
emptied), because the kept orders still point to it.

Each function takes an idle psycopg connection (autocommit is what the benchmark uses) and
opens its own transaction. ``folded=True`` compares e-mail columns as Pledge does,
``lower(trim(email)) = %s``, instead of as stored.
"""

from __future__ import annotations

from typing import Any

import psycopg

from subject_baseline import compared, pseudonym

Row = tuple[Any, ...]
Connection = psycopg.Connection[Row]
TABLES = ("customers", "addresses", "orders", "order_items", "support_tickets", "newsletter")
HELD = ("orders", "order_items")
"""The tables the legal hold of the many-orders case keeps."""


def shop_access(
    connection: Connection, email: str, *, folded: bool = False
) -> dict[str, list[Row]]:
    """Every row of the person with ``email``, per table, in one transaction.

    Args:
        connection: an idle psycopg connection to the shop database.
        email: the address the person gave, in lower case.
        folded: compare e-mail columns as ``lower(trim(column))``.

    Returns:
        Each table of :data:`TABLES` with the person's rows (every column), maybe none.
    """
    found: dict[str, list[Row]] = {table: [] for table in TABLES}
    with connection.transaction():
        execute = connection.execute
        found["customers"] = execute(
            f"SELECT * FROM customers WHERE {compared('email', folded)} = %s", (email,)
        ).fetchall()
        found["support_tickets"] = execute(
            f"SELECT * FROM support_tickets WHERE {compared('customer_email', folded)} = %s",
            (email,),
        ).fetchall()
        found["newsletter"] = execute(
            f"SELECT * FROM newsletter WHERE {compared('email', folded)} = %s", (email,)
        ).fetchall()
        if not found["customers"]:
            return found
        customer = found["customers"][0][0]
        found["addresses"] = execute(
            "SELECT * FROM addresses WHERE customer_id = %s", (customer,)
        ).fetchall()
        found["orders"] = execute(
            "SELECT * FROM orders WHERE customer_id = %s", (customer,)
        ).fetchall()
        if found["orders"]:
            found["order_items"] = execute(
                "SELECT * FROM order_items WHERE order_id = ANY(%s)",
                ([order[0] for order in found["orders"]],),
            ).fetchall()
    return found


def shop_erase(
    connection: Connection,
    email: str,
    key: bytes,
    *,
    folded: bool = False,
    hold: bool = False,
) -> dict[str, int]:
    """Erase the person with ``email``, in one transaction.

    Args:
        connection: an idle psycopg connection to the shop database.
        email: the address the person gave, in lower case.
        key: the key of the e-mail pseudonym (under the legal hold).
        folded: compare e-mail columns as ``lower(trim(column))``.
        hold: the orders and their lines are kept under a legal hold, the customer rewritten.

    Returns:
        Rows deleted or rewritten per table (kept tables are not counted).
    """
    changed: dict[str, int] = {}
    with connection.transaction():
        execute = connection.execute
        row = execute(
            f"SELECT id FROM customers WHERE {compared('email', folded)} = %s FOR UPDATE",
            (email,),
        ).fetchone()
        customer = row[0] if row is not None else None
        if customer is not None:
            if not hold:
                changed["order_items"] = execute(
                    "DELETE FROM order_items WHERE order_id IN"
                    " (SELECT id FROM orders WHERE customer_id = %s)",
                    (customer,),
                ).rowcount
                changed["orders"] = execute(
                    "DELETE FROM orders WHERE customer_id = %s", (customer,)
                ).rowcount
            changed["addresses"] = execute(
                "DELETE FROM addresses WHERE customer_id = %s", (customer,)
            ).rowcount
        changed["support_tickets"] = execute(
            f"DELETE FROM support_tickets WHERE {compared('customer_email', folded)} = %s",
            (email,),
        ).rowcount
        changed["newsletter"] = execute(
            f"DELETE FROM newsletter WHERE {compared('email', folded)} = %s", (email,)
        ).rowcount
        if customer is not None:
            changed["customers"] = (
                execute(
                    "UPDATE customers SET email = %s, name = NULL, phone = NULL WHERE id = %s",
                    (pseudonym(email, key), customer),
                ).rowcount
                if hold
                else execute("DELETE FROM customers WHERE id = %s", (customer,)).rowcount
            )
    kept = HELD if hold else ()
    return {table: changed.get(table, 0) for table in TABLES if table not in kept}
