"""Shape 8: identities as people and systems typed them, and near misses that are someone else.

Ann (``ann.smith@example.org``, ``+49 30 1234567``) signed up twice, once in capitals and once
with spaces around her address; a third customer row of hers has only her phone number. A
call-back log (``role: owned``: a row is a call, not a person) holds her number in national
and international spellings. A US contact list (``region: US``) holds Uma's ``(212) 555-0123``
without country code, and Ann's number with it.

Near misses that must not match: ``ann.smith@example.org.uk``, ``+49 30 1234568``, the French
``+33 3 01 23 45 67`` (the same national digits as Ann's), ``030 12345678`` (one digit more),
and ``030 1234567`` in the US list (a national number there is American, not German).

(The brief named ``(555) 123-4567`` for the US person; Pledge refuses ``+1 555 123 4567`` as a
person's identity, 555 being no US area code, so Uma's number is ``(212) 555-0123``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200),"
    " name VARCHAR(200) NOT NULL, phone VARCHAR(50))",
    "CREATE TABLE callbacks (id INTEGER PRIMARY KEY, phone VARCHAR(50) NOT NULL,"
    " requested_on DATE NOT NULL, note VARCHAR(500))",
    "CREATE TABLE us_contacts (id INTEGER PRIMARY KEY, phone VARCHAR(50) NOT NULL,"
    " name VARCHAR(200) NOT NULL)",
]

SEED = [
    "INSERT INTO customers (id, email, name, phone) VALUES"
    " (1, 'ANN.SMITH@EXAMPLE.ORG', 'Ann Smith', '+49 30 1234567'),"
    " (2, ' Ann.Smith@example.org ', 'Ann Smith', '+49 (0)30 1234567'),"
    " (3, 'ann.smith@example.org.uk', 'Ann Smithers', '+49 30 1234568'),"
    " (4, 'bob@example.org', 'Bob Jones', '030 7654321'),"
    " (5, NULL, 'A. Smith', '0049-30-1234567'),"
    " (6, 'claire@example.fr', 'Claire Martin', '+33 3 01 23 45 67')",
    "INSERT INTO callbacks (id, phone, requested_on, note) VALUES"
    " (10, '030 1234567', '2026-01-10', 'Wants to change her delivery address'),"
    " (11, '0049-30-1234567', '2026-01-12', 'Called back, no answer'),"
    " (12, '+49 30 1234568', '2026-01-13', 'Asked about a refund'),"
    " (13, '+33 3 01 23 45 67', '2026-01-14', 'Order from France'),"
    " (14, '030 12345678', '2026-01-15', 'Wrong number?')",
    "INSERT INTO us_contacts (id, phone, name) VALUES"
    " (20, '(212) 555-0123', 'Uma Patel'), (21, '030 1234567', 'Gus Miller'),"
    " (22, '+49 30 1234567', 'Ann Smith'), (23, '(212) 555-0199', 'Ted Brooks')",
]

KEYS = {"customers": ("id",), "callbacks": ("id",), "us_contacts": ("id",)}

TABLES = """\
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
    phone: {category: contact.phone, identity: phone}
  erasure: {strategy: delete}
callbacks:
  role: owned
  columns:
    phone: {category: contact.phone, identity: phone}
    note: {category: user_content.support_messages}
  erasure: {strategy: delete}
us_contacts:
  columns:
    phone: {category: contact.phone, identity: phone, region: US}
    name: {category: identity.name}
  erasure: {strategy: delete}
"""

ANN = Person("Ann Smith", "ann.smith@example.org", phones=("49301234567",))
UMA = Person("Uma Patel", phones=("12125550123",))
NOBODY = Person("Nobody Here", "ann.smith@example.com", phones=("49301234569",))
REGIONS = {("us_contacts", "phone"): "US"}


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, found by their e-mail address or number however it is spelled."""

    def us_phone(value: Any) -> bool:
        return person.owns_phone(value, "US")

    return nonempty(
        {
            "customers": matching(connection, "SELECT id, email FROM customers", person.owns_email)
            | matching(connection, "SELECT id, phone FROM customers", person.owns_phone),
            "callbacks": matching(connection, "SELECT id, phone FROM callbacks", person.owns_phone),
            "us_contacts": matching(connection, "SELECT id, phone FROM us_contacts", us_phone),
        }
    )


shop = seeded(SCHEMA, SEED)


def test_the_oracle_matches_every_spelling_and_no_near_miss(shop: Company) -> None:
    """The hand-written matching finds Ann's and Uma's rows; none of the near misses."""
    assert shop.found(theirs, ANN) == {
        "customers": {(1,), (2,), (5,)},
        "callbacks": {(10,), (11,)},
        "us_contacts": {(22,)},
    }
    assert shop.found(theirs, UMA) == {"us_contacts": {(20,)}}
    assert shop.found(theirs, NOBODY) == {}
    # The residue search sees her where the seed put her, and never in a near miss.
    assert shop.residue(ANN, regions=REGIONS) == [
        "callbacks.phone",
        "customers.email",
        "customers.name",
        "customers.phone",
        "us_contacts.name",
        "us_contacts.phone",
    ]
    assert shop.residue(NOBODY, regions=REGIONS) == []


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    """Match kinds, a region and an owned table of identities are valid annotations."""
    assert errors(shop, TABLES) == []


def test_access_matches_identities_however_they_are_stored(shop: Company, tmp_path: Path) -> None:
    """Ann's report holds every spelling of her; Uma's holds her US row only."""
    anns_spelling = (("email", "Ann.Smith@Example.org"), ("phone", "+49 30 1234567"))
    umas_spelling = (("phone", "+1 212 555 0123"),)
    access(
        shop, tmp_path, TABLES, KEYS, theirs, ANN, UMA, identities=[anns_spelling, umas_spelling]
    )


def test_erasure_removes_every_spelling_and_no_near_miss(shop: Company, tmp_path: Path) -> None:
    """Ann's rows go, whatever the spelling; the near misses are unchanged."""
    anns_identities = (("email", ANN.email), ("phone", "+49 30 1234567"))
    erase(shop, tmp_path, TABLES, theirs, ANN, identities=anns_identities, regions=REGIONS)


def test_an_erasure_that_finds_nothing_says_so_and_forgets_nobody(
    shop: Company, tmp_path: Path
) -> None:
    """Near misses of every stored row: the outcome is "nothing found", the person stays known."""
    nobodys_identities = (("email", NOBODY.email), ("phone", "+49 30 1234569"))
    erasure = erase(
        shop, tmp_path, TABLES, theirs, NOBODY, identities=nobodys_identities, regions=REGIONS
    )

    # The outcome says so, as a flag or in words; either way it is not an erasure.
    result = erasure.result
    assert result.get("nothing_found") is True or "nothing found" in str(result), result
    erased = {
        table: outcome
        for datastore in result.get("datastores", {}).values()
        for table, outcome in datastore.get("tables", {}).items()
        if outcome.get("rows")
    }
    assert erased == {}, "an erasure that found nothing reports rows erased"
    assert erasure.subject.erased is False
    assert erasure.after == erasure.before
