"""Shape 11: rows under a legal hold beneath a parent that erasure would delete.

Invoices must be kept ten years and point to their customer (ON DELETE NO ACTION). Declared
``delete`` for customers, an erasure cannot succeed: the customer row cannot go while the held
invoices point to it. Check says so from the schema, and the request fails without changing
anything. Declared ``rewrite`` for customers, the erasure keeps the invoices untouched,
rewrites the customer row, and Pledge keeps the person known, restricted.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, assert_refused, erase, errors, revised
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
    " name VARCHAR(200), street VARCHAR(200))",
    "CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,"
    " number VARCHAR(20) NOT NULL, billing_name VARCHAR(200) NOT NULL,"
    " amount NUMERIC(10, 2) NOT NULL, issued_on DATE NOT NULL,"
    " FOREIGN KEY (customer_id) REFERENCES customers (id))",
]

SEED = [
    "INSERT INTO customers (id, email, name, street) VALUES"
    " (1, 'ann@example.org', 'Ann Smith', 'Linienstraße 5'),"
    " (2, 'bob@example.org', 'Bob Jones', 'Kastanienallee 12')",
    "INSERT INTO invoices (id, customer_id, number, billing_name, amount, issued_on) VALUES"
    " (10, 1, 'INV-2026-001', 'Ann Smith', 49.90, '2026-01-15'),"
    " (11, 1, 'INV-2026-007', 'Ann Smith', 12.00, '2026-02-20'),"
    " (12, 2, 'INV-2026-003', 'Bob Jones', 99.00, '2026-01-30')",
]

KEYS = {"customers": ("id",), "invoices": ("id",)}

REWRITTEN = """\
customers:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
    street: {category: contact.postal_address}
  erasure:
    strategy: rewrite
    rewrite:
      email: {pseudonym: hmac}
      name: null
      street: null
invoices:
  columns:
    number: {category: financial.invoices}
    billing_name: {category: identity.name}
    amount: {category: financial.invoices}
  erasure: {strategy: delete}
  legal_hold:
    retain: P10Y
    after: transaction
    reason: Accounting law requires invoices to be kept for ten years.
"""
"""The customer row is rewritten: the held invoices may go on pointing to it."""

DELETED = revised(
    REWRITTEN,
    (
        "  erasure:\n    strategy: rewrite\n    rewrite:\n      email: {pseudonym: hmac}\n"
        "      name: null\n      street: null\n",
        "  erasure: {strategy: delete}\n",
    ),
)
"""The customer row would be deleted from under its held invoices."""

ANN = Person("Ann Smith", "ann@example.org", texts=("Linienstraße 5",))


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL."""
    customers = matching(connection, "SELECT id, email FROM customers", person.owns_email)
    return nonempty(
        {
            "customers": customers,
            "invoices": keys(
                connection, "SELECT id FROM invoices WHERE customer_id IN :ids", ids=customers
            ),
        }
    )


shop = seeded(SCHEMA, SEED)


def test_the_oracle_finds_ann_and_her_invoices(shop: Company) -> None:
    """The hand-written SQL finds Ann's customer row and her two invoices."""
    assert shop.found(theirs, ANN) == {"customers": {(1,)}, "invoices": {(10,), (11,)}}
    # The residue search sees the person where the seed put them.
    assert shop.residue(ANN) == [
        "customers.email",
        "customers.name",
        "customers.street",
        "invoices.billing_name",
    ]
    assert shop.broken_links() == []


def test_the_rewriting_declaration_checks_without_errors(shop: Company) -> None:
    """A rewritten parent of held rows is a plan that can succeed."""
    assert errors(shop, REWRITTEN) == []


def test_access_shows_the_held_invoices_with_the_customer(shop: Company, tmp_path: Path) -> None:
    """Ann's report holds her customer row and both invoices."""
    access(shop, tmp_path, REWRITTEN, KEYS, theirs, ANN)


def test_deleting_the_parent_of_held_rows_is_refused_by_check_and_at_run_time(
    shop: Company, tmp_path: Path
) -> None:
    """A D error on the deleted customers; the request fails, not retryable, nothing changed."""
    found = errors(shop, DELETED)
    assert any(
        problem.has_d_code and problem.table in ("customers", "invoices") for problem in found
    ), found
    assert_refused(shop, tmp_path, DELETED, ("erasure", ANN), naming=("invoices", "customers"))


def test_rewriting_the_parent_keeps_the_held_rows_and_the_person_restricted(
    shop: Company, tmp_path: Path
) -> None:
    """The invoices stay byte for byte, the customer row is rewritten, Ann stays known."""
    held = shop.found(theirs, ANN)["invoices"]  # her invoices keep her billing name
    erasure = erase(shop, tmp_path, REWRITTEN, theirs, ANN, kept={"invoices": held})

    invoices_before, invoices_after = erasure.before["invoices"], erasure.after["invoices"]
    assert {key: invoices_after[key] for key in held} == {key: invoices_before[key] for key in held}
    customer = erasure.after["customers"][(1,)]
    assert (customer["name"], customer["street"]) == (None, None)
    assert customer["email"] != "ann@example.org"
    assert erasure.tables["invoices"]["action"] == "retained", erasure.tables["invoices"]
    assert erasure.subject.restricted and not erasure.subject.erased
