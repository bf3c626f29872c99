"""Shape 9: identity columns under a case-insensitive collation.

MariaDB's default ``utf8mb4_general_ci`` compares ``AB12`` equal to ``ab12`` and to ``AB12 ``
(trailing spaces are padded away), and ``ann@`` equal to ``ánn@``. PostgreSQL gets the same
trap from a nondeterministic ICU collation (case-insensitive, accent-sensitive), SQLite from
``COLLATE NOCASE``. The corpus expects the same rows on every engine: an e-mail address
matches in any case with spaces around it ignored, and nothing else; an account code
(``match: exact``) matches as stored, byte for byte.

Ann's identities: ``ann@example.org`` and member code ``AB12``. Her rows: member 1
(``Ann@Example.org``, ``AB12``) and member 4 (``ANN@EXAMPLE.ORG `` with a trailing space).
Not hers: Ánn Ström (``ánn@example.org``, ``ab12``) and Otto (``AB12 ``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

CASE_INSENSITIVE = {
    "sqlite": ("", "COLLATE NOCASE", ""),
    "postgresql": (
        "CREATE COLLATION case_insensitive"
        " (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
        'COLLATE "case_insensitive"',
        "",
    ),
    "mariadb": ("", "", " DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci"),
}
"""Per engine: a statement run first, the clause on each text column, the table options."""


def schema(engine: str) -> list[str]:
    """The shape's tables, their text columns case-insensitive on ``engine``."""
    first, column, options = CASE_INSENSITIVE[engine]
    return [
        *([first] if first else []),
        f"CREATE TABLE members (id INTEGER PRIMARY KEY, email VARCHAR(200) {column},"
        f" code VARCHAR(20) {column} NOT NULL, name VARCHAR(200) NOT NULL){options}",
        f"CREATE TABLE visits (id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL,"
        f" visited_on DATE NOT NULL, club VARCHAR(100) {column},"
        f" FOREIGN KEY (member_id) REFERENCES members (id)){options}",
    ]


SEED = [
    "INSERT INTO members (id, email, code, name) VALUES"
    " (1, 'Ann@Example.org', 'AB12', 'Ann Smith'),"
    " (2, 'ánn@example.org', 'ab12', 'Ánn Ström'),"
    " (3, 'otto@example.org', 'AB12 ', 'Otto Meyer'),"
    " (4, 'ANN@EXAMPLE.ORG ', 'XY99', 'Ann Smith'),"
    " (5, 'bob@example.org', 'CD34', 'Bob Jones')",
    "INSERT INTO visits (id, member_id, visited_on, club) VALUES"
    " (10, 1, '2026-01-03', 'Mitte'), (11, 2, '2026-01-04', 'Mitte'),"
    " (12, 3, '2026-01-05', 'Pankow'), (13, 4, '2026-01-06', 'Pankow'),"
    " (14, 5, '2026-01-07', 'Mitte')",
]

KEYS = {"members": ("id",), "visits": ("id",)}

TABLES = """\
members:
  columns:
    email: {category: contact.email, identity: email}
    code: {category: account.id, identity: account, match: exact}
    name: {category: identity.name}
  erasure: {strategy: delete}
visits:
  columns:
    visited_on: {category: usage.access_times}
    club: {category: usage.access_times}
  erasure: {strategy: delete}
"""

ANN = Person("Ann Smith", "ann@example.org")
ANNS_CODE = "AB12"


def theirs(connection: Connection, person: Person, code: str = ANNS_CODE) -> Rows:
    """The person's rows; identities compared here, byte for byte where the match is exact.

    Args:
        connection: the corpus's connection.
        person: whose rows.
        code: their member code (Ann's by default: the shape asks for nobody else).
    """
    members = matching(connection, "SELECT id, email FROM members", person.owns_email) | matching(
        connection, "SELECT id, code FROM members", lambda value: value == code
    )
    return nonempty(
        {
            "members": members,
            "visits": keys(
                connection, "SELECT id FROM visits WHERE member_id IN :ids", ids=members
            ),
        }
    )


shop = seeded(schema, SEED)


def test_the_collation_is_case_insensitive_and_the_oracle_is_not(shop: Company) -> None:
    """The database itself finds other people's codes equal to Ann's; the oracle does not."""
    with shop.read() as connection:
        collated = keys(connection, "SELECT id FROM members WHERE code = :code", code=ANNS_CODE)
        assert theirs(connection, ANN, ANNS_CODE) == {
            "members": {(1,), (4,)},
            "visits": {(10,), (13,)},
        }
        stored = connection.execute(text("SELECT code FROM members WHERE id = 3")).scalar_one()
    assert {(1,), (2,)} <= collated  # the trap is armed: 'ab12' = 'AB12' here
    assert stored == "AB12 "  # and the trailing space is stored (it only compares away)
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == ["members.email", "members.name"]
    assert shop.broken_links() == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """``match: exact`` on an account column is a valid annotation."""
    assert errors(shop, TABLES) == []


def test_access_under_a_case_insensitive_collation_finds_only_the_persons_rows(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's report holds members 1 and 4 and their visits, on every engine alike."""
    by_both = (("email", ANN.email), ("account", ANNS_CODE))
    access(shop, tmp_path, TABLES, KEYS, theirs, ANN, identities=[by_both])


def test_erasure_under_a_case_insensitive_collation_spares_look_alikes(
    shop: Company, tmp_path: Path
) -> None:
    """Ann's members and visits go; Ánn Ström and Otto keep every row, byte for byte."""
    by_both = (("email", ANN.email), ("account", ANNS_CODE))
    erase(shop, tmp_path, TABLES, theirs, ANN, identities=by_both)
