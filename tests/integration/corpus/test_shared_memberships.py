"""Shape 14: rows that belong to every person they link to.

A home is its owner's (``homes.owner_id → users``). A membership (``home_members``) links a
home and a user, and is both people's: the home owner's, since it is part of their home, and the
member's. The declaration says so with ``follow: true`` on both links. Ann owns a flat where
Bob is a guest, and is a guest in Carol's house. Without ``follow: true`` the table is
ambiguous: check says so and requests fail.

A member does not reach the home upwards: a home is owned by its owner, not shared by its
guests.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, assert_refused, erase, errors, revised
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200) NOT NULL)",
    "CREATE TABLE homes (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL,"
    " name VARCHAR(200) NOT NULL, street VARCHAR(200) NOT NULL,"
    " FOREIGN KEY (owner_id) REFERENCES users (id))",
    "CREATE TABLE home_members (home_id INTEGER NOT NULL, user_id INTEGER NOT NULL,"
    " role VARCHAR(20) NOT NULL, PRIMARY KEY (home_id, user_id),"
    " FOREIGN KEY (home_id) REFERENCES homes (id), FOREIGN KEY (user_id) REFERENCES users (id))",
]

SEED = [
    "INSERT INTO users (id, email, name) VALUES"
    " (1, 'ann@example.org', 'Ann Smith'), (2, 'bob@example.org', 'Bob Jones'),"
    " (3, 'carol@example.org', 'Carol Meyer')",
    "INSERT INTO homes (id, owner_id, name, street) VALUES"
    " (10, 1, 'Flat', 'Linienstraße 5'), (11, 3, 'House by the lake', 'Seestraße 2')",
    "INSERT INTO home_members (home_id, user_id, role) VALUES"
    " (10, 1, 'owner'), (10, 2, 'guest'), (11, 3, 'owner'), (11, 1, 'guest'), (11, 2, 'guest')",
]

KEYS = {"users": ("id",), "homes": ("id",), "home_members": ("home_id", "user_id")}

TABLES = """\
users:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
  erasure: {strategy: delete}
homes:
  columns:
    name: {category: account.settings}
    street: {category: contact.postal_address}
  erasure: {strategy: delete}
home_members:
  columns:
    role: {category: account.membership}
  erasure: {strategy: delete}
  relations:
    - {column: home_id, references: homes.id, follow: true}
    - {column: user_id, references: users.id, follow: true}
"""

AMBIGUOUS = revised(
    TABLES,
    (
        "  relations:\n    - {column: home_id, references: homes.id, follow: true}\n"
        "    - {column: user_id, references: users.id, follow: true}\n",
        "",
    ),
)
"""The same tables without ``follow: true``: a membership could be its home's or its member's."""

ANN = Person("Ann Smith", "ann@example.org", texts=("Linienstraße 5",))
BOB = Person("Bob Jones", "bob@example.org")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows: their user row, homes they own, memberships of either kind."""
    users = matching(connection, "SELECT id, email FROM users", person.owns_email)
    homes = keys(connection, "SELECT id FROM homes WHERE owner_id IN :ids", ids=users)
    return nonempty(
        {
            "users": users,
            "homes": homes,
            "home_members": keys(
                connection,
                "SELECT home_id, user_id FROM home_members WHERE user_id IN :ids",
                ids=users,
            )
            | keys(
                connection,
                "SELECT home_id, user_id FROM home_members WHERE home_id IN :ids",
                ids=homes,
            ),
        }
    )


shop = seeded(SCHEMA, SEED)


def test_the_oracle_gives_a_membership_to_the_member_and_to_the_homes_owner(
    shop: Company,
) -> None:
    """Ann has her flat, both its memberships and hers in Carol's house; Bob his two only."""
    assert shop.found(theirs, ANN) == {
        "users": {(1,)},
        "homes": {(10,)},
        "home_members": {(10, 1), (10, 2), (11, 1)},
    }
    assert shop.found(theirs, BOB) == {"users": {(2,)}, "home_members": {(10, 2), (11, 2)}}
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == ["homes.street", "users.email", "users.name"]
    assert shop.broken_links() == []


def test_the_declaration_following_both_links_checks_without_errors(shop: Company) -> None:
    """``follow: true`` on both links of the membership table settles its owners."""
    assert errors(shop, TABLES) == []


def test_access_shows_a_membership_to_the_member_and_to_the_homes_owner(
    shop: Company, tmp_path: Path
) -> None:
    """Ann sees Bob's membership of her flat; Bob sees his memberships, not the homes."""
    access(shop, tmp_path, TABLES, KEYS, theirs, ANN, BOB)


def test_erasure_takes_the_owners_home_with_its_memberships_and_leaves_other_homes(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's flat and all its memberships go, and her guest membership; Carol's house stays."""
    after = erase(shop, tmp_path, TABLES, theirs, ANN).after
    assert sorted(after["home_members"]) == [(11, 2), (11, 3)]


def test_without_follow_true_check_and_requests_refuse_the_membership_table(
    shop: Company, tmp_path: Path
) -> None:
    """Two possible owners and no annotation: a D error on home_members; requests fail."""
    found = errors(shop, AMBIGUOUS)
    assert found and all(problem.has_d_code for problem in found), found
    assert {problem.table for problem in found} == {"home_members"}
    assert_refused(shop, tmp_path, AMBIGUOUS, ("erasure", ANN), naming=("home_members",))
