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
from tests.integration.corpus.driver import (
    ask,
    declaration,
    errors,
    pledge_for,
    reported_keys,
    reported_rows,
)
from tests.integration.corpus.harness import (
    Company,
    Person,
    Rows,
    broken_links,
    changes_to_others,
    keys,
    matching,
    nonempty,
    residue,
    snapshot,
)

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


@pytest.fixture
def shop(company: Company) -> Company:
    """The shape, created and seeded."""
    company.run([*SCHEMA, *SEED])
    return company


def test_the_oracle_finds_anns_events_in_every_partition(shop: Company) -> None:
    """The hand-written SQL finds Ann's events of 2025 and 2026."""
    with shop.read() as connection:
        assert theirs(connection, ANN) == {
            "customers": {(1,)},
            "events": {(1, "2025-06-01"), (3, "2026-02-01"), (5, "2026-03-01")},
        }
    # The residue search sees the person where the seed put them.
    assert residue(shop, ANN) == ["customers.email", "customers.name"]
    assert broken_links(shop) == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """The parent table is linked to customers through its partitions' foreign keys."""
    assert errors(declaration(shop.url, TABLES)) == []


def test_access_finds_the_persons_rows_in_every_partition(shop: Company, tmp_path: Path) -> None:
    """Ann's report lists her events of both years under ``events``."""
    with shop.read() as connection:
        expected = theirs(connection, ANN)

    with pledge_for(tmp_path, declaration(shop.url, TABLES)) as runtime:
        request_id, done = ask(runtime, "access", ("email", ANN.email))
        assert done.state == "completed", done.why
        rows = reported_rows(runtime, request_id)

    assert reported_keys(rows, KEYS) == expected


def test_erasure_deletes_the_partitions_rows_before_the_customer(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's events and customer row go; Bob's events in both partitions stay."""
    before = snapshot(shop)
    with shop.read() as connection:
        anns = theirs(connection, ANN)
    # The snapshot sees each event twice, in the parent and in its partition.
    anns_everywhere = {
        **anns,
        "events_2025": {key for key in anns["events"] if key[1] < "2026"},
        "events_2026": {key for key in anns["events"] if key[1] >= "2026"},
    }

    with pledge_for(tmp_path, declaration(shop.url, TABLES)) as runtime:
        _, done = ask(runtime, "erasure", ("email", ANN.email))

    assert done.state == "completed", done.why
    with shop.read() as connection:
        assert theirs(connection, ANN) == {}
    assert residue(shop, ANN) == []
    assert changes_to_others(before, snapshot(shop), anns_everywhere) == []
    assert broken_links(shop) == []
