"""Shape 6: a partitioned table on PostgreSQL whose foreign keys are on its partitions only.

``events`` is partitioned by year. The parent declares no foreign key; each partition declares
``customer_id → customers`` itself (as schemas migrated from before PostgreSQL 12 do). The
declaration names the parent, ``events``: Pledge must link it through its partitions, find
Ann's events in every partition and delete them before her customer row. PostgreSQL only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

pytestmark = pytest.mark.parametrize("company", ["postgresql"], indirect=True)

SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL)",
    "CREATE TABLE events (id INTEGER NOT NULL, customer_id INTEGER NOT NULL,"
    " occurred_on DATE NOT NULL, kind VARCHAR(50) NOT NULL, detail TEXT,"
    " PRIMARY KEY (id, occurred_on)) PARTITION BY RANGE (occurred_on)",
    "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    "ALTER TABLE events_2025 ADD CONSTRAINT events_2025_customer"
    " FOREIGN KEY (customer_id) REFERENCES customers (id)",
    "ALTER TABLE events_2026 ADD CONSTRAINT events_2026_customer"
    " FOREIGN KEY (customer_id) REFERENCES customers (id)",
]

SEED = [
    "INSERT INTO customers (id, email, name) VALUES"
    " (1, 'ann@example.org', 'Ann Smith'), (2, 'bob@example.org', 'Bob Jones')",
    "INSERT INTO events (id, customer_id, occurred_on, kind, detail) VALUES"
    " (1, 1, '2025-06-01', 'login', 'Signed in from Berlin'),"
    " (2, 2, '2025-07-01', 'login', 'Signed in from Hamburg'),"
    " (3, 1, '2026-02-01', 'order', 'Ordered a kettle'),"
    " (4, 2, '2026-02-02', 'order', 'Ordered a lamp'),"
    " (5, 1, '2026-03-01', 'login', 'Signed in from Potsdam')",
]

KEYS = {"customers": ("id",), "events": ("id", "occurred_on")}

TABLES = """\
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
events:
  columns:
    kind: {category: usage.account_activity}
    detail: {category: usage.account_activity}
  erasure: {strategy: delete}
"""

ANN = Person("Ann Smith", "ann@example.org")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL on the parent table (all partitions)."""
    customers = matching(connection, "SELECT id, email FROM customers", person.owns_email)
    events = keys(
        connection, "SELECT id, occurred_on FROM events WHERE customer_id IN :ids", ids=customers
    )
    return nonempty({"customers": customers, "events": events})


def in_every_table(rows: Rows) -> Rows:
    """The person's rows as a snapshot lists them: each event in the parent and its partition."""
    return {
        **rows,
        "events_2025": {key for key in rows["events"] if key[1] < "2026"},
        "events_2026": {key for key in rows["events"] if key[1] >= "2026"},
    }


shop = seeded(SCHEMA, SEED)


def test_the_oracle_finds_anns_events_in_every_partition(shop: Company) -> None:
    """The hand-written SQL finds Ann's events of 2025 and 2026."""
    assert shop.found(theirs, ANN) == {
        "customers": {(1,)},
        "events": {(1, "2025-06-01"), (3, "2026-02-01"), (5, "2026-03-01")},
    }
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == ["customers.email", "customers.name"]
    assert shop.broken_links() == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """The parent table is linked to customers through its partitions' foreign keys."""
    assert errors(shop, TABLES) == []


def test_access_finds_the_persons_rows_in_every_partition(shop: Company, tmp_path: Path) -> None:
    """Ann's report lists her events of both years under ``events``."""
    access(shop, tmp_path, TABLES, KEYS, theirs, ANN)


def test_erasure_deletes_the_partitions_rows_before_the_customer(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's events and customer row go; Bob's events in both partitions stay."""
    erase(shop, tmp_path, TABLES, theirs, ANN, as_snapshot_sees=in_every_table)
