"""Shape 2: addresses shared by several people, and addresses owned by one.

``customers.address_id``, ``staff.address_id`` and ``stores.address_id`` all point into
``addresses``, a table of neither people nor things people own, and every address points to its
city (``addresses.city_id → cities``): a customer's address and city are reached upwards from
their row. Ann lives with Bob in Potsdam; Carol lives alone, the only one in Kleinmachnow; Erin
has her parcels sent to the shop in Friedrichstraße; Frank shares a flat with Sam, who works for
the shop. The ``stores`` table holds no personal data and is not declared: its link is read
from the database.

A row someone else (a customer, a store, a staff member, an address that is not the person's
alone) also points to is shared: access shows it, erasure keeps it and says so. Potsdam is
shared although only Ann and Bob's address points to it, because that address is shared. A row
nobody else points to is the person's and is erased with them: Carol's address and her city.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE cities (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL)",
    "CREATE TABLE addresses (id INTEGER PRIMARY KEY, street VARCHAR(200) NOT NULL,"
    " postal_code VARCHAR(20) NOT NULL, city_id INTEGER NOT NULL,"
    " FOREIGN KEY (city_id) REFERENCES cities (id))",
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL, address_id INTEGER,"
    " FOREIGN KEY (address_id) REFERENCES addresses (id))",
    "CREATE TABLE staff (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL, address_id INTEGER,"
    " FOREIGN KEY (address_id) REFERENCES addresses (id))",
    "CREATE TABLE stores (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL,"
    " address_id INTEGER NOT NULL, FOREIGN KEY (address_id) REFERENCES addresses (id))",
]

SEED = [
    "INSERT INTO cities (id, name) VALUES (1, 'Berlin'), (2, 'Kleinmachnow'), (3, 'Potsdam')",
    "INSERT INTO addresses (id, street, postal_code, city_id) VALUES"
    " (100, 'Linienstraße 5', '14467', 3),"
    " (101, 'Kastanienallee 12', '14532', 2),"
    " (102, 'Friedrichstraße 80', '10117', 1),"
    " (103, 'Oderberger Straße 3', '10435', 1),"
    " (104, 'Torstraße 9', '10119', 1)",
    "INSERT INTO customers (id, email, name, address_id) VALUES"
    " (10, 'ann@example.org', 'Ann Smith', 100), (11, 'bob@example.org', 'Bob Jones', 100),"
    " (12, 'carol@example.org', 'Carol Meyer', 101), (13, 'erin@example.org', 'Erin Wolf', 102),"
    " (14, 'frank@example.org', 'Frank Roth', 103)",
    "INSERT INTO staff (id, email, name, address_id) VALUES"
    " (1, 'sam@shop.example', 'Sam Staff', 103), (2, 'kim@shop.example', 'Kim Keller', NULL)",
    "INSERT INTO stores (id, name, address_id) VALUES (1, 'Shop Mitte', 102)",
]

KEYS = {"customers": ("id",), "staff": ("id",), "addresses": ("id",), "cities": ("id",)}

TABLES = """\
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
staff:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
addresses:
  columns:
    street: {category: contact.postal_address}
    postal_code: {category: contact.postal_address}
  erasure: {strategy: delete}
cities:
  columns:
    name: {category: contact.postal_address}
  erasure: {strategy: delete}
"""

PEOPLE = {
    "ann": Person("Ann Smith", "ann@example.org", texts=("Linienstraße 5",)),
    "carol": Person(
        "Carol Meyer", "carol@example.org", texts=("Kastanienallee 12", "Kleinmachnow")
    ),
    "erin": Person("Erin Wolf", "erin@example.org", texts=("Friedrichstraße 80",)),
    "sam": Person("Sam Staff", "sam@shop.example", texts=("Oderberger Straße 3",)),
}


def theirs(connection: Connection, person: Person) -> tuple[Rows, Rows]:
    """The person's own rows, and the shared rows their rows point to, by hand-written SQL."""
    customers = matching(connection, "SELECT id, email FROM customers", person.owns_email)
    staff = matching(connection, "SELECT id, email FROM staff", person.owns_email)
    reached = keys(
        connection, "SELECT address_id FROM customers WHERE id IN :ids", ids=customers
    ) | keys(connection, "SELECT address_id FROM staff WHERE id IN :ids", ids=staff)
    reached = {key for key in reached if key != (None,)}
    # Shared: some row that is not the person's points to it (a customer, staff, a store).
    others = (
        keys(
            connection,
            "SELECT address_id FROM customers WHERE id NOT IN :ids AND address_id IS NOT NULL",
            ids=customers,
        )
        | keys(
            connection,
            "SELECT address_id FROM staff WHERE id NOT IN :ids AND address_id IS NOT NULL",
            ids=staff,
        )
        | keys(connection, "SELECT address_id FROM stores")
    )
    own_addresses = reached - others
    # A city is shared when an address that is not the person's alone points to it.
    cities = keys(connection, "SELECT city_id FROM addresses WHERE id IN :ids", ids=reached)
    other_cities = keys(
        connection, "SELECT city_id FROM addresses WHERE id NOT IN :ids", ids=own_addresses
    )
    mine = nonempty(
        {
            "customers": customers,
            "staff": staff,
            "addresses": own_addresses,
            "cities": cities - other_cities,
        }
    )
    shared = nonempty({"addresses": reached & others, "cities": cities & other_cities})
    return mine, shared


def own(connection: Connection, person: Person) -> Rows:
    """What erasure takes: the person's own rows."""
    return theirs(connection, person)[0]


def shared_with_others(connection: Connection, person: Person) -> Rows:
    """What erasure keeps: the shared rows the person's rows reach."""
    return theirs(connection, person)[1]


def everything(connection: Connection, person: Person) -> Rows:
    """What access shows: the person's rows and the shared rows they reach."""
    mine, shared = theirs(connection, person)
    return {table: mine.get(table, set()) | shared.get(table, set()) for table in {*mine, *shared}}


EXPECTED: dict[str, tuple[Rows, Rows]] = {
    "ann": ({"customers": {(10,)}}, {"addresses": {(100,)}, "cities": {(3,)}}),
    "carol": ({"customers": {(12,)}, "addresses": {(101,)}, "cities": {(2,)}}, {}),
    "erin": ({"customers": {(13,)}}, {"addresses": {(102,)}, "cities": {(1,)}}),
    "sam": ({"staff": {(1,)}}, {"addresses": {(103,)}, "cities": {(1,)}}),
}


shop = seeded(SCHEMA, SEED)


def test_the_oracle_tells_each_persons_own_address_from_a_shared_one(shop: Company) -> None:
    """The hand-written SQL finds each person's rows and which addresses and cities are shared."""
    with shop.read() as connection:
        assert {name: theirs(connection, person) for name, person in PEOPLE.items()} == EXPECTED
    # The residue search sees the person where the seed put them.
    assert shop.residue(PEOPLE["carol"]) == [
        "addresses.street",
        "cities.name",
        "customers.email",
        "customers.name",
    ]
    assert shop.broken_links() == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """Addresses reached only upwards, and an undeclared stores table, are no error."""
    assert errors(shop, TABLES) == []


def test_access_shows_the_persons_address_whether_shared_or_their_own(
    shop: Company, tmp_path: Path
) -> None:
    """Ann, Carol, Erin and Sam each see their row, the address it points to and its city."""
    access(shop, tmp_path, TABLES, KEYS, everything, *PEOPLE.values())


@pytest.mark.parametrize("name", ["ann", "erin", "sam"])
def test_erasure_keeps_an_address_shared_with_a_customer_a_store_or_staff(
    shop: Company, tmp_path: Path, name: str
) -> None:
    """The shared address stays as it was and is reported kept, shared with other people."""
    person = PEOPLE[name]
    shared = shop.found(shared_with_others, person)
    tables = erase(shop, tmp_path, TABLES, own, person, kept=shared).tables

    # Reported kept: nothing of the table erased, and why. (A table may hold both rows erased
    # and rows kept as shared, so its entry counts both rather than naming one action.)
    for table in ("addresses", "cities"):
        assert "shared with other people" in json.dumps(tables[table]), tables[table]
        assert not tables[table].get("rows"), tables[table]


def test_erasure_deletes_an_address_nobody_else_points_to(shop: Company, tmp_path: Path) -> None:
    """Carol lives alone: her customer row, her address and her city go; nothing else changes."""
    erasure = erase(shop, tmp_path, TABLES, own, PEOPLE["carol"])

    for table in ("addresses", "cities"):
        outcome = erasure.tables[table]
        assert (outcome["action"], outcome["rows"]) == ("deleted", 1), outcome
    assert (101,) not in erasure.after["addresses"] and (2,) not in erasure.after["cities"]
