"""Shape 4: self-references, and a cycle between two tables of the person's own rows.

Bob referred Ann and Ann referred Carol (``users.referred_by → users``, ON DELETE SET NULL).
Mia manages Ann, who manages Dan (``employees.manager_id → employees``); Ann works for the
shop as well as buying from it. Comments answer comments (``comments.parent_id → comments``):
Ann replied to her own comment and to one of Bob's. A customer's default address is one of
their addresses, and every address names its customer (``customers.default_address_id →
addresses`` and ``addresses.customer_id → customers``), a cycle erased as a whole.

A self-reference is never followed: Ann's referrer, her manager, her referral, her report and
the comment she answered are other people's. Erasure deletes in an order the foreign keys
allow (her reply before the comment it answers; the cycle broken by nulling a link first);
the database nulls Carol's ``referred_by``. When Carol has answered one of Ann's comments,
deleting it would leave Carol's reply pointing at nothing: the request is refused.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, assert_refused, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

USERS_AND_COMMENTS = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL, referred_by INTEGER,"
    " FOREIGN KEY (referred_by) REFERENCES users (id) ON DELETE SET NULL)",
    "CREATE TABLE comments (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,"
    " parent_id INTEGER, body TEXT NOT NULL,"
    " FOREIGN KEY (user_id) REFERENCES users (id),"
    " FOREIGN KEY (parent_id) REFERENCES comments (id))",
    "CREATE TABLE employees (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL, manager_id INTEGER,"
    " FOREIGN KEY (manager_id) REFERENCES employees (id))",
]


def cycle(engine: str) -> list[str]:
    """Customers and their addresses, each pointing to the other."""
    if engine == "sqlite":
        # SQLite cannot add a constraint later, but lets a table refer to one created after it.
        return [
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
            " name VARCHAR(200) NOT NULL, default_address_id INTEGER,"
            " FOREIGN KEY (default_address_id) REFERENCES addresses (id))",
            "CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
            " street VARCHAR(200) NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers (id))",
        ]
    return [
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
        " name VARCHAR(200) NOT NULL, default_address_id INTEGER)",
        "CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
        " street VARCHAR(200) NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers (id))",
        "ALTER TABLE customers ADD CONSTRAINT customers_default_address"
        " FOREIGN KEY (default_address_id) REFERENCES addresses (id)",
    ]


SEED = [
    "INSERT INTO users (id, email, name, referred_by) VALUES"
    " (1, 'bob@example.org', 'Bob Jones', NULL), (2, 'ann@example.org', 'Ann Smith', 1),"
    " (3, 'carol@example.org', 'Carol Meyer', 2), (4, 'dan@example.org', 'Dan Brown', 3)",
    "INSERT INTO comments (id, user_id, parent_id, body) VALUES"
    " (10, 2, NULL, 'Does the kettle come in red?'),"
    " (11, 2, 10, 'Found it myself: it does.'),"
    " (13, 1, NULL, 'Delivery took a week.'),"
    " (12, 1, 13, 'Update: it arrived.'),"
    " (14, 2, 13, 'Mine took two days.')",
    "INSERT INTO employees (id, email, name, manager_id) VALUES"
    " (1, 'mia@shop.example', 'Mia Lange', NULL), (2, 'ann@example.org', 'Ann Smith', 1),"
    " (3, 'dan@shop.example', 'Dan Brown', 2)",
    "INSERT INTO customers (id, email, name, default_address_id) VALUES"
    " (1, 'ann@example.org', 'Ann Smith', NULL), (2, 'bob@example.org', 'Bob Jones', NULL)",
    "INSERT INTO addresses (id, customer_id, street) VALUES"
    " (100, 1, 'Linienstraße 5'), (101, 1, 'Kastanienallee 12'), (102, 2, 'Torstraße 9')",
    "UPDATE customers SET default_address_id = 100 WHERE id = 1",
    "UPDATE customers SET default_address_id = 102 WHERE id = 2",
]

CAROL_ANSWERS_ANN = [
    "INSERT INTO comments (id, user_id, parent_id, body) VALUES (15, 3, 14, 'Two days? Lucky you.')"
]
"""Carol's reply to a comment of Ann's: deleting Ann's comment would orphan it."""

KEYS = {
    "users": ("id",),
    "comments": ("id",),
    "employees": ("id",),
    "customers": ("id",),
    "addresses": ("id",),
}

TABLES = """\
users:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
comments:
  columns:
    body: {category: user_content.inputs}
  erasure: {strategy: delete}
employees:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure:
    strategy: rewrite
    rewrite:
      email: {pseudonym: hmac}
      name: {fixed: erased}
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
addresses:
  columns:
    street: {category: contact.postal_address}
  erasure: {strategy: delete}
"""

ANN = Person("Ann Smith", "ann@example.org", texts=("Linienstraße 5", "Kastanienallee 12"))


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL; no self-reference is followed."""
    users = matching(connection, "SELECT id, email FROM users", person.owns_email)
    customers = matching(connection, "SELECT id, email FROM customers", person.owns_email)
    return nonempty(
        {
            "users": users,
            "comments": keys(
                connection, "SELECT id FROM comments WHERE user_id IN :ids", ids=users
            ),
            "employees": matching(connection, "SELECT id, email FROM employees", person.owns_email),
            "customers": customers,
            "addresses": keys(
                connection, "SELECT id FROM addresses WHERE customer_id IN :ids", ids=customers
            ),
        }
    )


shop = seeded(USERS_AND_COMMENTS, cycle, SEED)


def test_the_oracle_finds_anns_rows_and_none_of_the_people_she_is_linked_to(
    shop: Company,
) -> None:
    """The hand-written SQL finds Ann's rows only: not Bob, Carol, Mia, Dan or Bob's comment."""
    assert shop.found(theirs, ANN) == {
        "users": {(2,)},
        "comments": {(10,), (11,), (14,)},
        "employees": {(2,)},
        "customers": {(1,)},
        "addresses": {(100,), (101,)},
    }
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == [
        "addresses.street",
        "customers.email",
        "customers.name",
        "employees.email",
        "employees.name",
        "users.email",
        "users.name",
    ]
    assert shop.broken_links() == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """Self-references and a cycle need no annotation."""
    assert errors(shop, TABLES) == []


def test_access_follows_no_self_reference(shop: Company, tmp_path: Path) -> None:
    """Ann's report holds her rows: not her referrer, manager, report, nor Bob's comment."""
    access(shop, tmp_path, TABLES, KEYS, theirs, ANN)


def test_erasure_orders_self_references_and_breaks_the_cycle(shop: Company, tmp_path: Path) -> None:
    """Ann's rows go (the employee row rewritten); only Carol's referred_by is nulled by the DB."""
    # Afterwards the oracle finds nothing: the rewritten employee row no longer matches.
    after = erase(shop, tmp_path, TABLES, theirs, ANN, nulled={("users", "referred_by")}).after
    assert after["employees"][(2,)]["name"] == "erased"
    assert after["employees"][(3,)]["manager_id"] == 2  # Dan still reports to the kept row
    assert after["users"][(3,)]["referred_by"] is None  # ON DELETE SET NULL, by the database


def test_erasure_that_would_orphan_another_persons_reply_is_refused(
    shop: Company, tmp_path: Path
) -> None:
    """Carol answered Ann's comment: deleting it is impossible, so the request fails, unchanged."""
    shop.run(CAROL_ANSWERS_ANN)
    assert_refused(shop, tmp_path, TABLES, ("erasure", ANN), naming=("comments",))
