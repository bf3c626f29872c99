"""Shape 16: tables without a primary key, as logs and link tables often are.

A mailing log holds one row per mail sent (the address, when, the campaign), with no key and
rows that repeat exactly (two mails of one campaign in the same second). An activity table
points to the customer by id, also without a key. Access shows every row, repeats included;
erasure removes exactly the person's rows, repeats included, and nobody else's.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200))",
    "CREATE TABLE mailing_log (email VARCHAR(200) NOT NULL, sent_at VARCHAR(30) NOT NULL,"
    " campaign VARCHAR(50) NOT NULL)",
    "CREATE TABLE activity (customer_id INTEGER NOT NULL, what VARCHAR(100) NOT NULL,"
    " FOREIGN KEY (customer_id) REFERENCES customers (id))",
]

SEED = [
    "INSERT INTO customers (id, email, name) VALUES (1, 'ann@example.org', 'Ann Smith'),"
    " (2, 'bob@example.org', 'Bob Jones')",
    "INSERT INTO mailing_log (email, sent_at, campaign) VALUES"
    " ('ann@example.org', '2026-01-01 10:00:00', 'spring'),"
    " ('ann@example.org', '2026-01-01 10:00:00', 'spring'),"
    " ('Ann@Example.org', '2026-02-01 10:00:00', 'summer'),"
    " ('bob@example.org', '2026-01-01 10:00:00', 'spring')",
    "INSERT INTO activity (customer_id, what) VALUES (1, 'signed in'), (1, 'signed in'),"
    " (1, 'ordered'), (2, 'signed in')",
]

KEYS = {
    "customers": ("id",),
    "mailing_log": ("email", "sent_at", "campaign"),
    "activity": ("customer_id", "what"),
}

TABLES = """\
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
mailing_log:
  role: owned
  columns:
    email: {category: contact.email, identity: email}
    sent_at: {category: usage.access_times}
    campaign: {category: usage.account_activity}
  erasure: {strategy: delete}
activity:
  columns:
    what: {category: usage.account_activity}
  erasure: {strategy: delete}
"""

ANN = Person("Ann Smith", "ann@example.org")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows by hand-written SQL; a keyless row is known by all its values."""
    customers = matching(connection, "SELECT id, email FROM customers", person.owns_email)
    log = matching(
        connection,
        "SELECT email, sent_at, campaign, email FROM mailing_log",
        person.owns_email,
    )
    ids = {key[0] for key in customers}
    activity = {
        (row.customer_id, row.what)
        for row in connection.execute(text("SELECT customer_id, what FROM activity"))
        if row.customer_id in ids
    }
    return nonempty({"customers": customers, "mailing_log": log, "activity": activity})


shop = seeded(SCHEMA, SEED)


def _count(shop: Company, sql: str) -> int:
    with shop.read() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    assert errors(shop, TABLES) == []


def test_access_shows_every_row_of_the_person_repeats_included(
    shop: Company, tmp_path: Path
) -> None:
    (report,) = access(shop, tmp_path, TABLES, KEYS, theirs, ANN)
    assert len(report.rows["mailing_log"]) == 3
    assert len(report.rows["activity"]) == 3


def test_erasure_removes_the_persons_rows_repeats_included_and_nobody_elses(
    shop: Company, tmp_path: Path
) -> None:
    erase(shop, tmp_path, TABLES, theirs, ANN)
    assert _count(shop, "SELECT count(*) FROM mailing_log") == 1
    assert _count(shop, "SELECT count(*) FROM activity") == 1
