"""Shape 13: identities kept in tables of their own, beside a table of people with none.

``users`` holds people but no identity column (``role: person``); their e-mail addresses and
phone numbers are rows of ``user_emails`` and ``user_phones`` (``role: owned``: a row is an
address, not a person), each pointing to its user. Found by one address, Ann's user row is
hers (up from the identity row), and so are the rows that point to it (down): her other
address, her phone number, her orders. Another user is called Ann Smith too; a name
identifies nobody.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL,"
    " created_on DATE NOT NULL)",
    "CREATE TABLE user_emails (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,"
    " email VARCHAR(200) NOT NULL, is_primary INTEGER NOT NULL,"
    " FOREIGN KEY (user_id) REFERENCES users (id))",
    "CREATE TABLE user_phones (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,"
    " phone VARCHAR(50) NOT NULL, FOREIGN KEY (user_id) REFERENCES users (id))",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,"
    " total NUMERIC(10, 2) NOT NULL, FOREIGN KEY (user_id) REFERENCES users (id))",
]

SEED = [
    "INSERT INTO users (id, name, created_on) VALUES"
    " (1, 'Ann Smith', '2024-05-01'), (2, 'Bob Jones', '2024-06-01'),"
    " (3, 'Ann Smith', '2025-01-15')",
    "INSERT INTO user_emails (id, user_id, email, is_primary) VALUES"
    " (10, 1, 'ann@example.org', 1), (11, 1, 'ann.smith@work.example', 0),"
    " (12, 2, 'bob@example.org', 1), (13, 3, 'ann.smith@other.example', 1)",
    "INSERT INTO user_phones (id, user_id, phone) VALUES"
    " (20, 1, '+49 30 1234567'), (21, 2, '+49 30 7654321')",
    "INSERT INTO orders (id, user_id, total) VALUES"
    " (30, 1, 20.00), (31, 1, 35.50), (32, 2, 12.00), (33, 3, 9.99)",
]

KEYS = {"users": ("id",), "user_emails": ("id",), "user_phones": ("id",), "orders": ("id",)}

TABLES = """\
users:
  role: person
  columns:
    name: {category: identity.name}
    created_on: {category: account.membership}
  erasure: {strategy: delete}
user_emails:
  role: owned
  columns:
    email: {category: contact.email, identity: email}
  erasure: {strategy: delete}
user_phones:
  role: owned
  columns:
    phone: {category: contact.phone, identity: phone}
  erasure: {strategy: delete}
orders:
  columns:
    total: {category: financial.purchase_history}
  erasure: {strategy: delete}
"""

ANN = Person(
    "Ann Smith", "ann@example.org", phones=("49301234567",), texts=("ann.smith@work.example",)
)
NAMESAKE = {"users": {(3,)}}
"""The other Ann Smith's user row: it holds the same name and is not Ann's."""


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows: up from any identity row to the user, then down from the user."""
    users = keys(
        connection,
        "SELECT user_id FROM user_emails WHERE id IN :ids",
        ids=matching(connection, "SELECT id, email FROM user_emails", person.owns_email),
    ) | keys(
        connection,
        "SELECT user_id FROM user_phones WHERE id IN :ids",
        ids=matching(connection, "SELECT id, phone FROM user_phones", person.owns_phone),
    )
    return nonempty(
        {
            "users": users,
            "user_emails": keys(
                connection, "SELECT id FROM user_emails WHERE user_id IN :ids", ids=users
            ),
            "user_phones": keys(
                connection, "SELECT id FROM user_phones WHERE user_id IN :ids", ids=users
            ),
            "orders": keys(connection, "SELECT id FROM orders WHERE user_id IN :ids", ids=users),
        }
    )


shop = seeded(SCHEMA, SEED)


def test_the_oracle_goes_up_from_an_identity_row_and_down_from_the_user(shop: Company) -> None:
    """The hand-written SQL finds Ann's user, both her addresses, her phone and her orders."""
    assert shop.found(theirs, ANN) == {
        "users": {(1,)},
        "user_emails": {(10,), (11,)},
        "user_phones": {(20,)},
        "orders": {(30,), (31,)},
    }
    # The residue search sees her where the seed put her (and not in her namesake's row).
    assert shop.residue(ANN, kept=NAMESAKE) == [
        "user_emails.email",
        "user_phones.phone",
        "users.name",
    ]
    assert shop.broken_links() == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """A table of people without identity columns, reached from owned identity tables."""
    assert errors(shop, TABLES) == []


def test_access_by_one_address_finds_the_person_and_everything_of_theirs(
    shop: Company, tmp_path: Path
) -> None:
    """Asked by her e-mail or by her phone, Ann gets the same rows: all of hers, no namesake's."""
    by_either = [(("email", ANN.email),), (("phone", "+49 30 1234567"),)]
    access(shop, tmp_path, TABLES, KEYS, theirs, ANN, ANN, identities=by_either)


def test_erasure_removes_the_person_found_through_an_identity_table(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's user row and everything pointing to it go; Bob and the other Ann Smith stay."""
    after = erase(shop, tmp_path, TABLES, theirs, ANN, kept=NAMESAKE).after
    assert (1,) not in after["users"] and (11,) not in after["user_emails"]
