"""Shape 3: a parent row reachable only upwards, and credentials that are never exported.

An account points to its profile (``accounts.profile_id → profiles``); the profile holds the
street and the phone number and has no identity column of its own, nor any link to the
account. Only the account's link reaches it. Erasure deletes the account and, depending on the
declaration, deletes or rewrites the profile. The password hash (category
``account.password``) and the login PIN (``secret: true``) never leave the database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors, revised
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE profiles (id INTEGER PRIMARY KEY, display_name VARCHAR(200),"
    " street VARCHAR(200), phone VARCHAR(50))",
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " password_hash VARCHAR(200) NOT NULL, login_pin VARCHAR(10), profile_id INTEGER,"
    " FOREIGN KEY (profile_id) REFERENCES profiles (id))",
]

ANN_PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$QW5uU2FsdA$ann-secret-hash"
ANN_PIN = "4711"

SEED = [
    "INSERT INTO profiles (id, display_name, street, phone) VALUES"
    " (1, 'Ann Smith', 'Linienstraße 5', '+49 30 1234567'),"
    " (2, 'Bob Jones', 'Kastanienallee 12', '+49 30 7654321'),"
    " (3, 'Template profile', NULL, NULL)",
    "INSERT INTO accounts (id, email, password_hash, login_pin, profile_id) VALUES"
    f" (10, 'ann@example.org', '{ANN_PASSWORD_HASH}', '{ANN_PIN}', 1),"
    " (11, 'bob@example.org', '$argon2id$v=19$m=65536,t=3,p=4$Qm9iU2FsdA$bob-hash', '0815', 2)",
]

KEYS = {"accounts": ("id",), "profiles": ("id",)}

REWRITTEN = """\
accounts:
  columns:
    email: {category: contact.email, identity: email}
    password_hash: {category: account.password}
    login_pin: {category: account.settings, secret: true}
  erasure: {strategy: delete}
profiles:
  columns:
    display_name: {category: identity.name}
    street: {category: contact.postal_address}
    phone: {category: contact.phone}
  erasure:
    strategy: rewrite
    rewrite:
      display_name: null
      street: null
      phone: {mask: {keep_last: 2}}
"""
"""The profile is kept, emptied: the account row goes."""

DELETED = revised(
    REWRITTEN,
    (
        "  erasure:\n    strategy: rewrite\n    rewrite:\n      display_name: null\n"
        "      street: null\n      phone: {mask: {keep_last: 2}}\n",
        "  erasure: {strategy: delete}\n",
    ),
)
"""The profile goes with the account."""

ANN = Person("Ann Smith", "ann@example.org", phones=("49301234567",), texts=("Linienstraße 5",))


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL: the account, and the profile it points to."""
    accounts = matching(connection, "SELECT id, email FROM accounts", person.owns_email)
    profiles = keys(
        connection,
        "SELECT profile_id FROM accounts WHERE id IN :ids AND profile_id IS NOT NULL",
        ids=accounts,
    )
    return nonempty({"accounts": accounts, "profiles": profiles})


shop = seeded(SCHEMA, SEED)


def test_the_oracle_reaches_anns_profile_through_her_account(shop: Company) -> None:
    """The hand-written SQL finds Ann's account and her profile, nobody else's."""
    assert shop.found(theirs, ANN) == {"accounts": {(10,)}, "profiles": {(1,)}}
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == [
        "accounts.email",
        "profiles.display_name",
        "profiles.phone",
        "profiles.street",
    ]
    assert shop.broken_links() == []


@pytest.mark.parametrize("tables", [REWRITTEN, DELETED], ids=["rewritten", "deleted"])
def test_the_declaration_checks_without_errors(shop: Company, tables: str) -> None:
    """A profile reached only upwards is no unreachable table, whichever its strategy."""
    assert errors(shop, tables) == []


def test_access_reaches_the_profile_upwards_and_exports_no_credential(
    shop: Company, tmp_path: Path
) -> None:
    """Ann sees her account and profile; her password hash and PIN appear nowhere in the report."""
    (report,) = access(shop, tmp_path, REWRITTEN, KEYS, theirs, ANN)
    assert ANN_PASSWORD_HASH not in report.text and "ann-secret-hash" not in report.text
    (account,) = report.rows["accounts"]
    for secret in ("password_hash", "login_pin"):
        assert account.get(secret, "held, not shown") == "held, not shown", secret
    assert account["profile_id"] == 1  # the link column comes with the row


@pytest.mark.parametrize("tables", [REWRITTEN, DELETED], ids=["rewritten", "deleted"])
def test_erasure_removes_the_account_and_erases_the_profile_it_alone_points_to(
    shop: Company, tmp_path: Path, tables: str
) -> None:
    """No street, phone or name of Ann's is left; Bob's account and profile are unchanged."""
    after = erase(shop, tmp_path, tables, theirs, ANN).after
    assert (10,) not in after["accounts"]
    if tables is REWRITTEN:
        profile = after["profiles"][(1,)]
        assert (profile["display_name"], profile["street"]) == (None, None)
        assert profile["phone"] is not None and profile["phone"].endswith("67")
    else:
        assert (1,) not in after["profiles"]
