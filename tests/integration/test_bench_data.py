"""The subject-request benchmark's data and hand-written SQL, on a throwaway PostgreSQL database.

``bench/cloudwarm_data.py`` loads 1,000 people into a database of this module's own (dropped
afterwards); the tests check the load's shape and integrity, then hold the baseline of
``bench/subject_baseline.py`` against queries written independently, with joins from the
account. Erasures run inside a transaction the test rolls back, so every test sees the same
load. PostgreSQL being unreachable skips them, or fails them under ``CI=true``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from bench.cloudwarm_data import COLUMNS, Generation, conninfo, ensure
from bench.subject_baseline import (
    TABLES,
    baseline_access,
    baseline_erase,
    baseline_erase_many,
    pseudonym,
)
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import make_url
from tests.backends import POSTGRES_URL, unavailable

PEOPLE = 1_000
KEY = b"k" * 32
Connection = psycopg.Connection[tuple[Any, ...]]

# Each table's rows of the person with the address %(email)s, as primary keys, reached with
# joins from their account, found by %(account)s: the same address, or after an erasure its
# pseudonym. Written apart from the baseline, which walks ids step by step.
INDEPENDENT = {
    "users": "SELECT id FROM users WHERE email = %(account)s",
    "homes": "SELECT h.id FROM homes h JOIN users u ON u.id = h.owner_id"
    " WHERE u.email = %(account)s",
    "home_members": """
        SELECT m.home_id, m.user_id FROM home_members m JOIN users u ON u.id = m.user_id
        WHERE u.email = %(account)s
        UNION
        SELECT m.home_id, m.user_id FROM home_members m JOIN homes h ON h.id = m.home_id
        JOIN users u ON u.id = h.owner_id WHERE u.email = %(account)s""",
    "thermostats": """
        SELECT t.id FROM thermostats t JOIN homes h ON h.id = t.home_id
        JOIN users u ON u.id = h.owner_id WHERE u.email = %(account)s""",
    "temperature_readings": """
        SELECT r.id FROM temperature_readings r JOIN thermostats t ON t.id = r.thermostat_id
        JOIN homes h ON h.id = t.home_id JOIN users u ON u.id = h.owner_id
        WHERE u.email = %(account)s""",
    "support_tickets": "SELECT id FROM support_tickets WHERE customer_email = %(email)s",
    "newsletter_subscriptions": """
        SELECT n.id FROM newsletter_subscriptions n WHERE n.email = %(email)s
        UNION
        SELECT n.id FROM newsletter_subscriptions n JOIN users u ON u.id = n.user_id
        WHERE u.email = %(account)s""",
    "invoices": "SELECT i.id FROM invoices i JOIN users u ON u.id = i.user_id"
    " WHERE u.email = %(account)s",
}
# One address for each way a person's rows are spread, picked from the load.
CASES = {
    "member of another's home": """
        SELECT u.email FROM users u JOIN home_members m ON m.user_id = u.id
        JOIN homes h ON h.id = m.home_id WHERE h.owner_id <> u.id ORDER BY u.id LIMIT 1""",
    "whose home others share": """
        SELECT u.email FROM users u JOIN homes h ON h.owner_id = u.id
        JOIN home_members m ON m.home_id = h.id WHERE m.user_id <> u.id ORDER BY u.id LIMIT 1""",
    "two homes": """
        SELECT u.email FROM users u JOIN homes h ON h.owner_id = u.id
        GROUP BY u.id HAVING count(*) = 2 ORDER BY u.id LIMIT 1""",
    "several tickets": """
        SELECT customer_email FROM support_tickets WHERE customer_email IN (SELECT email FROM users)
        GROUP BY customer_email HAVING count(*) >= 3 ORDER BY customer_email LIMIT 1""",
    "subscribed under an older address": """
        SELECT u.email FROM users u JOIN newsletter_subscriptions n ON n.user_id = u.id
        WHERE n.email <> u.email ORDER BY u.id LIMIT 1""",
    "subscribed before signing up": """
        SELECT u.email FROM users u JOIN newsletter_subscriptions n ON n.email = u.email
        WHERE n.user_id IS NULL ORDER BY u.id LIMIT 1""",
    "referred someone": """
        SELECT u.email FROM users u WHERE u.id IN (SELECT referred_by FROM users)
        ORDER BY u.id LIMIT 1""",
    "a visitor without an account": """
        SELECT customer_email FROM support_tickets
        WHERE customer_email NOT IN (SELECT email FROM users) ORDER BY id LIMIT 1""",
    "a reader without an account": """
        SELECT email FROM newsletter_subscriptions
        WHERE user_id IS NULL AND email NOT IN (SELECT email FROM users) ORDER BY id LIMIT 1""",
    "nobody": "SELECT 'nobody@example.com'",
}


@pytest.fixture(scope="module")
def load() -> Iterator[tuple[str, Generation]]:
    """A throwaway PostgreSQL database with 1,000 people loaded; dropped afterwards."""
    admin = conninfo(POSTGRES_URL)
    name = f"pledge_bench_test_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL is not reachable at {make_url(POSTGRES_URL)!r}: {error}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url, ensure(url, PEOPLE, progress=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def connection(load: tuple[str, Generation]) -> Iterator[Connection]:
    """A connection to the loaded database whose changes are rolled back at the end."""
    with psycopg.connect(conninfo(load[0])) as opened:
        try:
            yield opened
        finally:
            opened.rollback()


def counts(connection: Connection) -> dict[str, int]:
    """Rows per table, as they are now."""
    found = {}
    for table in COLUMNS:
        row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        found[table] = row[0]
    return found


def independent(
    connection: Connection, email: str, account: str | None = None
) -> dict[str, set[tuple[Any, ...]]]:
    """The primary keys of the person's rows per table, by :data:`INDEPENDENT`.

    ``account`` is the address their account holds, when it is no longer ``email``.
    """
    parameters = {"email": email, "account": account or email}
    return {
        table: set(connection.execute(query, parameters).fetchall())
        for table, query in INDEPENDENT.items()
    }


def snapshot(connection: Connection) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of every table."""
    return {table: set(connection.execute(f"SELECT * FROM {table}")) for table in COLUMNS}


def after_erasing(
    before: dict[str, set[tuple[Any, ...]]], erased: dict[str, dict[str, set[tuple[Any, ...]]]]
) -> dict[str, set[tuple[Any, ...]]]:
    """The rows ``before`` once the people in ``erased`` (address → rows) are erased.

    Their rows are deleted, but invoices; their accounts are rewritten as the declaration says.
    """
    expected = {}
    for table, rows in before.items():
        gone = set().union(*(found.get(table, set()) for found in erased.values()))
        expected[table] = {row for row in rows if keys(table, [row]).isdisjoint(gone)}
    for email, found in erased.items():
        for (account,) in found["users"]:
            (row,) = [row for row in before["users"] if row[0] == account]
            expected["users"].add((account, pseudonym(email, KEY), None, None, "!erased", *row[5:]))
    expected["invoices"] = before["invoices"]
    return expected


def case_addresses(connection: Connection) -> dict[str, str]:
    """An address for each of :data:`CASES`, different people for different cases."""
    found: dict[str, str] = {}
    for case, query in CASES.items():
        rows = [row[0] for row in connection.execute(query.replace("LIMIT 1", "LIMIT 20"))]
        fresh = [email for email in rows if email not in found.values()]
        assert fresh, f"the load has no one else {case}"
        found[case] = fresh[0]
    return found


def keys(table: str, rows: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """The primary keys of ``rows`` of ``table`` (home_members has two columns)."""
    width = 2 if table == "home_members" else 1
    return {row[:width] for row in rows}


def test_the_load_has_the_shape_of_the_full_benchmark(
    load: tuple[str, Generation], connection: Connection
) -> None:
    """Rows per table grow with the people as they must for 100,000 people and 1,000,000 rows."""
    _, generation = load
    found = counts(connection)
    people = found["users"]

    assert found == generation.counts
    assert people == PEOPLE
    assert sum(found.values()) > 10 * people
    assert found["temperature_readings"] >= 8 * people  # ≥ 800,000 at full size
    assert 1.1 * people < found["homes"] < 1.5 * people
    assert found["homes"] < found["home_members"] < 1.3 * found["homes"]
    assert 1.2 * found["homes"] < found["thermostats"] < 2.2 * found["homes"]
    assert 0.7 * people < found["support_tickets"] < 1.3 * people
    assert 0.6 * people < found["newsletter_subscriptions"] < people
    assert 2 * people < found["invoices"] < 3 * people
    assert found["firmware_releases"] > 0


def test_the_same_parameters_find_the_load_instead_of_repeating_it(
    load: tuple[str, Generation],
) -> None:
    """A second call with the same people and seed loads nothing and reports the same rows."""
    url, generation = load
    again = ensure(url, PEOPLE, progress=False)

    assert not again.loaded
    assert again.counts == generation.counts


def test_loading_again_gives_the_same_rows(load: tuple[str, Generation]) -> None:
    """A forced load with the same seed replaces every row by the same row."""
    url, generation = load
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        before = snapshot(connection)
        again = ensure(url, PEOPLE, force=True, progress=False)
        after = snapshot(connection)

    assert again.loaded
    assert again.counts == generation.counts
    assert after == before


def test_every_ticket_names_a_valid_address_some_of_no_account(connection: Connection) -> None:
    """Support tickets name well-formed addresses; most belong to accounts, some to visitors."""
    addresses = [row[0] for row in connection.execute("SELECT customer_email FROM support_tickets")]
    invalid = []
    for address in addresses:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError:
            invalid.append(address)
    of_accounts = connection.execute(
        "SELECT count(*) FROM support_tickets WHERE customer_email IN (SELECT email FROM users)"
    ).fetchone()

    assert invalid == []
    assert of_accounts is not None
    assert 0.8 * len(addresses) < of_accounts[0] < len(addresses)


def test_every_reference_points_at_an_existing_row(connection: Connection) -> None:
    """Every foreign key, and every thermostat's firmware, names a row that exists."""
    orphans = {
        "users.referred_by": "SELECT count(*) FROM users c WHERE referred_by IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.referred_by)",
        "homes.owner_id": "SELECT count(*) FROM homes c"
        " WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.owner_id)",
        "home_members.home_id": "SELECT count(*) FROM home_members c"
        " WHERE NOT EXISTS (SELECT 1 FROM homes p WHERE p.id = c.home_id)",
        "home_members.user_id": "SELECT count(*) FROM home_members c"
        " WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)",
        "thermostats.home_id": "SELECT count(*) FROM thermostats c"
        " WHERE NOT EXISTS (SELECT 1 FROM homes p WHERE p.id = c.home_id)",
        "thermostats.firmware": "SELECT count(*) FROM thermostats c"
        " WHERE NOT EXISTS (SELECT 1 FROM firmware_releases p WHERE p.version = c.firmware)",
        "temperature_readings.thermostat_id": "SELECT count(*) FROM temperature_readings c"
        " WHERE NOT EXISTS (SELECT 1 FROM thermostats p WHERE p.id = c.thermostat_id)",
        "newsletter_subscriptions.user_id": "SELECT count(*) FROM newsletter_subscriptions c"
        " WHERE user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)",
        "invoices.user_id": "SELECT count(*) FROM invoices c"
        " WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)",
    }
    found = {name: connection.execute(query).fetchone() for name, query in orphans.items()}

    assert found == dict.fromkeys(orphans, (0,))


def test_baseline_access_finds_exactly_what_independent_queries_find(
    connection: Connection,
) -> None:
    """For every way a person's rows are spread, the baseline returns exactly their rows."""
    reached: set[str] = set()
    for case, email in case_addresses(connection).items():
        found = baseline_access(connection, email)
        expected = independent(connection, email)

        assert set(found) == set(TABLES), case
        assert {table: keys(table, rows) for table, rows in found.items()} == expected, case
        reached |= {table for table, rows in found.items() if rows}

    assert reached == set(TABLES)


def test_baseline_erasure_leaves_nothing_but_invoices_and_the_rewritten_account(
    connection: Connection,
) -> None:
    """Erasing each case, one after the other, deletes exactly their rows but the invoices,
    rewrites their account, and changes no one else's row."""
    before = snapshot(connection)
    erased: dict[str, dict[str, set[tuple[Any, ...]]]] = {}
    for case, email in case_addresses(connection).items():
        rows = independent(connection, email)
        changed = baseline_erase(connection, email, KEY)

        assert changed == {table: len(rows[table]) for table in TABLES if table != "invoices"}, case
        assert independent(connection, email, pseudonym(email, KEY)) == {
            table: rows[table] if table in ("users", "invoices") else set() for table in TABLES
        }, case
        erased[email] = rows

    assert snapshot(connection) == after_erasing(before, erased)


def test_batch_erasure_has_the_outcome_of_erasing_one_by_one(connection: Connection) -> None:
    """Erasing the cases all at once leaves what erasing them one by one does."""
    before = snapshot(connection)
    erased = {
        email: independent(connection, email) for email in case_addresses(connection).values()
    }
    changed = baseline_erase_many(connection, list(erased), KEY)

    assert changed == {  # a membership in a home of someone else erased goes once
        table: len(set().union(*(rows[table] for rows in erased.values())))
        for table in TABLES
        if table != "invoices"
    }
    assert snapshot(connection) == after_erasing(before, erased)
