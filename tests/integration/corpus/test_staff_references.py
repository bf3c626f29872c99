"""Shape 1: staff and agents who are referred to by other people's rows.

A customer has an account manager (``customers.account_manager_id → staff``); a booking is
the customer's and names the staff member who handled it (``bookings.handled_by → staff``,
declared ``follow: false``). One ``users`` table holds customers and support agents alike; a
ticket is its customer's and names the agent on it (``tickets.agent_id → users``, declared
``follow: false``). Alex is an agent who also filed a ticket of his own.

Without ``follow: false`` a booking could be its customer's or its staff member's, a ticket its
customer's or its agent's: the declaration is ambiguous, check says so and requests fail.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, assert_refused, erase, errors, revised
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE staff (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL)",
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL, account_manager_id INTEGER,"
    " FOREIGN KEY (account_manager_id) REFERENCES staff (id))",
    "CREATE TABLE bookings (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
    " handled_by INTEGER, starts_on DATE NOT NULL, note VARCHAR(500),"
    " FOREIGN KEY (customer_id) REFERENCES customers (id),"
    " FOREIGN KEY (handled_by) REFERENCES staff (id))",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL, is_agent INTEGER NOT NULL)",
    "CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
    " agent_id INTEGER, subject VARCHAR(200) NOT NULL, body TEXT,"
    " FOREIGN KEY (customer_id) REFERENCES users (id),"
    " FOREIGN KEY (agent_id) REFERENCES users (id))",
]

SEED = [
    "INSERT INTO staff (id, email, name) VALUES"
    " (1, 'sam@shop.example', 'Sam Staff'), (2, 'kim@shop.example', 'Kim Keller')",
    "INSERT INTO customers (id, email, name, account_manager_id) VALUES"
    " (10, 'ann@example.org', 'Ann Smith', 1), (11, 'bob@example.org', 'Bob Jones', 1),"
    " (12, 'cem@example.org', 'Cem Yilmaz', 2)",
    "INSERT INTO bookings (id, customer_id, handled_by, starts_on, note) VALUES"
    " (100, 10, 1, '2026-02-01', 'Window seat, please'),"
    " (101, 10, 2, '2026-03-01', NULL),"
    " (102, 11, 1, '2026-02-14', 'Table for two'),"
    " (103, 12, NULL, '2026-04-01', NULL)",
    "INSERT INTO users (id, email, name, is_agent) VALUES"
    " (20, 'ann@example.org', 'Ann Smith', 0), (21, 'alex@shop.example', 'Alex Agent', 1),"
    " (22, 'bob@example.org', 'Bob Jones', 0)",
    "INSERT INTO tickets (id, customer_id, agent_id, subject, body) VALUES"
    " (200, 20, 21, 'Refund', 'Please refund my last order'),"
    " (201, 22, 21, 'Delivery', 'Where is my parcel?'),"
    " (202, 20, NULL, 'Invoice', 'Please send the invoice again'),"
    " (203, 21, NULL, 'My own order', 'Ordered a kettle myself; it arrived broken')",
]

KEYS = {
    "staff": ("id",),
    "customers": ("id",),
    "bookings": ("id",),
    "users": ("id",),
    "tickets": ("id",),
}

TABLES = """\
staff:
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
bookings:
  columns:
    starts_on: {category: financial.purchase_history}
    note: {category: user_content.inputs}
  erasure: {strategy: delete}
  relations:
    - {column: handled_by, references: staff.id, follow: false}
users:
  role: person
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
tickets:
  columns:
    subject: {category: user_content.support_messages}
    body: {category: user_content.support_messages}
  erasure: {strategy: delete}
  relations:
    - {column: agent_id, references: users.id, follow: false}
"""
"""Every link that only refers to someone is marked ``follow: false``."""

AMBIGUOUS = revised(
    TABLES,
    ("  relations:\n    - {column: handled_by, references: staff.id, follow: false}\n", ""),
    ("  relations:\n    - {column: agent_id, references: users.id, follow: false}\n", ""),
)
"""The same tables without ``follow: false``: bookings and tickets have two owners each."""

ANN = Person("Ann Smith", "ann@example.org")
BOB = Person("Bob Jones", "bob@example.org")
SAM = Person("Sam Staff", "sam@shop.example")
ALEX = Person("Alex Agent", "alex@shop.example")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL."""
    staff = matching(connection, "SELECT id, email FROM staff", person.owns_email)
    customers = matching(connection, "SELECT id, email FROM customers", person.owns_email)
    users = matching(connection, "SELECT id, email FROM users", person.owns_email)
    return nonempty(
        {
            "staff": staff,
            "customers": customers,
            # A booking is its customer's; the staff member who handled it is only named.
            "bookings": keys(
                connection, "SELECT id FROM bookings WHERE customer_id IN :ids", ids=customers
            ),
            "users": users,
            # A ticket is its customer's; the agent on it is only named.
            "tickets": keys(
                connection, "SELECT id FROM tickets WHERE customer_id IN :ids", ids=users
            ),
        }
    )


EXPECTED = {
    "ann": {
        "customers": {(10,)},
        "bookings": {(100,), (101,)},
        "users": {(20,)},
        "tickets": {(200,), (202,)},
    },
    "sam": {"staff": {(1,)}},
    "alex": {"users": {(21,)}, "tickets": {(203,)}},
}
PEOPLE = {"ann": ANN, "sam": SAM, "alex": ALEX}


shop = seeded(SCHEMA, SEED)


def test_the_oracle_finds_each_persons_seeded_rows(shop: Company) -> None:
    """The hand-written SQL finds what the seed gave each person; the seed breaks no link."""
    found = {name: shop.found(theirs, person) for name, person in PEOPLE.items()}
    assert found == EXPECTED
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == ["customers.email", "customers.name", "users.email", "users.name"]
    assert shop.broken_links() == []


def test_the_declaration_marking_every_mere_reference_checks_without_errors(
    shop: Company,
) -> None:
    """With ``follow: false`` on the staff and agent links, check finds nothing wrong."""
    assert errors(shop, TABLES) == []


def test_a_customers_access_shows_their_bookings_and_tickets_but_no_staff_row(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's report holds her customer and user rows, bookings and tickets; no staff, no agent."""
    (report,) = access(shop, tmp_path, TABLES, KEYS, theirs, ANN)
    # The link columns come with the rows: whom a booking names is part of it.
    assert sorted((row["customer_id"], row["handled_by"]) for row in report.rows["bookings"]) == [
        (10, 1),
        (10, 2),
    ]


def test_staff_and_agents_see_their_own_rows_not_the_rows_they_handled(
    shop: Company, tmp_path: Path
) -> None:
    """Sam sees his staff row only; Alex his user row and his own ticket, not those he handled."""
    access(shop, tmp_path, TABLES, KEYS, theirs, SAM, ALEX)


def test_a_customers_erasure_removes_their_rows_and_leaves_staff_and_others_alone(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's rows go; no residue of her; the staff and everyone else's rows are as they were."""
    erase(shop, tmp_path, TABLES, theirs, ANN)


def test_a_staff_members_erasure_rewrites_their_row_and_touches_no_customer_or_booking(
    shop: Company, tmp_path: Path
) -> None:
    """Sam's staff row is rewritten; the customers he manages and bookings he handled stay."""
    erasure = erase(shop, tmp_path, TABLES, theirs, SAM)
    sam = erasure.after["staff"][(1,)]
    assert sam["name"] == "erased"
    assert sam["email"] != erasure.before["staff"][(1,)]["email"]


def test_without_follow_false_check_and_every_request_refuse_the_ambiguous_tables(
    shop: Company, tmp_path: Path
) -> None:
    """Bookings and tickets with two possible owners: a D error each; requests fail, unchanged."""
    found = errors(shop, AMBIGUOUS)
    assert found, "check found no error in the ambiguous declaration"
    assert all(problem.has_d_code for problem in found), found
    assert {problem.table for problem in found} == {"bookings", "tickets"}
    assert_refused(
        shop,
        tmp_path,
        AMBIGUOUS,
        ("erasure", ANN),
        ("access", BOB),
        naming=("bookings", "tickets"),
    )
